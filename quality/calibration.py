"""Rule calibration (the ESConv paper's Table 7): which thresholds agree best with reviewers.

Reviewers label a seeded random sample of a run's judged conversations "approved" or "not
approved", each on their own. Every rule set of a grid of thresholds is then applied to the
sampled conversations — the facts are gathered once, set-based, and `quality.rules.judge` is
applied per candidate without further queries — and compared with each reviewer by Cohen's
kappa (`quality.agreement`). A row of the table can be made the rule set in force: it is saved
as a new version through `quality.rule_sets.save_rule_set_version`, like an admin edit.
See docs/quality.md, "Rule calibration".
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.models import Conversation
from crowd.models import CollectionRun
from quality.agreement import cohen_kappa, cohen_kappa_of_counts
from quality.claims import calibration_claim_cutoff, live_calibration_claims
from quality.errors import QualityError
from quality.judging import gather_facts
from quality.models import (
    AutoApprovalRuleSet,
    CalibrationClaim,
    CalibrationItem,
    CalibrationLabel,
    CalibrationSample,
    Outcome,
)
from quality.rule_sets import current_rule_set, save_rule_set_version
from quality.rules import ConversationFacts, judge

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The thresholds tried, one axis per rule-set field (3^6 = 729 candidates). The middle value
# of each is the paper's default.
GRID: dict[str, tuple[float | int, ...]] = {
    "min_improvement": (0, 1, 2),
    "min_supporter_avg_words": (6.0, 8.0, 10.0),
    "min_empathy": (2, 3, 4),
    "min_relevance": (3, 4, 5),
    "supporter_criteria_required": (2, 3, 4),
    "min_seeker_avg_words": (4.0, 6.0, 8.0),
}
# Short column headings of the table page (the field names are the cells' titles).
GRID_HEADINGS = {
    "min_improvement": "improvement ≥",
    "min_supporter_avg_words": "supporter words ≥",
    "min_empathy": "empathy ≥",
    "min_relevance": "relevance ≥",
    "supporter_criteria_required": "k of 4",
    "min_seeker_avg_words": "seeker words ≥",
}
# What a reviewer's button posts.
LABEL_APPROVED = "approved"
LABEL_NOT_APPROVED = "not_approved"
LABELS = {LABEL_APPROVED: True, LABEL_NOT_APPROVED: False}
DEFAULT_SAMPLE_SIZE = 100
MAX_SAMPLE_SIZE = 1000

Thresholds = dict[str, float | int]


# --------------------------------------------------------------------------- the sample


def sample_population(run: CollectionRun) -> QuerySet[Conversation]:
    """What a sample is drawn from: the run's conversations the rules judged past the filter.

    Filtered conversations are left out (the filter is not what is calibrated, and every
    candidate would refuse them alike), and so are withdrawn ones and chats never judged.
    """
    return Conversation.objects.filter(
        run=run,
        withdrawn_at__isnull=True,
        quality_status__in=[
            Conversation.QualityStatus.APPROVED,
            Conversation.QualityStatus.REVIEW,
            Conversation.QualityStatus.REJECTED,
        ],
    )


def draw_sample(
    run: CollectionRun, *, size: int, seed: int, by: User | None = None
) -> CalibrationSample:
    """Draw the run's calibration sample once: `size` conversations chosen with `seed`.

    The ids are sorted before the draw, so one seed over one population gives one sample on
    any database. A run has one sample; drawing again is refused (its labels would be lost).
    """
    if not 1 <= size <= MAX_SAMPLE_SIZE:
        raise QualityError(f"the sample size must be from 1 to {MAX_SAMPLE_SIZE}")
    ids = sorted(sample_population(run).values_list("pk", flat=True))
    if not ids:
        raise QualityError(f"run {run.name!r} has no judged conversations to sample yet")
    chosen = random.Random(seed).sample(ids, min(size, len(ids)))
    try:
        with transaction.atomic():
            sample = CalibrationSample.objects.create(run=run, seed=seed, size=size, created_by=by)
            CalibrationItem.objects.bulk_create(
                CalibrationItem(sample=sample, conversation_id=pk, position=i)
                for i, pk in enumerate(chosen)
            )
    except IntegrityError as exc:
        raise QualityError(f"run {run.name!r} already has a calibration sample") from exc
    return sample


def sample_of(run: CollectionRun) -> CalibrationSample | None:
    return CalibrationSample.objects.filter(run=run).first()


# --------------------------------------------------------------------------- labelling


def _take(conversation_id: int, reviewer: User) -> bool:
    """Claim one conversation for `reviewer`: renew their own claim, take over an expired one,
    or insert a new one. A conditional UPDATE, then an INSERT the unique key settles."""
    now = timezone.now()
    with transaction.atomic():
        taken = CalibrationClaim.objects.filter(conversation_id=conversation_id).filter(
            Q(reviewer=reviewer) | Q(claimed_at__lt=calibration_claim_cutoff())
        )
        if taken.update(reviewer=reviewer, claimed_at=now):
            return True
        try:
            with transaction.atomic():
                CalibrationClaim.objects.create(
                    conversation_id=conversation_id, reviewer=reviewer, claimed_at=now
                )
        except IntegrityError:
            return False  # another reviewer claimed it a moment ago
    return True


def _unlabelled(sample: CalibrationSample, reviewer: User) -> QuerySet[CalibrationItem]:
    mine = CalibrationLabel.objects.filter(reviewer=reviewer).values("conversation_id")
    return sample.items.exclude(conversation_id__in=mine).order_by("position")


def next_to_label(sample: CalibrationSample, reviewer: User) -> Conversation | None:
    """The conversation `reviewer` labels next, claimed for them; None when there is none now.

    Their own live claim comes first (a reloaded page shows the same conversation); otherwise
    the first conversation of the draw they have not labelled and nobody else holds. Every
    reviewer goes through the whole sample, so their labels overlap.
    """
    todo = _unlabelled(sample, reviewer)
    held = live_calibration_claims().filter(
        reviewer=reviewer, conversation_id__in=todo.values("conversation_id")
    )
    own = held.values_list("conversation_id", flat=True).first()
    if own is not None and _take(own, reviewer):
        return Conversation.objects.get(pk=own)
    others = live_calibration_claims().exclude(reviewer=reviewer).values("conversation_id")
    for conversation_id in todo.exclude(conversation_id__in=others).values_list(
        "conversation_id", flat=True
    ):
        if _take(conversation_id, reviewer):
            return Conversation.objects.get(pk=conversation_id)
    return None


def record_label(
    sample: CalibrationSample, conversation_id: int, reviewer: User, label: str
) -> CalibrationLabel:
    """Store `reviewer`'s label of a sampled conversation they hold, and release the claim.

    All or nothing: a bad label, a conversation outside the sample, a claim another reviewer
    has taken over, or a second label of the same conversation writes nothing.
    """
    if label not in LABELS:
        raise QualityError("choose “Approve” or “Do not approve”")
    if not sample.items.filter(conversation_id=conversation_id).exists():
        raise QualityError("this conversation is not in the calibration sample")
    with transaction.atomic():
        released = CalibrationClaim.objects.filter(
            conversation_id=conversation_id, reviewer=reviewer
        ).delete()[0]
        if not released:
            raise QualityError("your hold on this conversation expired; here is the next one")
        try:
            with transaction.atomic():
                return CalibrationLabel.objects.create(
                    conversation_id=conversation_id, reviewer=reviewer, approved=LABELS[label]
                )
        except IntegrityError as exc:
            raise QualityError("you have labelled this conversation already") from exc


def labels_by_reviewer(sample: CalibrationSample) -> dict[str, dict[int, bool]]:
    """Each reviewer's labels of the sample, kept apart: username -> {conversation: approved}."""
    labels: dict[str, dict[int, bool]] = defaultdict(dict)
    for username, conversation_id, approved in (
        CalibrationLabel.objects.filter(conversation_id__in=sample.items.values("conversation_id"))
        .order_by("reviewer__username", "conversation_id")
        .values_list("reviewer__username", "conversation_id", "approved")
    ):
        labels[username][conversation_id] = approved
    return dict(labels)


