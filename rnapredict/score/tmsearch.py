"""TM-score superposition search (the TM-score program's heuristic), vectorized.

Port of US-align's ``TMscore8_search`` (pylelab/USalign, TMalign.h): seed superpositions from
contiguous fragments of lengths L, L/2, L/4, ... ≥ 4 at every ``step``-th start, then extend each
seed iteratively (keep the pairs closer than ``d0_search ± 1`` Å, refit) for up to 20 rounds,
keeping the superposition with the highest TM-score sum. Seeds run in lockstep as one batch;
seeds that reach the same pair set in the same round have identical futures and are merged, so
the work stays close to the number of distinct trajectories.

Also the RNA d0 rules of US-align (``param_set.h``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnapredict.score.superpose import kabsch_batch

#: Maximum extension rounds per seed (US-align ``n_it``).
N_ITER = 20
#: Elements per chunk of the [seeds, pairs] work arrays.
_CHUNK_ELEMS = 1 << 21
#: US-align switches TM-align to its fast heuristics above this length (shorter structure).
FAST_ABOVE = 1500
#: GDT distance cutoffs (Å).
GDT_CUTOFFS = (1.0, 2.0, 4.0, 8.0)


def d0_rna(length: float) -> float:
    """Final-score d0 (Å) for RNA, US-align ``parameter_set4final_C3prime``."""
    if length <= 11:
        return 0.3
    if length <= 15:
        return 0.4
    if length <= 19:
        return 0.5
    if length <= 23:
        return 0.6
    if length < 30:
        return 0.7
    return 0.6 * math.sqrt(length - 0.5) - 2.5


def d0_search_of(d0: float) -> float:
    """Search cutoff: d0 clamped to [4.5, 8] Å."""
    return min(max(d0, 4.5), 8.0)


@dataclass(frozen=True)
class SearchParams:
    """US-align ``parameter_set4search`` values for lengths (xlen, ylen), plus the fast flag
    (coarser seeds and fewer DP rounds, as US-align ``-fast``)."""

    lnorm: float
    d0: float
    d0_search: float
    score_d8: float
    d0_min: float
    dcu0: float = 4.25
    fast: bool = False

    @classmethod
    def for_lengths(cls, xlen: int, ylen: int, fast: bool | None = None) -> SearchParams:
        """Parameters for lengths (xlen, ylen); ``fast`` defaults to US-align's rule
        (forced above 1,500 residues in the shorter structure)."""
        lnorm = float(min(xlen, ylen))
        d0 = 0.168 if lnorm <= 19 else 1.24 * (lnorm - 15) ** (1.0 / 3) - 1.8
        d0 += 0.8
        return cls(
            lnorm=lnorm,
            d0=d0,
            d0_search=d0_search_of(d0),
            score_d8=1.5 * lnorm**0.3 + 3.5,
            d0_min=d0,
            fast=lnorm > FAST_ABOVE if fast is None else fast,
        )


@dataclass(frozen=True)
class SearchResult:
    """Best superposition found.

    Attributes:
        score: TM-score sum Σ 1/(1+d²/d0²) (divide by the normalization length).
        rot: [3, 3] rotation; trans: [3] translation: ``x @ rot.T + trans`` fits ``y``.
        gdt_counts: [4] the most pairs within 1/2/4/8 Å seen over all tried superpositions.
    """

    score: float
    rot: np.ndarray
    trans: np.ndarray
    gdt_counts: np.ndarray


def fragment_lengths(n: int) -> list[int]:
    """Seed fragment lengths L, L/2, L/4, ... down to 4 (at most six), as US-align."""
    lmin = min(4, n)
    out: list[int] = []
    for i in range(5):
        frag = int(n / 2.0**i)
        if frag <= lmin:
            out.append(lmin)
            return out
        out.append(frag)
    out.append(lmin)
    return out


def seed_starts(n: int, frag: int, step: int) -> np.ndarray:
    """Start positions 0, step, 2·step, ... and the last possible one."""
    last = n - frag
    starts = list(range(0, last + 1, step)) if last > 0 else [0]
    if starts[-1] != last:
        starts.append(last)
    return np.asarray(starts, dtype=np.int64)


def _cut_masks(d2: np.ndarray, d: float, n: int) -> np.ndarray:
    """Pairs with squared distance < d²; where fewer than 3 (and n > 3) widen d by 0.5 Å steps."""
    mask = d2 < d * d
    if n > 3:
        few = mask.sum(axis=1) < 3
        if few.any():
            third = np.sqrt(np.partition(d2[few], 2, axis=1)[:, 2])
            k = np.floor((third - d) / 0.5) + 1.0
            k = np.maximum(k, 1.0)
            widened = d + k * 0.5
            # guard the floating-point edge: make sure at least 3 pass
            widened = np.where(widened <= third, widened + 0.5, widened)
            mask[few] = d2[few] < (widened * widened)[:, None]
    return mask


def _unique_rows(packed: np.ndarray) -> np.ndarray:
    """Distinct rows of a [B, nbytes] uint8 array (order not kept)."""
    packed = np.ascontiguousarray(packed)
    rows = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first = np.unique(rows, return_index=True)
    return packed[np.sort(first)]


def _pair_features(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pair features F [16, N] and |x|²+|y|² [N] so that for a superposition (R, t)
    ``|R x_n + t - y_n|² = A(R, t) @ F + c`` with one matmul over a batch of (R, t)."""
    outer = (y[:, :, None] * x[:, None, :]).reshape(-1, 9)  # y_i x_j ↔ R_ij
    feats = np.concatenate([outer, x, y, np.ones((len(x), 1))], axis=1).T
    return np.ascontiguousarray(feats), np.sum(x * x, axis=1) + np.sum(y * y, axis=1)


