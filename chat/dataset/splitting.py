"""Deal whole conversations into train/valid/test files, reproducibly from a seed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from chat.dataset import DatasetError

SPLIT_NAMES = ("train", "valid", "test")


def parse_split(text: str) -> tuple[int, int, int]:
    """ "6:2:2" -> (6, 2, 2): train, valid and test shares."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or sum(map(int, parts)) == 0:
        raise DatasetError(f"split {text!r} must be three whole numbers such as 6:2:2")
    train, valid, test = (int(p) for p in parts)
    return train, valid, test


def split_paths(path: Path) -> dict[str, Path]:
    """out/esconv.json -> out/esconv.train.json, out/esconv.valid.json, out/esconv.test.json."""
    return {name: path.with_name(f"{path.stem}.{name}{path.suffix}") for name in SPLIT_NAMES}


def assign_splits(ids: Sequence[int], ratios: tuple[int, int, int], seed: int) -> dict[int, str]:
    """Deal whole conversations into train/valid/test: the same ids and seed give the same split.

    The ids are shuffled with a generator seeded by `seed` alone, then cut by the ratios
    (train and valid rounded down, test takes the rest).
    """
    shuffled = sorted(ids)
    random.Random(seed).shuffle(shuffled)
    total = sum(ratios)
    n_train = len(shuffled) * ratios[0] // total
    n_valid = len(shuffled) * ratios[1] // total
    assignment: dict[int, str] = {}
    for index, pk in enumerate(shuffled):
        if index < n_train:
            assignment[pk] = "train"
        elif index < n_train + n_valid:
            assignment[pk] = "valid"
        else:
            assignment[pk] = "test"
    return assignment
