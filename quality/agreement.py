"""Cohen's kappa, the one implementation behind re-labelling agreement and rule calibration.

scikit-learn's `cohen_kappa_score` does the arithmetic; this module only decides what an
undefined kappa is. Kappa is (p_o − p_e) / (1 − p_e); when chance agreement p_e is total (both
sides used one and the same label only), it is 0/0, which scikit-learn reports as nan and we
report as None, so pages show "n/a" or "—" and JSON says null.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

# A label: anything hashable (a strategy name, True/False for approved or not).
Label = TypeVar("Label", bound=Hashable)


def cohen_kappa(pairs: Iterable[tuple[Label, Label]]) -> float | None:
    """Cohen's kappa of two label sequences given as (a, b) pairs; None when undefined."""
    return cohen_kappa_of_counts(Counter(pairs))


def cohen_kappa_of_counts(counts: Mapping[tuple[Label, Label], int]) -> float | None:
    """Cohen's kappa from how often each (a, b) pair occurs; None when undefined.

    Kappa depends only on these counts (the confusion matrix), so each distinct pair is given
    to scikit-learn once with its count as the sample weight: the same value as the long
    sequences, and a key callers can cache on (calibration compares 729 rule sets).
    """
    pairs = [pair for pair, n in counts.items() if n > 0]
    if not pairs:
        return None
    # Imported here: scikit-learn takes most of a second to import, and only staff pages and
    # the calibration command need it (not the chat server's start).
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score

    left = [a for a, _ in pairs]
    right = [b for _, b in pairs]
    labels = sorted({*left, *right}, key=repr)
    with warnings.catch_warnings():
        # Total chance agreement: the nan below is the answer, not a problem to warn about.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message="A single label was found")
        value = float(
            cohen_kappa_score(
                left, right, labels=labels, sample_weight=[counts[pair] for pair in pairs]
            )
        )
    return None if math.isnan(value) else value
