"""TM-align's local-superposition seed (US-align ``get_initial5``), compiled and parallel.

Every pair of fragments (one from each structure, on a coarse grid) is superposed, the whole
model is aligned to the reference by DP on the TM-score matrix under that superposition, and
the alignment is rated by ``get_score_fast``. Pairs are independent, so they run in parallel;
the winner is the first best in US-align's loop order, as there.
"""

from __future__ import annotations

import numpy as np

from rnapredict.score.dp import _fill_tm, _traceback
from rnapredict.score.fastfit import kabsch_sel, score_fast
from rnapredict.score.jit import jit_parallel, prange


@jit_parallel
def _rate_fragment_pairs(
    x: np.ndarray,
    y: np.ndarray,
    ix: np.ndarray,
    jy: np.ndarray,
    nf: np.ndarray,
    d02: float,
    d0: float,
    d0_search: float,
) -> tuple[np.ndarray, np.ndarray]:
    xlen, ylen = x.shape[0], y.shape[0]
    n_pairs = ix.shape[0]
    rating = np.zeros(n_pairs)
    no_sec = np.zeros(0, dtype=np.uint8)
    maps = np.full((n_pairs, ylen), -1, dtype=np.int64)
    for p in prange(n_pairs):
        n = nf[p]
        r, t = kabsch_sel(x[ix[p] : ix[p] + n], y[jy[p] : jy[p] + n], np.ones(n, dtype=np.bool_))
        xs = np.empty((xlen, 3))
        for k in range(xlen):
            for a in range(3):
                xs[k, a] = r[a, 0] * x[k, 0] + r[a, 1] * x[k, 1] + r[a, 2] * x[k, 2] + t[a]
        path = np.zeros((xlen + 1, ylen + 1), dtype=np.bool_)
        vert = np.zeros((xlen + 1, ylen + 1), dtype=np.bool_)
        _fill_tm(xs, y, d02, 0.0, path, vert, no_sec, no_sec, 0.0)
        m = _traceback(path, vert, xlen, ylen)
        maps[p] = m
        rating[p] = score_fast(x, y, m, d0, d0_search)
    return rating, maps


def best_local_alignment(
    x: np.ndarray,
    y: np.ndarray,
    frag_pairs: list[tuple[int, int, int]],
    d02: float,
    d0: float,
    d0_search: float,
) -> np.ndarray | None:
    """Best-rated alignment over fragment pairs ``(start in x, start in y, length)``.

    Returns ``y2x`` [ylen] of the first pair with the highest positive rating, or None.
    """
    if not frag_pairs:
        return None
    fp = np.asarray(frag_pairs, dtype=np.int64)
    rating, maps = _rate_fragment_pairs(
        np.ascontiguousarray(x), np.ascontiguousarray(y), fp[:, 0], fp[:, 1], fp[:, 2],
        float(d02), float(d0), float(d0_search),
    )  # fmt: skip
    best = int(np.argmax(rating))
    return maps[best] if rating[best] > 0.0 else None
