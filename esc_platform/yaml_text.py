"""YAML parsing for the platform's files (tutorial content, run files, safety lexicons).

Always the safe loader; libyaml's C implementation when PyYAML was built with it (about ten
times faster on the tutorial's content), the pure-Python one otherwise. Both build the same
data and raise the same `yaml.YAMLError`.
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506  (a safe loader, C or Python)
