"""Named training configurations (``--config NAME``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rnapredict.model.network import ModelConfig
from rnapredict.model.presets import SMALL_MODEL, TINY_MODEL


@dataclass(frozen=True)
class LossWeights:
    diffusion: float = 1.0
    smooth_lddt: float = 1.0
    distogram: float = 0.3
    torsion: float = 0.1
    plddt: float = 0.1
    ptm: float = 0.1


@dataclass(frozen=True)
class TrainConfig:
    """Training settings.

    Attributes:
        model: network configuration.
        batch_size: chains (crops) per step.
        n_noise: noise levels per crop sharing one trunk pass (AF3's diffusion batch).
        lr, warmup, weight_decay, clip: AdamW settings; lr is constant after warmup.
        curriculum: (from_step, crop_len) pairs, crop length grows with the step.
        val_steps, val_samples: diffusion steps / samples per validation chain.
        loss: loss weights.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    batch_size: int = 8
    n_noise: int = 4
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 0.0
    clip: float = 1.0
    curriculum: tuple[tuple[int, int], ...] = ((0, 32), (1500, 64), (5000, 128))
    val_steps: int = 10
    val_samples: int = 1
    loss: LossWeights = field(default_factory=LossWeights)

    def crop_len(self, step: int) -> int:
        length = self.curriculum[0][1]
        for start, n in self.curriculum:
            if step >= start:
                length = n
        return length

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


CONFIGS: dict[str, TrainConfig] = {
    "tiny": TrainConfig(
        model=TINY_MODEL, batch_size=4, n_noise=2, lr=3e-3, warmup=5,
        curriculum=((0, 24),), val_steps=4,
    ),
    "small": TrainConfig(model=SMALL_MODEL, n_noise=2),
    "small_noprior": TrainConfig(
        model=dataclasses.replace(SMALL_MODEL, aform_prior=False), n_noise=2
    ),
    "base": TrainConfig(model=ModelConfig()),
}  # fmt: skip
