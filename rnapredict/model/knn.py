"""k nearest neighbours in 3D coordinates (indices only; no gradient), O(L log L) per chain."""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree


def knn_neighbors(x: torch.Tensor, mask: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest other residues of every residue.

    Args:
        x: [B, L, 3] coordinates, Å.
        mask: [B, L] bool, residue present.
        k: neighbours per residue.

    Returns:
        nbr: [B, L, k] int64 indices (0 in empty slots); nbr_mask: [B, L, k] bool.
    """
    xs = x.detach().to("cpu", torch.float64).numpy()
    ms = mask.detach().cpu().numpy()
    b, n, _ = xs.shape
    nbr = np.zeros((b, n, k), dtype=np.int64)
    ok = np.zeros((b, n, k), dtype=bool)
    for bi in range(b):
        valid = np.flatnonzero(ms[bi])
        m = len(valid)
        kk = min(k + 1, m)
        if kk < 2:
            continue
        pts = xs[bi, valid]
        _, idx = cKDTree(pts).query(pts, k=kk)
        idx = idx.reshape(m, kk)
        keep = idx != np.arange(m)[:, None]
        no_self = keep.all(axis=1)
        keep[no_self, -1] = False  # self not found among coincident points: drop the farthest
        got = valid[idx[keep].reshape(m, kk - 1)]
        nbr[bi, valid, : kk - 1] = got
        ok[bi, valid, : kk - 1] = True
    return torch.from_numpy(nbr).to(x.device), torch.from_numpy(ok).to(x.device)
