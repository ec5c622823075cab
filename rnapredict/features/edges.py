"""Sparse residue graph: a fixed number K of neighbours per residue, never a dense L×L tensor.

Neighbours of residue i, in priority order:
1. the sequence window i±1 … i±w;
2. its base-pair partner;
3. residues close in secondary-structure graph distance through one base pair
   (the partner's neighbours and the partners of i's neighbours), nearest first and, among
   equals, the farthest in sequence first (those carry the long-range information).
Graph distance counts backbone steps plus at most one base-pair crossing. Memory and time are
O(L·K) with K = 2w + 1 + n_graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Edge types. ``KNN`` edges are added by the denoiser from the noisy coordinates.
BACKBONE, WINDOW, PAIR, GRAPH, KNN, N_EDGE_TYPES = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class EdgeConfig:
    """Sparse edge builder settings.

    Attributes:
        window: sequence window half-width w.
        n_graph: extra neighbours by SS-graph distance.
        max_hops: largest graph distance searched (through one pair).
        relpos_max: relative positions are clipped to ±relpos_max for bucketing.
    """

    window: int = 8
    n_graph: int = 7
    max_hops: int = 6
    relpos_max: int = 32

    @property
    def k(self) -> int:
        """Neighbours per residue K."""
        return 2 * self.window + 1 + self.n_graph

    @property
    def n_relpos(self) -> int:
        return 2 * self.relpos_max + 1

    @property
    def n_gdist(self) -> int:
        return max(self.max_hops, self.window) + 2


@dataclass(frozen=True)
class EdgeSet:
    """Sparse edges of one chain, K slots per residue.

    Attributes:
        nbr: [L, K] int64 neighbour index j (0 where masked).
        mask: [L, K] bool, slot holds a real edge.
        etype: [L, K] int64 edge type (BACKBONE, WINDOW, PAIR, GRAPH).
        gdist: [L, K] int64 graph-distance bucket.
    """

    nbr: np.ndarray
    mask: np.ndarray
    etype: np.ndarray
    gdist: np.ndarray

    @property
    def n_edges(self) -> int:
        return int(self.mask.sum())


def relpos_bucket(i: np.ndarray, j: np.ndarray, relpos_max: int) -> np.ndarray:
    """Bucket of j - i clipped to ±relpos_max, shifted to 0 … 2·relpos_max."""
    return np.clip(j - i, -relpos_max, relpos_max) + relpos_max


def build_edges(partner: np.ndarray, cfg: EdgeConfig) -> EdgeSet:
    """Sparse neighbour lists from the base-pair partners.

    Args:
        partner: [L] int64 partner index or -1.
        cfg: edge settings.

    Returns:
        EdgeSet with K = cfg.k slots per residue.
    """
    n = len(partner)
    idx = np.arange(n)[:, None]
    h = cfg.max_hops - 1
    # sequence window candidates
    off = np.concatenate([np.arange(-cfg.window, 0), np.arange(1, cfg.window + 1)])
    j_win = idx + off[None, :]
    g_win = np.broadcast_to(np.abs(off)[None, :], j_win.shape)
    t_win = np.where(np.abs(off) == 1, BACKBONE, WINDOW)
    t_win = np.broadcast_to(t_win[None, :], j_win.shape)
    ok_win = (j_win >= 0) & (j_win < n)
    # through-one-pair candidates: a = i + s paired with b, j = b + t
    s_off, t_off = np.meshgrid(np.arange(-h, h + 1), np.arange(-h, h + 1), indexing="ij")
    keep = (np.abs(s_off) + 1 + np.abs(t_off)) <= cfg.max_hops
    s_off, t_off = s_off[keep], t_off[keep]
    a = idx + s_off[None, :]
    a_ok = (a >= 0) & (a < n)
    b = np.where(a_ok, partner[np.clip(a, 0, max(n - 1, 0))], -1)
    j_pair = b + t_off[None, :]
    ok_pair = a_ok & (b >= 0) & (j_pair >= 0) & (j_pair < n)
    g_pair = np.broadcast_to((np.abs(s_off) + 1 + np.abs(t_off))[None, :], j_pair.shape)
    t_pair = np.where((s_off == 0) & (t_off == 0), PAIR, GRAPH)
    t_pair = np.broadcast_to(t_pair[None, :], j_pair.shape)

    j = np.concatenate([j_win, j_pair], axis=1)
    g = np.concatenate([g_win, g_pair], axis=1)
    t = np.concatenate([t_win, t_pair], axis=1)
    ok = np.concatenate([ok_win, ok_pair], axis=1) & (j != idx)
    seqd = np.abs(j - idx)
    g = np.minimum(g, seqd)
    top = (t != GRAPH) & ((seqd <= cfg.window) | (t == PAIR))
    far = (1 << 21) - 1 - np.minimum(seqd, (1 << 21) - 1)
    score = (np.where(top, 0, 1) << 30) | (np.minimum(g, 255) << 21) | far
    # dedupe: per row, sort by (j, score) and keep the first of each j
    jj = np.where(ok, j, n)  # invalid → sentinel beyond range
    order = np.argsort((jj.astype(np.int64) << 32) | score, axis=1, kind="stable")
    jj, score, g, t = (np.take_along_axis(x, order, axis=1) for x in (jj, score, g, t))
    dup = np.zeros_like(jj, dtype=bool)
    dup[:, 1:] = jj[:, 1:] == jj[:, :-1]
    bad = dup | (jj >= n)
    order = np.argsort((bad.astype(np.int64) << 32) | score, axis=1, kind="stable")[:, : cfg.k]
    jj, g, t, bad = (np.take_along_axis(x, order, axis=1) for x in (jj, g, t, bad))
    if jj.shape[1] < cfg.k:  # tiny chains: fewer candidates than slots
        pad = cfg.k - jj.shape[1]
        jj, g, t = (np.pad(x, ((0, 0), (0, pad))) for x in (jj, g, t))
        bad = np.pad(bad, ((0, 0), (0, pad)), constant_values=True)
    mask = ~bad
    return EdgeSet(
        nbr=np.where(mask, jj, 0).astype(np.int64),
        mask=mask,
        etype=np.where(mask, t, 0).astype(np.int64),
        gdist=np.where(mask, np.minimum(g, cfg.n_gdist - 1), 0).astype(np.int64),
    )
