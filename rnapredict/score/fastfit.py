"""Compiled small fits for TM-align's initial alignments: Kabsch on a selection and US-align's
``get_score_fast`` (three successive fits scored by the TM-score sum), called thousands of
times per alignment, where numpy's per-call overhead would dominate."""

from __future__ import annotations

import numpy as np

from rnapredict.score.jit import jit


@jit
def kabsch_sel(xa: np.ndarray, ya: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kabsch fit of ``xa[sel]`` onto ``ya[sel]`` ([N, 3] each, Å): R [3, 3], t [3] with
    ``x @ R.T + t ≈ y`` (proper rotation)."""
    n = 0
    mx = np.zeros(3)
    my = np.zeros(3)
    for k in range(xa.shape[0]):
        if sel[k]:
            n += 1
            for a in range(3):
                mx[a] += xa[k, a]
                my[a] += ya[k, a]
    if n == 0:
        return np.eye(3), np.zeros(3)
    mx /= n
    my /= n
    cov = np.zeros((3, 3))
    for k in range(xa.shape[0]):
        if sel[k]:
            for a in range(3):
                for b in range(3):
                    cov[a, b] += (xa[k, a] - mx[a]) * (ya[k, b] - my[b])
    u, _, vt = np.linalg.svd(cov)
    d = np.linalg.det(u @ vt)
    if d < 0:
        u[:, 2] = -u[:, 2]
    rot = u @ vt  # x @ rot maps mobile onto target
    t = my - mx @ rot
    return rot.T.copy(), t


@jit
def _sq_dist(xa: np.ndarray, ya: np.ndarray, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    n = xa.shape[0]
    out = np.empty(n)
    for k in range(n):
        s = 0.0
        for a in range(3):
            v = r[a, 0] * xa[k, 0] + r[a, 1] * xa[k, 1] + r[a, 2] * xa[k, 2] + t[a] - ya[k, a]
            s += v * v
        out[k] = s
    return out


@jit
def _tm_sum(dis: np.ndarray, d02: float) -> float:
    s = 0.0
    for k in range(dis.shape[0]):
        s += 1.0 / (1.0 + dis[k] / d02)
    return s


@jit
def score_fast(x: np.ndarray, y: np.ndarray, y2x: np.ndarray, d0: float, d0_search: float) -> float:
    """Quick three-fit TM-score sum of an alignment ``y2x`` [ylen] (US-align
    ``get_score_fast``); x [xlen, 3] model, y [ylen, 3] reference (Å)."""
    n = 0
    for j in range(y2x.shape[0]):
        if y2x[j] >= 0:
            n += 1
    if n == 0:
        return 0.0
    xa = np.empty((n, 3))
    ya = np.empty((n, 3))
    k = 0
    for j in range(y2x.shape[0]):
        if y2x[j] >= 0:
            xa[k] = x[y2x[j]]
            ya[k] = y[j]
            k += 1
    d02 = d0 * d0
    allsel = np.ones(n, dtype=np.bool_)
    r, t = kabsch_sel(xa, ya, allsel)
    dis = _sq_dist(xa, ya, r, t)
    tm = _tm_sum(dis, d02)
    if n < 3:
        return tm
    base = d0_search * d0_search
    cut = max(base, np.sort(dis)[2])
    sel = dis <= cut
    if sel.all():
        return tm  # nothing left out: US-align skips both refits
    r, t = kabsch_sel(xa, ya, sel)
    dis1 = _sq_dist(xa, ya, r, t)
    tm1 = _tm_sum(dis1, d02)
    cut = max(base + 1.0, np.sort(dis1)[2])
    sel = dis1 <= cut
    r, t = kabsch_sel(xa, ya, sel)
    tm2 = _tm_sum(_sq_dist(xa, ya, r, t), d02)
    return max(tm, max(tm1, tm2))