def _evaluate(
    x: np.ndarray,
    y: np.ndarray,
    feats: np.ndarray,
    const: np.ndarray,
    rot: np.ndarray,
    trans: np.ndarray,
    cut: float,
    d0: float,
    d8: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, next pair masks and GDT counts for a batch of superpositions.

    Args:
        x, y: [N, 3] matched (centred) coordinates; feats, const: their
            :func:`_pair_features`.
        rot: [B, 3, 3]; trans: [B, 3].

    Returns:
        score: [B] TM sums; mask: [B, N] bool pairs for the next fit; gdt: [B, 4] counts.
    """
    coef = np.concatenate(
        [
            -2.0 * rot.reshape(-1, 9),
            2.0 * np.einsum("bij,bi->bj", rot, trans),
            -2.0 * trans,
            np.sum(trans * trans, axis=1, keepdims=True),
        ],
        axis=1,
    )  # [B, 16]
    d2 = coef @ feats
    d2 += const
    # The expansion loses ~1e-12 Å² to rounding; recompute directly the few distances close
    # to a cutoff so every in/out decision is the one US-align's direct formula makes.
    tol = 1e-12 * (1.0 + float(const.max(initial=0.0)))
    near = np.abs(d2 - cut * cut) < tol
    if d8 is not None:
        near |= np.abs(d2 - d8 * d8) < tol
    if near.any():
        b, n = np.nonzero(near)
        diff = np.einsum("kij,kj->ki", rot[b], x[n]) + trans[b] - y[n]
        d2[b, n] = np.sum(diff * diff, axis=1)
    np.maximum(d2, 0.0, out=d2)
    term = 1.0 / (1.0 + d2 / (d0 * d0))
    if d8 is not None:
        term[d2 > d8 * d8] = 0.0
    score = term.sum(axis=1)
    gdt = np.stack([np.count_nonzero(d2 < c * c, axis=1) for c in GDT_CUTOFFS], axis=1)
    return score, _cut_masks(d2, cut, const.shape[0]), gdt


def tm_search(
    x: np.ndarray,
    y: np.ndarray,
    d0: float,
    d0_search: float,
    *,
    step: int = 1,
    d8: float | None = None,
    n_iter: int = N_ITER,
) -> SearchResult:
    """Superposition of ``x`` onto ``y`` maximizing the TM-score sum (US-align heuristic).

    Args:
        x: [N, 3] model coordinates (Å), pairwise matched to ``y`` [N, 3].
        d0: TM-score distance scale (Å); d0_search: extension cutoff base (Å).
        step: start-position stride of the seed fragments (1 = every start).
        d8: if given, pairs farther than ``d8`` Å do not count (US-align score_sum_method 8).
        n_iter: extension rounds per seed.

    Returns:
        :class:`SearchResult` (score is the un-normalized sum).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n == 0:
        return SearchResult(0.0, np.eye(3), np.zeros(3), np.zeros(4, np.int64))
    # Centre both sets: the expanded distance formula then stays accurate far from the origin.
    cx, cy = x.mean(axis=0), y.mean(axis=0)
    x, y = x - cx, y - cy
    feats, const = _pair_features(x, y)
    best = [-1.0, np.eye(3), np.zeros(3)]
    gdt_best = np.zeros(len(GDT_CUTOFFS), np.int64)
    chunk = max(1, _CHUNK_ELEMS // max(n, 1))

    def run(masks_packed: np.ndarray, cut: float) -> np.ndarray:
        """Fit, score and re-cut every row; returns the next packed masks (same order)."""
        nonlocal gdt_best
        out = np.empty_like(masks_packed)
        for s in range(0, len(masks_packed), chunk):
            m = np.unpackbits(masks_packed[s : s + chunk], axis=1, count=n).astype(bool)
            rot, trans = kabsch_batch(x, y, m)
            score, nxt, gdt = _evaluate(x, y, feats, const, rot, trans, cut, d0, d8)
            k = int(np.argmax(score))
            if score[k] > best[0]:
                best[0], best[1], best[2] = float(score[k]), rot[k], trans[k]
            gdt_best = np.maximum(gdt_best, gdt.max(axis=0))
            out[s : s + chunk] = np.packbits(nxt, axis=1)
        return out

    seeds: list[np.ndarray] = []
    for frag in fragment_lengths(n):
        starts = seed_starts(n, frag, step)
        idx = np.arange(n)
        m = (idx[None, :] >= starts[:, None]) & (idx[None, :] < starts[:, None] + frag)
        seeds.append(np.packbits(m, axis=1))
    masks = _unique_rows(np.concatenate(seeds))
    masks = run(masks, d0_search - 1.0)
    for _ in range(n_iter):
        masks = _unique_rows(masks)
        nxt = run(masks, d0_search + 1.0)
        moving = np.any(nxt != masks, axis=1)
        masks = nxt[moving]
        if len(masks) == 0:
            break
    rot_best = np.asarray(best[1])
    return SearchResult(best[0], rot_best, best[2] + cy - cx @ rot_best.T, gdt_best)
