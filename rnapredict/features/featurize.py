"""Sequence + secondary structure → model input tensors for one chain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnapredict.features.edges import EdgeConfig, build_edges, relpos_bucket
from rnapredict.features.secondary import partner_array
from rnapredict.features.tokens import pair_kind, pair_state, tokenize


@dataclass
class Features:
    """Model inputs, batched (B chains padded to L).

    Attributes:
        tokens: [B, L] int64 nucleotide ids (``ACGUN``).
        pair_state: [B, L] int64 (0 unpaired, 1 opens, 2 closes).
        pair_kind: [B, L] int64 (0 none, GC, AU, GU, other).
        partner: [B, L] int64 partner index or -1.
        position: [B, L] float32 relative position in the chain, 0 … 1.
        mask: [B, L] bool, residue present.
        nbr: [B, L, K] int64 sparse neighbour index.
        edge_mask: [B, L, K] bool.
        etype: [B, L, K] int64 edge type.
        relpos: [B, L, K] int64 relative-position bucket.
        gdist: [B, L, K] int64 graph-distance bucket.
        prior: [B, L, 3] float32 A-form C1′ coordinates from the SS (Å; zeros when unused).
        has_prior: [B, L] bool, prior coordinates present.
    """

    tokens: torch.Tensor
    pair_state: torch.Tensor
    pair_kind: torch.Tensor
    partner: torch.Tensor
    position: torch.Tensor
    mask: torch.Tensor
    nbr: torch.Tensor
    edge_mask: torch.Tensor
    etype: torch.Tensor
    relpos: torch.Tensor
    gdist: torch.Tensor
    prior: torch.Tensor
    has_prior: torch.Tensor

    def to(self, device: torch.device | str) -> Features:
        return Features(**{k: v.to(device) for k, v in vars(self).items()})

    def repeat(self, n: int) -> Features:
        """Each chain repeated n times along B (B → B·n, chain-major)."""
        return Features(**{k: v.repeat_interleave(n, dim=0) for k, v in vars(self).items()})

    @property
    def length(self) -> int:
        return int(self.tokens.shape[1])


def featurize_arrays(
    seq: str, partner: np.ndarray, cfg: EdgeConfig, prior: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Unbatched numpy features of one chain (see :class:`Features` for keys, without B).

    Args:
        prior: [L, 3] A-form C1′ coordinates (Å) or None.
    """
    n = len(seq)
    edges = build_edges(partner, cfg)
    idx = np.arange(n)[:, None]
    return {
        "tokens": tokenize(seq),
        "pair_state": pair_state(partner),
        "pair_kind": pair_kind(seq, partner),
        "partner": partner.astype(np.int64),
        "position": (np.arange(n) / max(n - 1, 1)).astype(np.float32),
        "mask": np.ones(n, dtype=bool),
        "nbr": edges.nbr,
        "edge_mask": edges.mask,
        "etype": edges.etype,
        "relpos": np.where(edges.mask, relpos_bucket(idx, edges.nbr, cfg.relpos_max), 0),
        "gdist": edges.gdist,
        "prior": np.zeros((n, 3), np.float32) if prior is None else prior.astype(np.float32),
        "has_prior": np.full(n, prior is not None),
    }


def collate(items: list[dict[str, np.ndarray]]) -> Features:
    """Pad per-chain arrays to the longest chain and stack into a :class:`Features`."""
    n_max = max(len(it["tokens"]) for it in items)
    out: dict[str, torch.Tensor] = {}
    for key in items[0]:
        rows = []
        for it in items:
            a = it[key]
            pad = [(0, n_max - a.shape[0])] + [(0, 0)] * (a.ndim - 1)
            fill = -1 if key == "partner" else 0
            rows.append(np.pad(a, pad, constant_values=fill))
        out[key] = torch.from_numpy(np.stack(rows))
    return Features(**out)


def aform_prior(seq: str, ss: str) -> np.ndarray:
    """[L, 3] A-form C1′ coordinates of the geometry module's baseline, Å."""
    from rnapredict.geometry.aform import aform_c1

    return np.asarray(aform_c1(seq, ss), dtype=np.float32)


def featurize(
    seq: str,
    ss: str,
    cfg: EdgeConfig,
    with_prior: bool = False,
    prior: np.ndarray | None = None,
) -> Features:
    """Features of one chain with B = 1.

    Args:
        seq: sequence (``ACGUN``), length L.
        ss: dot-bracket of length L.
        cfg: sparse edge settings.
        with_prior: add a C1′ prior: ``prior`` when given, else the A-form one
            (:func:`aform_prior`).
        prior: [L, 3] Å, the starting candidate (used only with ``with_prior``).
    """
    if not with_prior:
        prior = None
    elif prior is None:
        prior = aform_prior(seq, ss)
    return collate([featurize_arrays(seq, partner_array(ss), cfg, prior)])
