"""The data layer (rnapredict.data): one split rule and one PDB-structure alignment."""

from __future__ import annotations

import pytest

from rnapredict.data.allatom import allatom_rows
from rnapredict.data.c1 import c1_rows
from rnapredict.data.pdb_ss import PdbSS, native_ss
from rnapredict.data.split import in_split, row_split, split_of


@pytest.mark.parametrize(
    ("date", "split"),
    [
        ("2019-12-31", "train"),
        ("2020-01-01", "validation"),
        ("2022-04-30", "validation"),
        ("2022-05-01", None),
        ("2024-01-01", None),
    ],
)
def test_split_of_dates(date: str, split: str | None) -> None:
    assert split_of(date) == split


def test_mislabelled_row_is_in_no_split() -> None:
    row = {"release_date": "2021-03-01", "split": "train"}
    assert row_split(row) is None
    assert not in_split(row, "train") and not in_split(row, "validation")
    with pytest.raises(ValueError, match="unknown split"):
        in_split(row, "test")


def test_native_ss_alignment() -> None:
    table = {"1abc_a": PdbSS("GG-CAUCC", "((-....)", "2019-01-01")}
    row = {"target_id": "1ABC_A", "dot_bracket_pdb": ""}
    # unmodelled column dropped, case-insensitive match
    assert native_ss(row, "ggcaucc", table) == "((....)"
    assert native_ss(row, "GGCAUCC", table, before="2019-01-01") is None  # released too late
    assert native_ss(row, "GGCAUCA", table) is None  # another sequence
    own = {"target_id": "1ABC_A", "dot_bracket_pdb": "(.....)"}
    assert native_ss(own, "GGCAUCC", table) == "(.....)"  # the row's own annotation first


@pytest.mark.shared
def test_shipped_split_labels_agree_with_dates(shared_data) -> None:
    """Every row's label is the date rule's (so the readers that used to filter on the label
    alone read the same chains through the one rule)."""
    rows = c1_rows(shared_data)
    assert len(rows) == 444
    assert all(row_split(r) == r["split"] for r in rows)
    assert len(c1_rows(shared_data, "validation")) == 43
    rows = allatom_rows(shared_data)
    assert len(rows) == 312
    assert all(row_split(r) == r["split"] for r in rows)
    assert len(allatom_rows(shared_data, "validation")) == 31
