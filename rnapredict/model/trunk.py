"""Trunk: residue embedding → sparse residue encoder → Perceiver IO latent merger.

The Perceiver IO stage: M learned latents cross-attend to the residues (O(L·M)), a
self-attention stack runs on the latents (O(M²)), then every residue queries the latents to
decode its single representation, in chunks of ``chunk_size`` residues (memory O(chunk·M)).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rnapredict.features.edges import N_EDGE_TYPES, EdgeConfig
from rnapredict.features.featurize import Features
from rnapredict.features.tokens import N_PAIR_KINDS, N_PAIR_STATES, N_TOKENS
from rnapredict.model.chunk import chunked
from rnapredict.model.layers import (
    CrossAttention,
    SparseAttention,
    Transition,
    fourier_features,
    gather_nodes,
    rbf,
)


@dataclass(frozen=True)
class TrunkConfig:
    """Trunk sizes.

    Attributes:
        dim: single representation width C.
        edge_dim: sparse pair representation width Cz.
        heads: attention heads everywhere in the trunk.
        encoder_layers: sparse attention layers over the residue graph.
        latents: Perceiver latents M.
        latent_dim: latent width.
        latent_layers: self-attention layers on the latents.
    """

    dim: int = 128
    edge_dim: int = 32
    heads: int = 4
    encoder_layers: int = 3
    latents: int = 32
    latent_dim: int = 128
    latent_layers: int = 3


@dataclass
class TrunkOutput:
    """Conditioning computed once per chain and reused by every diffusion step.

    Attributes:
        single: [B, L, C] single representation.
        pair: [B, L, K, Cz] pair representation on the fixed sparse edges.
    """

    single: torch.Tensor
    pair: torch.Tensor

    def repeat(self, n: int) -> TrunkOutput:
        return TrunkOutput(self.single.repeat_interleave(n, 0), self.pair.repeat_interleave(n, 0))


def prior_distances(f: Features, nbr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A-form prior C1′ distances on edges: nbr [B, L, K] → (dist [B, L, K] Å, mask [B, L, K])."""
    d = torch.sqrt(((f.prior[:, :, None] - gather_nodes(f.prior, nbr)) ** 2).sum(-1) + 1e-8)
    hp = f.has_prior.to(f.prior.dtype)
    m = hp[:, :, None] * gather_nodes(hp[..., None], nbr)[..., 0]
    return d, m


class PriorEdges(nn.Module):
    """A-form prior distance on edges → [B, L, K, dim] (zero where the prior is absent)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(16, dim, bias=False)

    def forward(self, f: Features, nbr: torch.Tensor) -> torch.Tensor:
        d, m = prior_distances(f, nbr)
        return self.proj(rbf(d, 30.0, 16)) * m[..., None]


class EdgeEmbedding(nn.Module):
    """Categorical sparse-edge features (+ optional A-form prior distance) → [B, L, K, Cz]."""

    def __init__(self, edges: EdgeConfig, dim: int, prior: bool = False) -> None:
        super().__init__()
        self.relpos = nn.Embedding(edges.n_relpos, dim)
        self.etype = nn.Embedding(N_EDGE_TYPES, dim)
        self.gdist = nn.Embedding(edges.n_gdist, dim)
        self.prior = PriorEdges(dim) if prior else None

    def forward(self, f: Features) -> torch.Tensor:
        e = self.relpos(f.relpos) + self.etype(f.etype) + self.gdist(f.gdist)
        if self.prior is not None:
            e = e + self.prior(f, f.nbr)
        return e


class Trunk(nn.Module):
    """Features → (single [B, L, C], sparse pair [B, L, K, Cz])."""

    def __init__(self, cfg: TrunkConfig, edges: EdgeConfig, prior: bool = False) -> None:
        super().__init__()
        c, cz = cfg.dim, cfg.edge_dim
        self.cfg = cfg
        self.token = nn.Embedding(N_TOKENS, c)
        self.partner_token = nn.Embedding(N_TOKENS + 1, c)
        self.pair_state = nn.Embedding(N_PAIR_STATES, c)
        self.pair_kind = nn.Embedding(N_PAIR_KINDS, c)
        self.pos = nn.Linear(32 + 1, c)
        self.edge = EdgeEmbedding(edges, cz, prior)
        self.encoder = nn.ModuleList(
            nn.ModuleList([SparseAttention(c, cz, cfg.heads), Transition(c)])
            for _ in range(cfg.encoder_layers)
        )
        self.latents = nn.Parameter(torch.randn(cfg.latents, cfg.latent_dim) * 0.02)
        self.read = CrossAttention(cfg.latent_dim, c, cfg.heads)
        self.read_t = Transition(cfg.latent_dim)
        self.latent_stack = nn.ModuleList(
            nn.ModuleList(
                [
                    CrossAttention(cfg.latent_dim, cfg.latent_dim, cfg.heads),
                    Transition(cfg.latent_dim),
                ]
            )
            for _ in range(cfg.latent_layers)
        )
        self.write = CrossAttention(c, cfg.latent_dim, cfg.heads)
        self.write_t = Transition(c)
        self.out_norm = nn.LayerNorm(c)
        self.pair_i = nn.Linear(c, cz, bias=False)
        self.pair_j = nn.Linear(c, cz, bias=False)
        self.pair_norm = nn.LayerNorm(cz)

    def embed(self, f: Features) -> torch.Tensor:
        """Residue embedding [B, L, C]."""
        partner_tok = torch.where(
            f.partner >= 0,
            f.tokens.gather(1, f.partner.clamp(min=0)),
            torch.full_like(f.tokens, N_TOKENS),
        )
        n = f.mask.sum(dim=1, keepdim=True).float()
        pos = torch.cat(
            [
                fourier_features(f.position * 8.0, 32, max_period=100.0),
                (torch.log(n) / 8.0).expand_as(f.position)[..., None],
            ],
            dim=-1,
        )
        h = (
            self.token(f.tokens)
            + self.partner_token(partner_tok)
            + self.pair_state(f.pair_state)
            + self.pair_kind(f.pair_kind)
            + self.pos(pos)
        )
        return h * f.mask[..., None]

    def decode(self, h: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """Per-residue decode from the latents; independent per residue.

        Args:
            h: [B, Lc, C] residue queries (a chunk).
            latents: [B, M, Cl].

        Returns:
            [B, Lc, C].
        """
        h = h + self.write(h, latents)
        return self.out_norm(h + self.write_t(h))

    def forward(self, f: Features, chunk_size: int | None = None) -> TrunkOutput:
        """Run the trunk.

        Args:
            f: batched features.
            chunk_size: residues per decoder chunk (None: all at once).
        """
        e = self.edge(f)
        h = self.embed(f)
        for att, trans in self.encoder:
            h = h + att(h, e, f.nbr, f.edge_mask)
            h = h + trans(h)
        z = self.latents.expand(h.shape[0], -1, -1)
        z = z + self.read(z, h, f.mask)
        z = z + self.read_t(z)
        for att, trans in self.latent_stack:
            z = z + att(z, z)
            z = z + trans(z)
        s = chunked(self.decode, (h,), chunk_size, dim=1, latents=z)
        s = s * f.mask[..., None]
        pair = self.pair_norm(
            e + self.pair_i(s)[:, :, None, :] + gather_nodes(self.pair_j(s), f.nbr)
        )
        return TrunkOutput(single=s, pair=pair)
