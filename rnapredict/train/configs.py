"""Named training configurations (``--config NAME``)."""

from __future__ import annotations

import dataclasses
import math
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
        lr, warmup, weight_decay, clip: AdamW settings; lr warms up linearly, then stays
            constant unless ``lr_decay`` is set.
        curriculum: (from_step, crop_len) pairs, crop length grows with the step.
        lr_decay: optional (start_step, end_step): cosine decay of the lr from ``lr`` to
            ``lr_final`` between these steps (``lr_final`` afterwards).
        ema_decay: decay of the exponential moving average of the weights (AF3: 0.999);
            validation, ``best`` and export use the averaged weights. 0 disables it.
        prior_frac: fraction of noise draws whose clean base is moved towards the A-form prior
            (refinement draws: the input is ``x0 + λ (prior − x0) + σ n``, the target still x0),
            so the denoiser learns the inference path that starts from the prior.
        prior_sigma: (min, max) σ of refinement draws, log-uniform, Å.
        prior_full_sigma: σ (Å) from which a refinement draw may start from the whole prior;
            below it the share of the prior error is capped at σ / prior_full_sigma.
        val_steps, val_samples: diffusion steps / samples per validation chain.
        val_init_sigma: start validation sampling from the A-form prior at this σ (the shipped
            inference setting); None: full schedule from noise.
        data_sources: training/validation data (``c1``, ``allatom``; see
            :func:`rnapredict.train.data.load_chains`).
        mfe_frac: fraction of train chains drawn with their ViennaRNA MFE structure (and its
            prior) instead of the 3D-annotated one — the structure the engine sees at
            inference — so the model learns not to trust the input pairs blindly.
        prior_source: the prior the model is conditioned on and refinement draws start from:
            ``aform`` (the A-form rule) or ``assembly`` (motif-library assembly with the
            chain's own sequence family left out of the library, as ``fold`` sees new RNAs).
        seq_mask: probability that a training chain's nucleotides are hidden (all ``N``) from
            the features (:func:`rnapredict.train.data.make_batch`): against memorising the
            native of a sequence instead of learning corrections of its candidate.
        refresh_priors: with ``prior_source="assembly"``, rebuild every training chain's
            candidate at each epoch (another library choice per chain and epoch) instead of
            one candidate for the whole run.
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
    lr_decay: tuple[int, int] | None = None
    lr_final: float = 1e-4
    ema_decay: float = 0.0
    prior_frac: float = 0.0
    prior_sigma: tuple[float, float] = (0.3, 10.0)
    prior_full_sigma: float = 4.0
    val_steps: int = 10
    val_samples: int = 1
    val_init_sigma: float | None = None
    data_sources: tuple[str, ...] = ("c1",)
    mfe_frac: float = 0.0
    prior_source: str = "aform"
    seq_mask: float = 0.0
    refresh_priors: bool = False
    loss: LossWeights = field(default_factory=LossWeights)

    def lr_at(self, step: int) -> float:
        """Learning rate of ``step``: linear warm-up, constant, optional cosine decay."""
        lr = self.lr * min(1.0, (step + 1) / self.warmup)
        if self.lr_decay is not None:
            start, end = self.lr_decay
            if step >= end:
                return self.lr_final
            if step > start:
                t = (step - start) / max(1, end - start)
                return self.lr_final + 0.5 * (lr - self.lr_final) * (1.0 + math.cos(math.pi * t))
        return lr

    def crop_len(self, step: int) -> int:
        length = self.curriculum[0][1]
        for start, n in self.curriculum:
            if step >= start:
                length = n
        return length

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_SMALL_AA = TrainConfig(
    model=SMALL_MODEL, n_noise=2, ema_decay=0.999, prior_frac=0.5, lr_decay=(8113, 10500),
    val_steps=20, curriculum=((0, 32), (1500, 64), (4000, 128)),
    data_sources=("c1", "allatom"), mfe_frac=0.3,
    # from step 3,6xx (session 3; steps before: A-form priors, val at σ 6): assembled
    # priors, refinement draws from the whole prior at σ ≥ 0.5 Å, val as fold runs
    prior_source="assembly", val_init_sigma=1.0, prior_full_sigma=0.5,
    # lr_decay was (10000, 16000) until step 8,113; validation drifted down from ~6,200 at
    # lr 1e-3, so session 5 decays from the state at 8,113 instead
)  # fmt: skip


CONFIGS: dict[str, TrainConfig] = {
    "tiny": TrainConfig(
        model=TINY_MODEL, batch_size=4, n_noise=2, lr=3e-3, warmup=5,
        curriculum=((0, 24),), val_steps=4, ema_decay=0.9, prior_frac=0.5,
    ),
    "small": TrainConfig(
        model=SMALL_MODEL, n_noise=2, ema_decay=0.999, prior_frac=0.5, lr_decay=(6000, 11000),
        val_steps=20, val_init_sigma=3.0,
    ),
    "small_aa": _SMALL_AA,
    # session 5: fine-tunes of the released weights (--init-from weights) against memorising
    # natives: nucleotides hidden for half the chains / a fresh candidate per chain and epoch
    "small_aa_ft_mask": dataclasses.replace(
        _SMALL_AA, lr=3e-4, warmup=100, lr_decay=None, curriculum=((0, 128),),
        weight_decay=0.05, seq_mask=0.5,
    ),
    "small_aa_ft_fresh": dataclasses.replace(
        _SMALL_AA, lr=3e-4, warmup=100, lr_decay=None, curriculum=((0, 128),),
        weight_decay=0.05, refresh_priors=True,
    ),
    "small_noprior": TrainConfig(
        model=dataclasses.replace(SMALL_MODEL, aform_prior=False), n_noise=2
    ),
    "base": TrainConfig(model=ModelConfig()),
}  # fmt: skip


def check_config(cfg: TrainConfig) -> None:
    """Refuse settings that would train silently wrong (SystemExit naming the setting)."""
    if cfg.warmup < 1:
        raise SystemExit(f"warmup must be >= 1 (got {cfg.warmup})")
    if cfg.lr_decay is not None and not 0 <= cfg.lr_decay[0] <= cfg.lr_decay[1]:
        raise SystemExit(f"lr_decay must be (start, end) with 0 <= start <= end: {cfg.lr_decay}")
    if not 0.0 <= cfg.ema_decay < 1.0:
        raise SystemExit(f"ema_decay must be in [0, 1) (got {cfg.ema_decay})")
    if cfg.prior_source not in ("aform", "assembly"):
        raise SystemExit(f"prior_source must be aform or assembly (got {cfg.prior_source!r})")
    if not 0.0 <= cfg.mfe_frac <= 1.0:
        raise SystemExit(f"mfe_frac must be in [0, 1] (got {cfg.mfe_frac})")
    if not 0.0 <= cfg.seq_mask <= 1.0:
        raise SystemExit(f"seq_mask must be in [0, 1] (got {cfg.seq_mask})")
    if cfg.refresh_priors and cfg.prior_source != "assembly":
        raise SystemExit("refresh_priors needs prior_source assembly")
    if not 0.0 <= cfg.prior_frac <= 1.0:
        raise SystemExit(f"prior_frac must be in [0, 1] (got {cfg.prior_frac})")
    if cfg.prior_frac > 0:
        if not cfg.model.aform_prior:
            raise SystemExit("prior_frac > 0 needs a model with aform_prior=True")
        lo, hi = cfg.prior_sigma
        if not 0 < lo <= hi or cfg.prior_full_sigma <= 0:
            raise SystemExit(f"prior_sigma must be 0 < min <= max (got {cfg.prior_sigma})")
