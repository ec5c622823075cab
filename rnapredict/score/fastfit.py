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


@jit
def _score_cut(
    xa: np.ndarray,
    ya: np.ndarray,
    r: np.ndarray,
    t: np.ndarray,
    d: float,
    d0: float,
    d8: float,
    sel: np.ndarray,
) -> float:
    """US-align ``score_fun8``: TM sum (pairs beyond d8 dropped when d8 > 0) and the pairs
    closer than d (widened by 0.5 Å steps until at least 3) written into ``sel``."""
    n = xa.shape[0]
    dis = _sq_dist(xa, ya, r, t)
    d02 = d0 * d0
    d8c = d8 * d8
    score = 0.0
    for k in range(n):
        if d8 <= 0.0 or dis[k] <= d8c:
            score += 1.0 / (1.0 + dis[k] / d02)
    inc = 0
    while True:
        dd = d + inc * 0.5
        n_cut = 0
        for k in range(n):
            sel[k] = dis[k] < dd * dd
            if sel[k]:
                n_cut += 1
        if n_cut < 3 and n > 3:
            inc += 1
        else:
            break
    return score


@jit
def tm_search_seq(
    xa: np.ndarray, ya: np.ndarray, d0: float, d0_search: float, step: int, d8: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """US-align ``TMscore8_search``, seed by seed in US-align's order (bit-stable ties).

    Args:
        xa, ya: [N, 3] matched coordinates (Å); d0, d0_search (Å); step: seed stride;
        d8: drop pairs beyond d8 Å from the score (≤ 0: keep all).

    Returns:
        best TM-score sum, rotation [3, 3], translation [3] (``x @ R.T + t``).
    """
    n = xa.shape[0]
    best = -1.0
    best_r = np.eye(3)
    best_t = np.zeros(3)
    if n == 0:
        return 0.0, best_r, best_t
    lmin = min(4, n)
    frags = []
    for i in range(5):
        f = int(n / 2.0**i)
        if f <= lmin:
            frags.append(lmin)
            break
        frags.append(f)
    else:
        frags.append(lmin)
    sel = np.zeros(n, dtype=np.bool_)
    prev = np.zeros(n, dtype=np.bool_)
    for frag in frags:
        last = n - frag
        i = 0
        while True:
            prev[:] = False
            prev[i : i + frag] = True
            r, t = kabsch_sel(xa, ya, prev)
            score = _score_cut(xa, ya, r, t, d0_search - 1.0, d0, d8, sel)
            if score > best:
                best, best_r, best_t = score, r, t
            for _ in range(20):
                prev[:] = sel
                r, t = kabsch_sel(xa, ya, prev)
                score = _score_cut(xa, ya, r, t, d0_search + 1.0, d0, d8, sel)
                if score > best:
                    best, best_r, best_t = score, r, t
                same = True
                for k in range(n):
                    if sel[k] != prev[k]:
                        same = False
                        break
                if same:
                    break
            if i < last:
                i = min(i + step, last)
            else:
                break
    return best, best_r, best_t