# --------------------------------------------------------------------------- the table


def grid() -> list[Thresholds]:
    """Every combination of GRID's values, in a fixed order."""
    names = list(GRID)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*GRID.values())]


def thresholds_of(rule_set: AutoApprovalRuleSet) -> Thresholds:
    return {name: getattr(rule_set, name) for name in GRID}


def candidate(
    base: AutoApprovalRuleSet, thresholds: Mapping[str, float | int]
) -> AutoApprovalRuleSet:
    """An unsaved rule set: `base` (the filter, the no-survey rule) with these thresholds."""
    rule_set = copy.copy(base)
    for name, value in thresholds.items():
        setattr(rule_set, name, value)
    return rule_set


def _unflagged(facts: ConversationFacts) -> ConversationFacts:
    """The facts without open flags: a flag holds a conversation back under every candidate,
    so it says nothing about which thresholds fit the reviewers."""
    return dataclasses.replace(facts, open_flags=[])


@dataclass
class Row:
    """One candidate rule set: its thresholds, kappa with each reviewer, and their mean."""

    thresholds: Thresholds
    kappas: dict[str, float | None]
    mean: float | None
    approved: int  # how many sampled conversations this candidate approves
    in_force: bool = False


@dataclass
class Table:
    run: CollectionRun
    sample: CalibrationSample | None
    reviewers: list[str] = field(default_factory=list)
    label_counts: dict[str, int] = field(default_factory=dict)
    # (reviewer a, reviewer b, conversations both labelled, kappa)
    inter_reviewer: list[tuple[str, str, int, float | None]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    rule_set_version: int = 0
    sampled: int = 0

    @property
    def labelled(self) -> bool:
        return bool(self.reviewers)


def mean_kappa(kappas: Mapping[str, float | None]) -> float | None:
    """The mean over reviewers; undefined when any reviewer's kappa is (it would hide them)."""
    values = list(kappas.values())
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None) / len(values)


