"""Optimal rigid superposition (Kabsch) and RMSD.

All coordinates are in Å. The rotation is always proper (det +1): a reflection is never
returned, even for degenerate (planar, collinear) point sets.
"""

from __future__ import annotations

import numpy as np


def kabsch(
    mobile: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation that best superpose ``mobile`` onto ``target``.

    Args:
        mobile: [N, 3] points to move (Å).
        target: [N, 3] points to fit onto (Å).
        weights: [N] non-negative weights, or None for uniform.

    Returns:
        R: [3, 3] proper rotation; t: [3] translation (Å), such that
        ``mobile @ R.T + t`` is the least-squares fit to ``target``.
    """
    mobile = np.asarray(mobile, dtype=np.float64).reshape(-1, 3)
    target = np.asarray(target, dtype=np.float64).reshape(-1, 3)
    if mobile.shape != target.shape:
        raise ValueError(f"kabsch: shapes differ {mobile.shape} vs {target.shape}")
    if len(mobile) == 0:
        return np.eye(3), np.zeros(3)
    if weights is None:
        w = np.full(len(mobile), 1.0 / len(mobile))
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        total = w.sum()
        if total <= 0:
            return np.eye(3), np.zeros(3)
        w = w / total
    mc = w @ mobile
    tc = w @ target
    cov = (mobile - mc).T @ ((target - tc) * w[:, None])  # [3, 3] sum w x y^T
    u, _, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    if d == 0:
        d = 1.0
    rot = (u * np.array([1.0, 1.0, d])) @ vt  # maps row vectors: x @ rot
    r = rot.T
    return r, tc - mc @ rot


def kabsch_batch(
    mobile: np.ndarray, target: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Many Kabsch fits at once over masked subsets of the same point pairs.

    Args:
        mobile: [N, 3] points (Å).
        target: [N, 3] points (Å).
        mask: [B, N] bool (or non-negative weights): which pairs each fit uses.

    Returns:
        R: [B, 3, 3] proper rotations; t: [B, 3] translations, ``mobile @ R[b].T + t[b]``.
        Fits whose mask is empty get the identity.
    """
    w = np.asarray(mask, dtype=np.float64)
    # One matmul for all sums: [B, N] @ [N, 9 + 3 + 3 + 1].
    feats = np.concatenate(
        [(mobile[:, :, None] * target[:, None, :]).reshape(-1, 9), mobile, target,
         np.ones((len(mobile), 1))],
        axis=1,
    )  # fmt: skip
    sums = w @ feats
    n = sums[:, 15]
    safe = np.where(n > 0, n, 1.0)
    mc = sums[:, 9:12] / safe[:, None]  # [B, 3]
    tc = sums[:, 12:15] / safe[:, None]
    # sum_i w_i x_i y_i^T - n mc tc^T
    cov = sums[:, :9].reshape(-1, 3, 3) - n[:, None, None] * (mc[:, :, None] * tc[:, None, :])
    u, _, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    d[d == 0] = 1.0
    u = u.copy()
    u[:, :, 2] *= d[:, None]
    rot = u @ vt  # [B, 3, 3], x @ rot
    r = np.transpose(rot, (0, 2, 1))
    t = tc - np.einsum("bi,bij->bj", mc, rot)
    empty = n <= 0
    if empty.any():
        r[empty] = np.eye(3)
        t[empty] = 0.0
    return r, t


def apply(coords: np.ndarray, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``coords @ r.T + t`` for [N, 3] coordinates (Å)."""
    return np.asarray(coords, dtype=np.float64) @ r.T + t


def rmsd(a: np.ndarray, b: np.ndarray) -> float:
    """Root-mean-square deviation (Å) of [N, 3] ``a`` and ``b`` as given (no superposition)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    if a.shape != b.shape:
        raise ValueError(f"rmsd: shapes differ {a.shape} vs {b.shape}")
    if len(a) == 0:
        return float("nan")
    return float(np.sqrt(np.mean(np.sum((a - b) ** 2, axis=1))))


def superposed_rmsd(mobile: np.ndarray, target: np.ndarray) -> float:
    """RMSD (Å) of [N, 3] ``mobile`` and ``target`` after the optimal Kabsch superposition."""
    r, t = kabsch(mobile, target)
    return rmsd(apply(mobile, r, t), target)
