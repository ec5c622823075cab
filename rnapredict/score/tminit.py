"""TM-align's initial alignments (US-align ``TMalign.h``): gapless threading, secondary
structure, local fragment superposition, secondary structure + superposition, and fragment
gapless threading. Each returns ``y2x`` [ylen]: the index in x aligned to each residue of y,
-1 for a gap (x is the model, y the reference).
"""

from __future__ import annotations

import numpy as np

from rnapredict.score.dp import DPWorkspace, nw_score, nw_tm
from rnapredict.score.fastfit import score_fast
from rnapredict.score.localsearch import best_local_alignment
from rnapredict.score.superpose import apply, kabsch
from rnapredict.score.tmsearch import SearchParams


def _shift_map(ylen: int, xlen: int, k: int) -> np.ndarray:
    i = np.arange(ylen) + k
    return np.where((i >= 0) & (i < xlen), i, -1)


def initial_gapless(x: np.ndarray, y: np.ndarray, p: SearchParams) -> np.ndarray:
    """Best ungapped threading of y along x (``get_initial``)."""
    xlen, ylen = len(x), len(y)
    min_ali = max(min(xlen, ylen) // 2, 5)
    best, best_k = -1.0, -ylen + min_ali
    for k in range(-ylen + min_ali, xlen - min_ali + 1, 5 if p.fast else 1):
        tm = score_fast(x, y, _shift_map(ylen, xlen, k), p.d0, p.d0_search)
        if tm >= best:
            best, best_k = tm, k
    return _shift_map(ylen, xlen, best_k)


def initial_ss(secx: np.ndarray, secy: np.ndarray, ws: DPWorkspace) -> np.ndarray:
    """Alignment of the secondary-structure strings (``get_initial_ss``)."""
    score = (secx[:, None] == secy[None, :]).astype(np.uint8)
    return nw_score(score, -1.0, ws)


def _n_jump(length: int) -> int:
    jump = 45 if length > 250 else 35 if length > 200 else 25 if length > 150 else 15
    return max(min(jump, length // 3), 1)


def initial_local(x: np.ndarray, y: np.ndarray, p: SearchParams) -> np.ndarray | None:
    """Best DP alignment after superposing pairs of fragments (``get_initial5``)."""
    xlen, ylen = len(x), len(y)
    d01 = max(p.d0 + 1.5, p.d0_min)
    al = min(xlen, ylen)
    jump1, jump2 = _n_jump(xlen), _n_jump(ylen)
    if p.fast:
        jump1, jump2 = jump1 * 5, jump2 * 5
    pairs = [
        (i, j, n_frag)
        for n_frag in (min(20, al // 3), min(100, al // 2))
        if n_frag >= 1
        for i in range(0, xlen - n_frag + 1, jump1)
        for j in range(0, ylen - n_frag + 1, jump2)
    ]
    return best_local_alignment(x, y, pairs, d01 * d01, p.d0, p.d0_search)


def initial_ssplus(
    x: np.ndarray,
    y: np.ndarray,
    secx: np.ndarray,
    secy: np.ndarray,
    y2x0: np.ndarray,
    p: SearchParams,
    ws: DPWorkspace,
) -> np.ndarray:
    """DP on superposition + secondary-structure scores from the best alignment so far
    (``get_initial_ssplus``)."""
    j = np.nonzero(y2x0 >= 0)[0]
    r, t = kabsch(x[y2x0[j]], y[j])
    d01 = max(p.d0 + 1.5, p.d0_min)
    return nw_tm(apply(x, r, t), y, d01 * d01, -1.0, ws, sec=(secx, secy), bonus=0.5)


def _max_fragment(x: np.ndarray, dcu0: float, fra_min: int) -> tuple[int, int]:
    """Longest run of consecutive residues closer than a growing cutoff (``find_max_frag``)."""
    n = len(x)
    r_min = min(int(n / 3.0), fra_min)
    step2 = np.sum(np.diff(x, axis=0) ** 2, axis=1)  # [n-1]
    cut2, inc = dcu0 * dcu0, 0
    start_max = end_max = 0
    lfr_max = 0
    while lfr_max < r_min:
        lfr_max, run, start = 0, 1, 0
        for i in range(1, n):
            if step2[i - 1] < cut2:
                run += 1
                if i == n - 1:
                    if run > lfr_max:
                        lfr_max, start_max, end_max = run, start, i
                    run = 1
            else:
                if run > lfr_max:
                    lfr_max, start_max, end_max = run, start, i - 1
                run, start = 1, i
        if lfr_max < r_min:
            inc += 1
            cut2 = (1.1**inc * dcu0) ** 2
    return start_max, end_max


def _trim(ifr: list[int], l0: int) -> list[int]:
    if len(ifr) == l0:
        return ifr[int(l0 * 0.1) : int(l0 * 0.89) + 1]
    return ifr


def _thread_x_fragment(x, y, ifr, p, best, best_map):  # type: ignore[no-untyped-def]
    ylen = len(y)
    l1 = len(ifr)
    min_ali = max(int(min(l1, ylen) / 2.5), 7 if p.fast else 3)
    arr = np.asarray(ifr, dtype=np.int64)
    for k in range(-ylen + min_ali, l1 - min_ali + 1, 3 if p.fast else 1):
        i = np.arange(ylen) + k
        ok = (i >= 0) & (i < l1)
        y2x = np.where(ok, arr[np.clip(i, 0, l1 - 1)], -1)
        tm = score_fast(x, y, y2x, p.d0, p.d0_search)
        if tm >= best:
            best, best_map = tm, y2x
    return best, best_map


def _thread_y_fragment(x, y, ifr, p, best, best_map):  # type: ignore[no-untyped-def]
    xlen, ylen = len(x), len(y)
    l2 = len(ifr)
    min_ali = max(int(min(xlen, l2) / 2.5), 7 if p.fast else 3)
    arr = np.asarray(ifr, dtype=np.int64)
    for k in range(-l2 + min_ali, xlen - min_ali + 1):
        y2x = np.full(ylen, -1, dtype=np.int64)
        i = np.arange(l2) + k
        ok = (i >= 0) & (i < xlen)
        y2x[arr[ok]] = i[ok]
        tm = score_fast(x, y, y2x, p.d0, p.d0_search)
        if tm >= best:
            best, best_map = tm, y2x
    return best, best_map


def initial_fragment_threading(x: np.ndarray, y: np.ndarray, p: SearchParams) -> np.ndarray:
    """Gapless threading of the longest continuous fragment (``get_initial_fgt``)."""
    xlen, ylen = len(x), len(y)
    fra_min = 8 if p.fast else 4
    xs, xe = _max_fragment(x, p.dcu0, fra_min)
    ys, ye = _max_fragment(y, p.dcu0, fra_min)
    lx, ly = xe - xs + 1, ye - ys + 1
    best: float = -1.0
    best_map = np.full(ylen, -1, dtype=np.int64)
    if lx == ly and xlen == ylen:  # symmetric case: try both
        ifr = _trim(list(range(xs, xs + lx)), xlen)
        best, best_map = _thread_x_fragment(x, y, ifr, p, best, best_map)
        ifr = _trim(list(range(ys, ys + ly)), xlen)
        best, best_map = _thread_y_fragment(x, y, ifr, p, best, best_map)
        return best_map
    l_fr = min(lx, ly)
    use_x = lx < ly or (lx == ly and xlen < ylen)
    ifr = list(range(xs, xs + l_fr)) if use_x else list(range(ys, ys + l_fr))
    ifr = _trim(ifr, min(xlen, ylen))
    if lx < ly or (lx == ly and xlen <= ylen):
        _, best_map = _thread_x_fragment(x, y, ifr, p, best, best_map)
    else:
        _, best_map = _thread_y_fragment(x, y, ifr, p, best, best_map)
    return best_map