def sort_rows(rows: list[Row]) -> list[Row]:
    """Highest mean kappa first; undefined means last; ties keep the grid's order."""
    return sorted(rows, key=lambda r: (r.mean is None, -(r.mean or 0.0)))


def _inter_reviewer(
    labels: Mapping[str, Mapping[int, bool]],
) -> list[tuple[str, str, int, float | None]]:
    pairs = []
    for a, b in itertools.combinations(sorted(labels), 2):
        both = sorted(set(labels[a]) & set(labels[b]))
        kappa = cohen_kappa([(labels[a][pk], labels[b][pk]) for pk in both])
        pairs.append((a, b, len(both), kappa))
    return pairs


def evaluate(
    labels: Mapping[str, Mapping[int, bool]],
    facts: Mapping[int, ConversationFacts],
    base: AutoApprovalRuleSet,
    candidates: list[Thresholds],
) -> list[Row]:
    """Kappa of every candidate with every reviewer, over the conversations each labelled.

    Pure: no queries. Kappa depends only on the confusion counts, so candidates with the same
    counts share one scikit-learn call (each costs about a millisecond, judging microseconds).
    """
    ids = sorted(facts)
    plain = [_unflagged(facts[pk]) for pk in ids]
    theirs = {name: [(pk, given[pk]) for pk in sorted(given)] for name, given in labels.items()}
    cache: dict[frozenset[tuple[tuple[bool, bool], int]], float | None] = {}
    rows = []
    for thresholds in candidates:
        rules = candidate(base, thresholds)
        approved = [judge(f, rules).outcome == Outcome.APPROVED for f in plain]
        predicted = dict(zip(ids, approved, strict=True))
        kappas: dict[str, float | None] = {}
        for reviewer, given in theirs.items():
            counts = Counter((label, predicted[pk]) for pk, label in given)
            key = frozenset(counts.items())
            if key not in cache:
                cache[key] = cohen_kappa_of_counts(counts)
            kappas[reviewer] = cache[key]
        rows.append(Row(dict(thresholds), kappas, mean_kappa(kappas), sum(approved)))
    return rows


