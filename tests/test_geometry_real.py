"""Geometry on experimental structures (../shared/data/structures; skipped where absent)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.convert import structure_to_atoms
from rnapredict.geometry.from_c1 import c1_to_atoms
from rnapredict.geometry.nerf import torsions_to_atoms
from rnapredict.geometry.torsion_fit import fit_torsions
from rnapredict.geometry.torsions import atoms_to_torsions
from rnapredict.io.pdbio import read_structure
from rnapredict.score.basepairs import canonical_pair_table
from rnapredict.score.superpose import rmsd, superposed_rmsd
from tests.conftest import shared_path

_S = ideal.slot_index("A")


def _trna() -> tuple[str, torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    model = read_structure(shared_path("data", "structures", "1ehz.cif"))
    atoms, mask = structure_to_atoms(model)
    return model, torch.from_numpy(np.nan_to_num(atoms)), torch.from_numpy(mask), atoms, mask


def test_native_torsions_round_trip_and_known_values() -> None:
    model, atoms, mask, _, _ = _trna()
    tors, tmask, first = atoms_to_torsions(model.seq, atoms, mask)
    deg = np.degrees(tors.numpy())
    # tRNA-Phe is mostly A-form: median backbone torsions near the A-RNA values.
    med = np.median(deg[tmask.numpy()[:, 0], 0])
    assert -80 < med < -55  # α
    assert 70 < np.median(deg[:, 3]) < 90  # δ, C3'-endo
    rebuilt, rmask = torsions_to_atoms(model.seq, tors, first)
    again, amask, _ = atoms_to_torsions(model.seq, rebuilt, rmask)
    diff = torch.remainder(again - tors + math.pi, 2 * math.pi) - math.pi
    assert diff[tmask & amask].abs().max() < 1e-4


@pytest.mark.slow
def test_fitted_torsions_rebuild_trna_below_1A() -> None:
    model, atoms, mask, native, nmask = _trna()
    tors, _, first = atoms_to_torsions(model.seq, atoms, mask)
    fitted = fit_torsions(model.seq, tors, first, atoms, mask, iters=8)
    rebuilt, rmask = torsions_to_atoms(model.seq, fitted, first)
    both = nmask & rmask.numpy()
    assert rmsd(rebuilt.numpy()[both], native[both]) < 1.0  # measured 0.45 Å


def test_c1_trace_rebuild_of_trna() -> None:
    model, atoms, _, native, nmask = _trna()
    partner = torch.from_numpy(canonical_pair_table(model))
    assert int((partner >= 0).sum()) >= 36  # the cloverleaf's stems (+ tertiary pairs)
    built, bmask = c1_to_atoms(model.seq, atoms[:, _S["C1'"]], partner)
    c3 = nmask[:, _S["C3'"]]
    assert superposed_rmsd(built.numpy()[c3, _S["C3'"]], native[c3, _S["C3'"]]) < 2.0
    both = nmask & bmask.numpy()
    assert superposed_rmsd(built.numpy()[both], native[both]) < 3.0
    o3 = built[:-1, _S["O3'"]]
    p = built[1:, _S["P"]]
    assert float(torch.median((o3 - p).norm(dim=-1))) < 1.7
