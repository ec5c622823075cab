"""EDM noise schedule, training noise distribution and the AF3 Algorithm 18 sampler over C1′.

Randomness: every sample owns a ``torch.Generator`` (derived from the caller's one), so a batch
of samples equals the same samples drawn one by one, and chunking over samples is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class EDMConfig:
    """EDM / AF3 diffusion settings (defaults fixed by docs/DESIGN.md; σ in Å).

    Attributes:
        sigma_data: data scale σ_d, Å.
        s_max, s_min, p: schedule c_τ = σ_d (s_max^{1/p} + τ/T (s_min^{1/p} − s_max^{1/p}))^p.
        gamma0, gamma_min: churn γ0 applied while c_τ > γ_min.
        noise_scale: λ, step_scale: η.
        steps: default sampling steps T.
        p_mean, p_std: training σ = σ_d · exp(p_mean + p_std · N(0, 1)) (AF3).
        trans_aug: s_trans of the random translation augmentation, Å.
    """

    sigma_data: float = 16.0
    s_max: float = 160.0
    s_min: float = 4e-4
    p: float = 7.0
    gamma0: float = 0.8
    gamma_min: float = 1.0
    noise_scale: float = 1.003
    step_scale: float = 1.5
    steps: int = 20
    p_mean: float = -1.2
    p_std: float = 1.5
    trans_aug: float = 1.0


def noise_schedule(cfg: EDMConfig, steps: int) -> torch.Tensor:
    """[steps + 1] float64 noise levels c_0 > … > c_T, Å."""
    t = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    a, b = cfg.s_max ** (1 / cfg.p), cfg.s_min ** (1 / cfg.p)
    return cfg.sigma_data * (a + t * (b - a)) ** cfg.p


def edm_coefficients(
    sigma: torch.Tensor, sigma_data: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """EDM preconditioning (c_in, c_skip, c_out, c_noise) for σ: [B] → four [B] tensors."""
    s2, d2 = sigma**2, sigma_data**2
    c_in = 1.0 / torch.sqrt(s2 + d2)
    c_skip = d2 / (s2 + d2)
    c_out = sigma * sigma_data / torch.sqrt(s2 + d2)
    c_noise = torch.log(sigma / sigma_data) / 4.0
    return c_in, c_skip, c_out, c_noise


def loss_weight(sigma: torch.Tensor, sigma_data: float) -> torch.Tensor:
    """EDM loss weight (σ² + σ_d²) / (σ σ_d)²: [B] → [B]."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def train_sigma(cfg: EDMConfig, n: int, generator: torch.Generator) -> torch.Tensor:
    """[n] training noise levels, Å."""
    z = torch.randn(n, generator=generator)
    return cfg.sigma_data * torch.exp(cfg.p_mean + cfg.p_std * z)


def random_rotation(n: int, generator: torch.Generator) -> torch.Tensor:
    """[n, 3, 3] uniformly random rotation matrices (from normalized Gaussian quaternions)."""
    q = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    rot = torch.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ],
        dim=-1,
    )  # fmt: skip
    return rot.reshape(n, 3, 3)


def masked_centre(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """x: [B, L, 3], mask: [B, L] → x minus its masked centroid (padding set to 0)."""
    m = mask[..., None].to(x.dtype)
    mu = (x * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1.0)
    return (x - mu) * m


def centre_random_augmentation(
    x: torch.Tensor, mask: torch.Tensor, generators: list[torch.Generator], s_trans: float
) -> torch.Tensor:
    """AF3 Algorithm 19 per sample: centre, random rotation, random translation (Å).

    Args:
        x: [S, L, 3]; mask: [S, L]; generators: one per sample.
    """
    out = []
    for s, g in enumerate(generators):
        rot = random_rotation(1, g)[0].to(x.dtype)
        trans = s_trans * torch.randn(1, 3, generator=g, dtype=torch.float64).to(x.dtype)
        xc = masked_centre(x[s : s + 1], mask[s : s + 1])[0]
        out.append((xc @ rot.T + trans) * mask[s, :, None].to(x.dtype))
    return torch.stack(out)


def _randn(shape: tuple[int, ...], generators: list[torch.Generator]) -> torch.Tensor:
    return torch.stack([torch.randn(shape, generator=g, dtype=torch.float64) for g in generators])


DenoiseFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@torch.no_grad()
def sample(
    denoise: DenoiseFn,
    mask: torch.Tensor,
    generators: list[torch.Generator],
    cfg: EDMConfig,
    steps: int | None = None,
    init: torch.Tensor | None = None,
    init_sigma: float | None = None,
) -> torch.Tensor:
    """AF3 Algorithm 18: generate C1′ coordinates.

    Args:
        denoise: (x_noisy [S, L, 3], sigma [S]) → denoised [S, L, 3], Å.
        mask: [S, L] bool residues present.
        generators: S generators, one per sample.
        cfg: diffusion settings.
        steps: sampling steps T (None: cfg.steps).
        init, init_sigma: optional partial diffusion (SDEdit-style): start from ``init``
            [S, L, 3] (Å) plus noise at the first schedule level ≤ ``init_sigma`` (Å) and run
            the remaining steps of the same schedule. None: the full schedule from pure noise.

    Returns:
        [S, L, 3] float32 coordinates, Å.
    """
    steps = cfg.steps if steps is None else steps
    c = noise_schedule(cfg, steps)
    device = mask.device
    mask = mask.cpu()
    n_s, n = mask.shape
    m = mask[..., None].double()
    start = 0
    if init is not None and init_sigma is not None:
        start = int(torch.nonzero(c <= init_sigma)[0]) if bool((c <= init_sigma).any()) else steps
        start = min(start, steps - 1)
        x = (init.cpu().double() + float(c[start]) * _randn((n, 3), generators)) * m
    else:
        x = float(c[0]) * _randn((n, 3), generators) * m
    for tau in range(start + 1, steps + 1):
        c_prev, c_now = float(c[tau - 1]), float(c[tau])
        x = centre_random_augmentation(x, mask, generators, cfg.trans_aug)
        gamma = cfg.gamma0 if c_now > cfg.gamma_min else 0.0
        t_hat = c_prev * (gamma + 1.0)
        xi = cfg.noise_scale * (t_hat**2 - c_prev**2) ** 0.5 * _randn((n, 3), generators)
        x_noisy = x + xi * m
        sigma = torch.full((n_s,), t_hat, dtype=torch.float32, device=device)
        x_den = denoise(x_noisy.float().to(device), sigma).double().cpu()
        delta = (x_noisy - x_den) / t_hat
        x = (x_noisy + cfg.step_scale * (c_now - t_hat) * delta) * m
    return x.float()