def calibration_table(run: CollectionRun) -> Table:
    """The whole calibration table of a run, sorted by mean kappa (empty before any label)."""
    sample = sample_of(run)
    base = current_rule_set()
    table = Table(run=run, sample=sample, rule_set_version=base.version)
    if sample is None:
        return table
    table.sampled = sample.items.count()
    labels = labels_by_reviewer(sample)
    if not labels:
        return table
    table.reviewers = sorted(labels)
    table.label_counts = {name: len(theirs) for name, theirs in labels.items()}
    table.inter_reviewer = _inter_reviewer(labels)
    labelled = sorted({pk for theirs in labels.values() for pk in theirs})
    rows = evaluate(labels, gather_facts(labelled), base, grid())
    in_force = thresholds_of(base)
    for row in rows:
        row.in_force = row.thresholds == in_force
    table.rows = sort_rows(rows)
    return table


# --------------------------------------------------------------------------- activation


def parse_thresholds(posted: Mapping[str, Any]) -> Thresholds:
    """The thresholds of a grid row from posted text; anything outside the grid is refused."""
    thresholds: Thresholds = {}
    for name, allowed in GRID.items():
        text = str(posted.get(name, "")).strip()
        match = [value for value in allowed if _same(text, value)]
        if not match:
            raise QualityError(f"{name} must be one of {', '.join(map(str, allowed))}")
        thresholds[name] = match[0]
    return thresholds


def _same(text: str, value: float | int) -> bool:
    try:
        return float(text) == float(value)
    except ValueError:
        return False


def activate(run: CollectionRun, thresholds: Thresholds, *, by: User | None) -> AutoApprovalRuleSet:
    """Make a calibration row the rule set in force, as a new version (an admin edit's path).

    Existing decisions keep pointing at the versions they used; nothing is judged again here
    (`run_quality_control --rejudge` does that, when asked).
    """
    base = current_rule_set()
    table_row = _row_for(run, base, thresholds)
    mean = "n/a" if table_row is None or table_row.mean is None else f"{table_row.mean:.3f}"
    rule_set = candidate(base, thresholds)
    rule_set.note = f"Calibration on run {run.name}: mean kappa {mean}"[:200]
    return save_rule_set_version(rule_set, by=by)


def _row_for(run: CollectionRun, base: AutoApprovalRuleSet, thresholds: Thresholds) -> Row | None:
    sample = sample_of(run)
    labels = labels_by_reviewer(sample) if sample else {}
    if not labels:
        return None
    labelled = sorted({pk for theirs in labels.values() for pk in theirs})
    return evaluate(labels, gather_facts(labelled), base, [thresholds])[0]


# --------------------------------------------------------------------------- plain data


def table_as_dict(table: Table) -> dict[str, Any]:
    """The table as JSON-safe data (`calibrate_rules --format json`); undefined kappa is None."""
    return {
        "run": table.run.name,
        "rule_set_version": table.rule_set_version,
        "sampled": table.sampled,
        "grid": {name: list(values) for name, values in GRID.items()},
        "reviewers": [
            {"username": name, "labels": table.label_counts[name]} for name in table.reviewers
        ],
        "inter_reviewer": [
            {"reviewers": [a, b], "overlap": n, "kappa": _rounded(k)}
            for a, b, n, k in table.inter_reviewer
        ],
        "rows": [
            {
                "thresholds": row.thresholds,
                "kappa": {name: _rounded(k) for name, k in row.kappas.items()},
                "mean_kappa": _rounded(row.mean),
                "approved": row.approved,
                "in_force": row.in_force,
            }
            for row in table.rows
        ],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def progress_of(sample: CalibrationSample, reviewer: User) -> dict[str, int]:
    """How far `reviewer` is: labelled, of how many, and how many others hold right now."""
    total = sample.items.count()
    todo = _unlabelled(sample, reviewer).values("conversation_id")
    held = live_calibration_claims().exclude(reviewer=reviewer).filter(conversation_id__in=todo)
    return {"labelled": total - todo.count(), "total": total, "held_by_others": held.count()}
