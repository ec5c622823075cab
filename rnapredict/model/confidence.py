"""Confidence head: per-residue pLDDT (binned) and a pTM-like global score from a prediction.

It reads the trunk's representations (gradient stopped) and the predicted C1′ coordinates
(distances on the fixed sparse edges plus k nearest neighbours), so its cost is O(L·K).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rnapredict.features.edges import EdgeConfig
from rnapredict.features.featurize import Features
from rnapredict.model.denoiser import knn_edges
from rnapredict.model.layers import SparseAttention, Transition, gather_nodes, rbf
from rnapredict.model.trunk import TrunkConfig, TrunkOutput


@dataclass(frozen=True)
class ConfidenceConfig:
    """Attributes: dim, edge_dim, heads, layers, knn, bins (pLDDT bins over 0–1)."""

    dim: int = 64
    edge_dim: int = 32
    heads: int = 4
    layers: int = 2
    knn: int = 16
    bins: int = 50


class ConfidenceHead(nn.Module):
    """(coords [B, L, 3], trunk output, features) → (pLDDT logits [B, L, bins], pTM logit [B])."""

    def __init__(self, cfg: ConfidenceConfig, trunk: TrunkConfig, edges: EdgeConfig) -> None:
        super().__init__()
        self.cfg, self.edges = cfg, edges
        self.s_in = nn.Sequential(nn.LayerNorm(trunk.dim), nn.Linear(trunk.dim, cfg.dim))
        self.pair_in = nn.Sequential(
            nn.LayerNorm(trunk.edge_dim), nn.Linear(trunk.edge_dim, cfg.edge_dim)
        )
        self.knn_relpos = nn.Embedding(edges.n_relpos, cfg.edge_dim)
        self.rbf_in = nn.Linear(24, cfg.edge_dim)
        self.layers = nn.ModuleList(
            nn.ModuleList([SparseAttention(cfg.dim, cfg.edge_dim, cfg.heads), Transition(cfg.dim)])
            for _ in range(cfg.layers)
        )
        self.norm = nn.LayerNorm(cfg.dim)
        self.plddt = nn.Linear(cfg.dim, cfg.bins)
        self.ptm = nn.Linear(cfg.dim, 1)

    def forward(
        self, x: torch.Tensor, cond: TrunkOutput, f: Features
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Confidence logits.

        Args:
            x: [B, L, 3] predicted C1′ coordinates, Å (gradient stopped here).
            cond, f: trunk output and features with B rows.

        Returns:
            plddt_logits: [B, L, bins]; ptm_logit: [B].
        """
        x = x.detach()
        nbr, emask, rel = knn_edges(x, f, self.cfg.knn, self.edges.relpos_max)
        dist = torch.sqrt(((x[:, :, None] - gather_nodes(x, nbr)) ** 2).sum(-1) + 1e-8)
        e = torch.cat([self.pair_in(cond.pair.detach()), self.knn_relpos(rel)], dim=2)
        e = e + self.rbf_in(rbf(dist, 30.0, 24))
        h = self.s_in(cond.single.detach())
        for att, trans in self.layers:
            h = h + att(h, e, nbr, emask)
            h = h + trans(h)
        h = self.norm(h)
        m = f.mask[..., None].to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.plddt(h), self.ptm(pooled)[:, 0]


def plddt_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Expected pLDDT 0–100 from bin logits: [..., bins] → [...]."""
    bins = logits.shape[-1]
    centres = (torch.arange(bins, device=logits.device, dtype=torch.float32) + 0.5) / bins
    return 100.0 * (logits.float().softmax(-1) * centres).sum(-1)
