"""Named model sizes: ``tiny`` (random-init, tests) and ``small`` (the released model)."""

from __future__ import annotations

from rnapredict.features.edges import EdgeConfig
from rnapredict.model.confidence import ConfidenceConfig
from rnapredict.model.denoiser import DenoiserConfig
from rnapredict.model.diffusion import EDMConfig
from rnapredict.model.network import ModelConfig
from rnapredict.model.trunk import TrunkConfig

TINY_MODEL = ModelConfig(
    aform_prior=True,
    edges=EdgeConfig(window=4, n_graph=3, max_hops=4, relpos_max=16),
    trunk=TrunkConfig(dim=32, edge_dim=16, heads=2, encoder_layers=1, latents=8, latent_dim=32, latent_layers=1),
    denoiser=DenoiserConfig(dim=32, edge_dim=16, heads=2, layers=2, knn=6, rbf_bins=8),
    confidence=ConfidenceConfig(dim=16, edge_dim=8, heads=2, layers=1, knn=6, bins=50),
    edm=EDMConfig(steps=8),
)  # fmt: skip

SMALL_MODEL = ModelConfig(
    aform_prior=True,
    trunk=TrunkConfig(dim=96, edge_dim=32, heads=4, encoder_layers=3, latents=32, latent_dim=96, latent_layers=3),
    denoiser=DenoiserConfig(dim=96, edge_dim=32, heads=4, layers=4, knn=16),
    confidence=ConfidenceConfig(dim=48, edge_dim=24, heads=4, layers=2, knn=12),
)  # fmt: skip
