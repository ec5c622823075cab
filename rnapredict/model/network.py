"""The whole fold network: trunk, auxiliary heads, denoiser and confidence head."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from rnapredict.features.edges import EdgeConfig
from rnapredict.features.featurize import Features
from rnapredict.model.confidence import ConfidenceConfig, ConfidenceHead
from rnapredict.model.denoiser import Denoiser, DenoiserConfig
from rnapredict.model.diffusion import EDMConfig
from rnapredict.model.trunk import Trunk, TrunkConfig, TrunkOutput

#: Distogram: bins of C1′–C1′ distance on the sparse edges, Å (last bin: beyond).
DIST_MIN, DIST_MAX = 2.0, 40.0


@dataclass(frozen=True)
class ModelConfig:
    """Complete network configuration (saved beside the weights and checked on load)."""

    edges: EdgeConfig = field(default_factory=EdgeConfig)
    trunk: TrunkConfig = field(default_factory=TrunkConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    confidence: ConfidenceConfig = field(default_factory=ConfidenceConfig)
    edm: EDMConfig = field(default_factory=EDMConfig)
    dist_bins: int = 39
    aform_prior: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``TypeError``."""
        subs = {
            "edges": EdgeConfig,
            "trunk": TrunkConfig,
            "denoiser": DenoiserConfig,
            "confidence": ConfidenceConfig,
            "edm": EDMConfig,
        }
        kw = {k: (subs[k](**v) if k in subs else v) for k, v in d.items()}
        return cls(**kw)


class RnaFoldNet(nn.Module):
    """Trunk + heads + denoiser + confidence. See the submodules for shapes."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.trunk = Trunk(cfg.trunk, cfg.edges, cfg.aform_prior)
        self.distogram = nn.Linear(cfg.trunk.edge_dim, cfg.dist_bins)
        self.torsion = nn.Linear(cfg.trunk.dim, 4)
        self.denoiser = Denoiser(
            cfg.denoiser, cfg.trunk, cfg.edges, cfg.edm.sigma_data, cfg.aform_prior
        )
        self.confidence = ConfidenceHead(cfg.confidence, cfg.trunk, cfg.edges)

    def run_trunk(self, f: Features, chunk_size: int | None = None) -> TrunkOutput:
        """Trunk conditioning for a batch of chains."""
        return self.trunk(f, chunk_size)

    def aux_heads(self, cond: TrunkOutput) -> tuple[torch.Tensor, torch.Tensor]:
        """distogram logits [B, L, K, dist_bins]; torsion [B, L, 2, 2] unit (sin, cos) pairs.

        Torsion channel 0: C1′ pseudo-bond angle at i (i-1, i, i+1); channel 1: C1′
        pseudo-torsion (i-1, i, i+1, i+2).
        """
        tors = self.torsion(cond.single).unflatten(-1, (2, 2))
        tors = tors / torch.sqrt((tors**2).sum(-1, keepdim=True) + 1e-6)
        return self.distogram(cond.pair), tors

    def denoise(
        self, x: torch.Tensor, sigma: torch.Tensor, cond: TrunkOutput, f: Features
    ) -> torch.Tensor:
        """x: [B, L, 3] Å, sigma: [B] Å → denoised [B, L, 3] Å."""
        return self.denoiser(x, sigma, cond, f)

    def confidence_logits(
        self, x: torch.Tensor, cond: TrunkOutput, f: Features
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, L, 3] → pLDDT logits [B, L, bins], pTM logit [B]."""
        return self.confidence(x, cond, f)


def distance_bins(d: torch.Tensor, n_bins: int) -> torch.Tensor:
    """Bin index of distances (Å) for the distogram: [...] → [...] int64 in 0 … n_bins-1."""
    edges = torch.linspace(DIST_MIN, DIST_MAX, n_bins - 1, device=d.device)
    return torch.bucketize(d.contiguous(), edges)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
