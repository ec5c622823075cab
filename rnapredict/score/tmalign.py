"""Sequence-independent structure alignment: TM-align as in US-align (default ``-TMscore 0``).

Flow of US-align's ``TMalign_main``: five initial alignments (gapless threading, secondary
structure, local fragment superposition, secondary structure + superposition, fragment gapless
threading), each scored by the TM-score superposition search and refined by iterated dynamic
programming on the TM-score matrix; the best alignment is then superposed once more, pairs
farther than ``score_d8`` are dropped, and the final TM-scores are computed on the rest with
the RNA d0 of each structure's length.
"""

from __future__ import annotations

import numpy as np

from rnapredict.score.dp import DPWorkspace, nw_tm
from rnapredict.score.fastfit import tm_search_seq
from rnapredict.score.rnasec import rna_secondary
from rnapredict.score.superpose import apply, superposed_rmsd
from rnapredict.score.tminit import (
    initial_fragment_threading,
    initial_gapless,
    initial_local,
    initial_ss,
    initial_ssplus,
)
from rnapredict.score.tmscore import TMResult
from rnapredict.score.tmsearch import SearchParams, d0_rna, d0_search_of, tm_search

#: Gap penalties tried by the DP refinement (US-align ``gap_open``).
GAP_OPEN = (-0.6, 0.0)


class _Aligner:
    """State of one TM-align run (x = model [xlen, 3], y = reference [ylen, 3])."""

    def __init__(self, x: np.ndarray, y: np.ndarray, p: SearchParams) -> None:
        self.x, self.y, self.p = x, y, p
        self.ws = DPWorkspace(len(x), len(y))
        self.rot, self.trans = np.eye(3), np.zeros(3)
        self.best_tm = -1.0
        self.best_map = np.full(len(y), -1, dtype=np.int64)

    def detailed(self, y2x: np.ndarray, step: int = 40) -> float:
        """TM-score search on an alignment; sets the current superposition.

        Runs seed by seed in US-align's order (compiled) so that equal scores of different
        alignments stay exactly equal and the first one wins, as in US-align.
        """
        j = np.nonzero(y2x >= 0)[0]
        xa = np.ascontiguousarray(self.x[y2x[j]])
        ya = np.ascontiguousarray(self.y[j])
        score, self.rot, self.trans = tm_search_seq(
            xa, ya, self.p.d0, self.p.d0_search, step, self.p.score_d8
        )
        return score / self.p.lnorm

    def keep(self, tm: float, y2x: np.ndarray) -> None:
        if tm > self.best_tm:
            self.best_tm, self.best_map = tm, y2x.copy()

    def dp_iter(self, g1: int, g2: int, max_iter: int) -> tuple[float, np.ndarray]:
        """Iterated DP on the TM-score matrix from the current superposition (``DP_iter``)."""
        best, best_map = -1.0, self.best_map
        d02 = self.p.d0 * self.p.d0
        for g in range(g1, g2):
            old = 0.0
            for it in range(max_iter):
                y2x = nw_tm(apply(self.x, self.rot, self.trans), self.y, d02, GAP_OPEN[g], self.ws)
                tm = self.detailed(y2x)
                if tm > best:
                    best, best_map = tm, y2x
                if it > 0 and abs(old - tm) < 1e-6:
                    break
                old = tm
        return best, best_map

    def try_initial(self, y2x: np.ndarray, threshold: float, g1: int, max_iter: int) -> None:
        """Score an initial alignment, keep it if best, refine it by DP if promising."""
        tm = self.detailed(y2x)
        self.keep(tm, y2x)
        if tm > self.best_tm * threshold:
            tm_dp, map_dp = self.dp_iter(g1, 2, max_iter)
            self.keep(tm_dp, map_dp)


def tm_align(
    model_xyz: np.ndarray,
    ref_xyz: np.ndarray,
    model_seq: str,
    ref_seq: str,
    *,
    atom: str = "C3'",
) -> TMResult:
    """TM-align of a model onto a reference (both one representative atom per residue).

    Args:
        model_xyz: [Lm, 3] model coordinates (Å); ref_xyz: [Lr, 3] reference coordinates (Å).
        model_seq, ref_seq: one-letter sequences (for the secondary-structure seed).
        atom: representative atom name (for the secondary-structure distance window).

    Returns:
        :class:`TMResult` whose ``pairs`` are the aligned (model, reference) indices kept for
        the final score (distance ≤ score_d8 after superposition).
    """
    x = np.asarray(model_xyz, dtype=np.float64)
    y = np.asarray(ref_xyz, dtype=np.float64)
    xlen, ylen = len(x), len(y)
    p = SearchParams.for_lengths(xlen, ylen)
    al = _Aligner(x, y, p)
    ddcc = 0.1 if p.lnorm <= 40 else 0.4
    secx, secy = rna_secondary(model_seq, x, atom), rna_secondary(ref_seq, y, atom)

    rounds = 2 if p.fast else 30
    al.try_initial(initial_gapless(x, y, p), 0.0, 0, rounds)
    al.try_initial(initial_ss(secx, secy, al.ws), 0.2, 0, rounds)
    local = initial_local(x, y, p)
    if local is not None:
        al.try_initial(local, ddcc, 0, 2)
    al.try_initial(initial_ssplus(x, y, secx, secy, al.best_map, p, al.ws), ddcc, 0, rounds)
    al.try_initial(initial_fragment_threading(x, y, p), ddcc, 1, 2)

    # Final superposition of the best alignment; drop pairs beyond score_d8.
    y2x = al.best_map
    al.detailed(y2x, step=40 if p.fast else 1)
    j = np.nonzero(y2x >= 0)[0]
    i = y2x[j]
    d = np.linalg.norm(apply(x[i], al.rot, al.trans) - y[j], axis=1)
    keep = d <= p.score_d8
    pairs = np.stack([i[keep], j[keep]], axis=1)
    xa, ya = x[pairs[:, 0]], y[pairs[:, 1]]
    d0r, d0m = d0_rna(ylen), d0_rna(xlen)
    by_ref = tm_search(xa, ya, d0r, d0_search_of(d0r))
    by_model = by_ref if d0m == d0r else tm_search(xa, ya, d0m, d0_search_of(d0m))
    return TMResult(
        tm_ref=by_ref.score / ylen,
        tm_model=by_model.score / xlen,
        rmsd=superposed_rmsd(xa, ya) if len(pairs) else float("nan"),
        aligned=len(pairs),
        len_ref=ylen,
        len_model=xlen,
        d0_ref=d0r,
        d0_model=d0m,
        gdt_ts=float(by_ref.gdt_counts.sum()) / (4.0 * ylen),
        rot=by_ref.rot,
        trans=by_ref.trans,
        pairs=pairs,
    )
