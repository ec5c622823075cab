"""lDDT (local Distance Difference Test, Mariani et al. 2013), superposition-free.

For every pair of atoms in different residues closer than the inclusion radius in the
reference, the pair is preserved at threshold t when the model distance differs by less than
t; lDDT is the mean over pairs and thresholds (0.5, 1, 2, 4 Å). Reference atoms the model lacks
count as not preserved. Pairs come from a cell-list neighbour search on the reference, so the
cost is O(N·k), never a dense N×N matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnapredict.score.neighbors import point_pairs

THRESHOLDS = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class LDDTResult:
    """Global lDDT (0–1) and per-residue lDDT [L] (NaN for residues with no pair)."""

    score: float
    per_residue: np.ndarray


def lddt(
    model_xyz: np.ndarray,
    ref_xyz: np.ndarray,
    atom_res: np.ndarray | None = None,
    *,
    radius: float = 15.0,
    n_residues: int | None = None,
    thresholds: tuple[float, ...] = THRESHOLDS,
) -> LDDTResult:
    """lDDT of a model against a reference with matched atoms.

    Args:
        model_xyz: [N, 3] model atoms (Å) in reference order, NaN where the model lacks one.
        ref_xyz: [N, 3] reference atoms (Å); rows with NaN are ignored.
        atom_res: [N] residue index of each atom (default: one atom per residue).
        radius: inclusion radius (Å) in the reference (15; 30 for nucleic acids as in AF3).
        n_residues: number of residues for the per-residue array (default max(atom_res)+1).
        thresholds: distance-difference thresholds (Å).

    Returns:
        :class:`LDDTResult`.
    """
    model_xyz = np.asarray(model_xyz, dtype=np.float64).reshape(-1, 3)
    ref_xyz = np.asarray(ref_xyz, dtype=np.float64).reshape(-1, 3)
    n = len(ref_xyz)
    res = np.arange(n) if atom_res is None else np.asarray(atom_res, dtype=np.int64)
    n_res = int(res.max()) + 1 if n_residues is None and n else (n_residues or 0)
    pairs, d_ref = point_pairs(ref_xyz, radius)
    if len(pairs):
        other = res[pairs[:, 0]] != res[pairs[:, 1]]
        pairs, d_ref = pairs[other], d_ref[other]
    if len(pairs) == 0:
        return LDDTResult(float("nan"), np.full(n_res, np.nan))
    d_model = np.linalg.norm(model_xyz[pairs[:, 0]] - model_xyz[pairs[:, 1]], axis=1)
    diff = np.abs(d_model - d_ref)
    frac = np.zeros(len(pairs))
    for t in thresholds:
        frac += np.where(np.isfinite(diff), diff < t, False)
    frac /= len(thresholds)
    total = np.zeros(n_res)
    count = np.zeros(n_res)
    for col in (0, 1):
        np.add.at(total, res[pairs[:, col]], frac)
        np.add.at(count, res[pairs[:, col]], 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_res = np.where(count > 0, total / count, np.nan)
    return LDDTResult(float(frac.mean()), per_res)
