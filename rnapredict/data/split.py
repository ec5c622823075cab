"""Split policy of ``../shared/data``: train = released before 2020-01-01, validation =
2020-01-01 … 2022-04-30; nothing released on or after the cutoff is ever read."""

from __future__ import annotations

from collections.abc import Mapping

TRAIN_BEFORE = "2020-01-01"
VAL_FROM, VAL_BEFORE = "2020-01-01", "2022-05-01"
SPLITS = ("train", "validation")


def split_of(date: str) -> str | None:
    """``train`` / ``validation`` by release date ``YYYY-MM-DD`` (None: on or after the cutoff)."""
    if date < TRAIN_BEFORE:
        return "train"
    if VAL_FROM <= date < VAL_BEFORE:
        return "validation"
    return None


def row_split(row: Mapping[str, str]) -> str | None:
    """The split of a data-set row (``release_date``, ``split``): None unless its date and its
    label agree, so a mislabelled row is never read."""
    split = split_of(row["release_date"])
    return split if split is not None and row["split"] == split else None


def in_split(row: Mapping[str, str], split: str) -> bool:
    """Whether a data-set row belongs to ``split`` (``train`` or ``validation``)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    return row_split(row) == split
