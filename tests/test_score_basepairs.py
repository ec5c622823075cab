"""Base-pair / stacking annotation from 3D and dot-bracket export (tRNA-Phe golden pairs)."""

from __future__ import annotations

import numpy as np
import pytest

from rnapredict.io.pdbio import read_structure
from rnapredict.io.secondary import parse_dot_bracket
from rnapredict.io.structure import RnaStructure
from rnapredict.score.basepairs import (
    annotate,
    annotate_base_pairs,
    canonical_pair_table,
    structure_dot_bracket,
)
from tests.conftest import shared_path

#: Canonical pairs of yeast tRNA-Phe (1EHZ) among its unmodified residues: acceptor stem,
#: D stem, anticodon stem, T stem and the tertiary G19–C56 (author numbering).
TRNA_WC = {(1, 72), (2, 71), (3, 70), (4, 69), (5, 68), (6, 67), (7, 66), (11, 24), (12, 23),
           (13, 22), (19, 56), (27, 43), (28, 42), (29, 41), (50, 64), (51, 63), (52, 62),
           (53, 61)}  # fmt: skip


def trna() -> RnaStructure:
    return read_structure(shared_path("fixtures", "score", "natives", "1ehz_A.pdb"))


def numbered(model: RnaStructure, pairs: list) -> set[tuple[int, int]]:
    return {(int(model.res_ids[p.i]), int(model.res_ids[p.j])) for p in pairs}


@pytest.mark.shared
def test_trna_canonical_pairs() -> None:
    model = trna()
    pairs = annotate_base_pairs(model)
    assert numbered(model, [p for p in pairs if p.canonical]) == TRNA_WC
    lw = {(int(model.res_ids[p.i]), int(model.res_ids[p.j])): p.lw for p in pairs}
    assert lw[(15, 48)] == "tWW"  # the Levitt pair is trans Watson-Crick, not canonical
    assert lw[(4, 69)] == "cWW"  # G-U wobble counts as canonical
    assert all(p.i < p.j for p in pairs)


@pytest.mark.shared
def test_dot_bracket_from_3d_round_trips_the_pair_table() -> None:
    model = trna()
    db = structure_dot_bracket(model)
    assert len(db) == model.n_residues
    table = canonical_pair_table(model)
    np.testing.assert_array_equal(parse_dot_bracket(db), table)
    assert db.count("(") == 17 and db.count("[") == 1  # G19-C56 crosses the stems


@pytest.mark.shared
def test_stacking_and_invariance() -> None:
    model = trna()
    inter = annotate(model)
    stacked = {(s.i, s.j) for s in inter.stackings}
    # consecutive residues inside the acceptor stem stack
    assert {(0, 1), (1, 2), (2, 3)} <= stacked
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    moved = annotate(model.with_coords(model.coords @ q.T + 40.0))
    assert moved == inter


@pytest.mark.shared
def test_no_base_atoms_means_no_pairs() -> None:
    model = trna()
    backbone = model.select_atoms(np.array([("'" in a) or a.startswith("OP") or a == "P"
                                            for a in model.atom_names]))  # fmt: skip
    assert annotate_base_pairs(backbone) == []
    assert structure_dot_bracket(backbone) == "." * model.n_residues
