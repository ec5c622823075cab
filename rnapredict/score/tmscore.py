"""TM-score of a fixed residue correspondence (US-align ``-TMscore 1`` / the final step of
TM-align).

Given matched representative-atom coordinates, run the TM-score superposition search twice
(normalized by the reference length and by the model length, each with its own RNA d0) and
report RMSD over the matched pairs after the optimal Kabsch fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnapredict.score.superpose import superposed_rmsd
from rnapredict.score.tmsearch import d0_rna, d0_search_of, tm_search


@dataclass(frozen=True)
class TMResult:
    """TM-score of a model against a reference.

    Attributes:
        tm_ref: TM-score normalized by the reference length (the number to report).
        tm_model: TM-score normalized by the model length.
        rmsd: RMSD (Å) over the aligned pairs after optimal superposition.
        aligned: number of aligned residue pairs.
        len_ref, len_model: residues with the representative atom in each structure.
        d0_ref, d0_model: d0 (Å) used for each normalization.
        gdt_ts: GDT-TS (0–1) over the reference length, best over the superpositions tried.
        rot, trans: superposition of the model onto the reference (``x @ rot.T + trans``).
        pairs: [K, 2] aligned (model index, reference index), indices into the residue lists
            given to the scorer.
    """

    tm_ref: float
    tm_model: float
    rmsd: float
    aligned: int
    len_ref: int
    len_model: int
    d0_ref: float
    d0_model: float
    gdt_ts: float
    rot: np.ndarray = field(repr=False)
    trans: np.ndarray = field(repr=False)
    pairs: np.ndarray = field(repr=False)


def tm_fixed_alignment(
    model_xyz: np.ndarray,
    ref_xyz: np.ndarray,
    pairs: np.ndarray,
    *,
    len_model: int | None = None,
    len_ref: int | None = None,
) -> TMResult:
    """TM-score for a given residue correspondence (superposition search, no re-alignment).

    Args:
        model_xyz: [Lm, 3] model representative atoms (Å).
        ref_xyz: [Lr, 3] reference representative atoms (Å).
        pairs: [K, 2] int (model index, reference index) of matched residues, increasing.
        len_model, len_ref: normalization lengths (default Lm and Lr).

    Returns:
        :class:`TMResult`.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    lm = len(model_xyz) if len_model is None else len_model
    lr = len(ref_xyz) if len_ref is None else len_ref
    x = np.asarray(model_xyz, dtype=np.float64)[pairs[:, 0]]
    y = np.asarray(ref_xyz, dtype=np.float64)[pairs[:, 1]]
    d0r, d0m = d0_rna(lr), d0_rna(lm)
    by_ref = tm_search(x, y, d0r, d0_search_of(d0r))
    by_model = by_ref if d0m == d0r else tm_search(x, y, d0m, d0_search_of(d0m))
    rmsd = superposed_rmsd(x, y) if len(x) else float("nan")
    return TMResult(
        tm_ref=by_ref.score / lr if lr else 0.0,
        tm_model=by_model.score / lm if lm else 0.0,
        rmsd=rmsd,
        aligned=len(pairs),
        len_ref=lr,
        len_model=lm,
        d0_ref=d0r,
        d0_model=d0m,
        gdt_ts=float(by_ref.gdt_counts.sum()) / (4.0 * lr) if lr else 0.0,
        rot=by_ref.rot,
        trans=by_ref.trans,
        pairs=pairs,
    )
