"""E(3)-equivariant C1′ denoiser with EDM preconditioning (AF3 Alg. 20–21 style conditioning).

D(x; σ) = c_skip·x + c_out·F(x; σ). F is built EGNN-style from unit difference vectors between
neighbouring residues weighted by learned invariant scalars, so rotating the noisy input rotates
the output and distances between outputs do not change; translation is removed by centring.
Neighbourhood of residue i: the fixed sparse SS/sequence edges plus its k nearest residues in
the current noisy coordinates, so one call costs O(L·K).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rnapredict.features.edges import EdgeConfig
from rnapredict.features.featurize import Features
from rnapredict.model.diffusion import edm_coefficients, masked_centre
from rnapredict.model.knn import knn_neighbors
from rnapredict.model.layers import SparseAttention, Transition, fourier_features, gather_nodes, rbf
from rnapredict.model.trunk import PriorEdges, TrunkConfig, TrunkOutput


@dataclass(frozen=True)
class DenoiserConfig:
    """Denoiser sizes.

    Attributes:
        dim: node width.
        edge_dim: edge width.
        heads: attention heads.
        layers: message-passing layers (each updates nodes and the coordinate estimate).
        knn: nearest neighbours in the noisy coordinates added to the fixed edges.
        rbf_bins, rbf_max: distance encoding (Å).
        coord_dim: hidden width of the per-edge coordinate-update MLP.
    """

    dim: int = 128
    edge_dim: int = 32
    heads: int = 4
    layers: int = 4
    knn: int = 16
    rbf_bins: int = 16
    rbf_max: float = 32.0
    coord_dim: int = 32


def knn_edges(
    x: torch.Tensor, f: Features, k: int, relpos_max: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fixed sparse edges plus k nearest neighbours in x.

    Args:
        x: [B, L, 3] coordinates, Å.

    Returns:
        nbr: [B, L, K + k]; mask: [B, L, K + k]; relpos bucket of the kNN part: [B, L, k].
    """
    nbr_k, mask_k = knn_neighbors(x, f.mask, k)
    i = torch.arange(x.shape[1], device=x.device)[None, :, None]
    rel = (nbr_k - i).clamp(-relpos_max, relpos_max) + relpos_max
    return torch.cat([f.nbr, nbr_k], 2), torch.cat([f.edge_mask, mask_k], 2), rel


class Denoiser(nn.Module):
    """(x_noisy [B, L, 3] Å, σ [B] Å, trunk conditioning, features) → denoised [B, L, 3] Å."""

    def __init__(
        self,
        cfg: DenoiserConfig,
        trunk: TrunkConfig,
        edges: EdgeConfig,
        sigma_data: float,
        prior: bool = False,
    ) -> None:
        super().__init__()
        self.cfg, self.edges, self.sigma_data = cfg, edges, sigma_data
        d, de = cfg.dim, cfg.edge_dim
        self.s_in = nn.Sequential(nn.LayerNorm(trunk.dim), nn.Linear(trunk.dim, d))
        self.noise_in = nn.Linear(32, d)
        self.pair_in = nn.Sequential(nn.LayerNorm(trunk.edge_dim), nn.Linear(trunk.edge_dim, de))
        self.knn_relpos = nn.Embedding(edges.n_relpos, de)
        self.knn_prior = PriorEdges(de) if prior else None
        self.rbf_in = nn.ModuleList(nn.Linear(cfg.rbf_bins, de) for _ in range(cfg.layers))
        self.att = nn.ModuleList(SparseAttention(d, de, cfg.heads) for _ in range(cfg.layers))
        self.trans = nn.ModuleList(Transition(d) for _ in range(cfg.layers))
        dc = cfg.coord_dim
        self.w_i = nn.ModuleList(nn.Linear(d, dc) for _ in range(cfg.layers))
        self.w_j = nn.ModuleList(nn.Linear(d, dc, bias=False) for _ in range(cfg.layers))
        self.w_e = nn.ModuleList(nn.Linear(de, dc, bias=False) for _ in range(cfg.layers))
        self.w_out = nn.ModuleList(nn.Linear(dc, 1, bias=False) for _ in range(cfg.layers))
        for lin in self.w_out:
            nn.init.zeros_(lin.weight)

    def forward(
        self, x_noisy: torch.Tensor, sigma: torch.Tensor, cond: TrunkOutput, f: Features
    ) -> torch.Tensor:
        """Denoise.

        Args:
            x_noisy: [B, L, 3] noisy C1′ coordinates, Å.
            sigma: [B] noise level, Å.
            cond: trunk output with B rows (repeat it per sample beforehand).
            f: features with B rows.

        Returns:
            [B, L, 3] denoised coordinates (centred), Å.
        """
        c_in, c_skip, c_out, c_noise = edm_coefficients(sigma.float(), self.sigma_data)
        c_skip, c_out = c_skip[:, None, None], c_out[:, None, None]
        mask = f.mask
        emask_f = mask[..., None].to(x_noisy.dtype)
        base = c_skip * masked_centre(x_noisy, mask)
        nbr, emask, rel = knn_edges(base, f, self.cfg.knn, self.edges.relpos_max)
        e_knn = self.knn_relpos(rel)
        if self.knn_prior is not None:
            e_knn = e_knn + self.knn_prior(f, nbr[:, :, f.nbr.shape[2] :])
        e0 = torch.cat([self.pair_in(cond.pair), e_knn], dim=2)
        h = self.s_in(cond.single) + self.noise_in(fourier_features(c_noise, 32))[:, None, :]
        w_mask = emask[..., None].to(x_noisy.dtype)
        n_edges = w_mask.sum(2).clamp(min=1.0)
        out = torch.zeros_like(base)
        for layer in range(self.cfg.layers):
            xh = base + c_out * out
            diff = xh[:, :, None, :] - gather_nodes(xh, nbr)
            dist = torch.sqrt((diff**2).sum(-1) + 1e-8)
            e = e0 + self.rbf_in[layer](rbf(dist, self.cfg.rbf_max, self.cfg.rbf_bins))
            h = h + self.att[layer](h, e, nbr, emask)
            h = h + self.trans[layer](h)
            msg = self.w_i[layer](h)[:, :, None] + gather_nodes(self.w_j[layer](h), nbr)
            w = self.w_out[layer](nn.functional.silu(msg + self.w_e[layer](e)))
            out = out + (w * diff / (dist[..., None] + 1.0) * w_mask).sum(2) / n_edges
        return (base + c_out * out) * emask_f
