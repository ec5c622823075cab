"""Fixed-radius neighbour pairs of a point set (cell list, vectorized numpy).

Residue-level searches (lDDT inclusion spheres, base-pair and stacking candidates) only need
pairs of points within a radius; a cell list makes that O(N) in memory and time for the
bounded densities of molecules, never a dense N×N matrix. Atom-level clash search uses
gemmi's NeighborSearch instead (see :mod:`rnapredict.score.clash`).
"""

from __future__ import annotations

import itertools

import numpy as np

_OFFSETS = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=np.int64)  # [27, 3]


def point_pairs(xyz: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of points closer than ``radius``.

    Args:
        xyz: [N, 3] coordinates (Å); rows with NaN are ignored.
        radius: search radius (Å), > 0.

    Returns:
        pairs: [K, 2] int indices with ``pairs[:, 0] < pairs[:, 1]``, sorted lexicographically;
        dist: [K] distances (Å).
    """
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    ok = np.nonzero(np.isfinite(xyz).all(axis=1))[0]
    empty = (np.zeros((0, 2), np.int64), np.zeros(0))
    if len(ok) < 2 or radius <= 0:
        return empty
    pts = xyz[ok]
    cell = np.floor((pts - pts.min(axis=0)) / radius).astype(np.int64)  # [n, 3]
    dims = cell.max(axis=0) + 3
    code = ((cell[:, 0] + 1) * dims[1] + cell[:, 1] + 1) * dims[2] + cell[:, 2] + 1
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    uniq, first = np.unique(sorted_code, return_index=True)
    last = np.append(first[1:], len(sorted_code))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for off in _OFFSETS:
        nb = ((cell[:, 0] + 1 + off[0]) * dims[1] + cell[:, 1] + 1 + off[1]) * dims[2] + (
            cell[:, 2] + 1 + off[2]
        )
        pos = np.searchsorted(uniq, nb)
        pos_c = np.minimum(pos, len(uniq) - 1)
        found = uniq[pos_c] == nb
        start = np.where(found, first[pos_c], 0)
        count = np.where(found, last[pos_c] - first[pos_c], 0)
        total = int(count.sum())
        if total == 0:
            continue
        src = np.repeat(np.arange(len(pts)), count)
        base = np.repeat(np.cumsum(count) - count, count)
        dst = order[np.arange(total) - base + np.repeat(start, count)]
        keep = src < dst
        rows.append(src[keep])
        cols.append(dst[keep])
    if not rows:
        return empty
    a = np.concatenate(rows)
    b = np.concatenate(cols)
    d = np.linalg.norm(pts[a] - pts[b], axis=1)
    near = d < radius
    a, b, d = ok[a[near]], ok[b[near]], d[near]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    srt = np.lexsort((hi, lo))
    return np.stack([lo[srt], hi[srt]], axis=1), d[srt]
