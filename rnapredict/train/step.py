"""One training step's forward pass: all losses for a batch."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from rnapredict.model.diffusion import train_sigma
from rnapredict.model.network import RnaFoldNet
from rnapredict.train.configs import TrainConfig
from rnapredict.train.data import Batch
from rnapredict.train.losses import (
    c1_pseudo_angles,
    diffusion_mse,
    distogram_loss,
    kabsch_superpose,
    lddt_per_residue,
    plddt_loss,
    smooth_lddt_loss,
    tm_after_kabsch,
    torsion_loss,
)


def compute_losses(
    net: RnaFoldNet, batch: Batch, cfg: TrainConfig, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """Weighted total (key ``loss``) and each term, for one batch.

    The trunk runs once per crop; ``cfg.n_noise`` noise levels per crop share it.
    """
    f, x0 = batch.features, batch.coords
    n = cfg.n_noise
    edm = net.cfg.edm
    cond = net.run_trunk(f)
    dist_logits, tors = net.aux_heads(cond)
    tors_true, tors_valid = c1_pseudo_angles(x0, f.mask)

    fn, cn = f.repeat(n), cond.repeat(n)
    xn = x0.repeat_interleave(n, 0)
    mask = fn.mask
    sigma = train_sigma(edm, xn.shape[0], generator)
    base, refine = xn, torch.zeros(xn.shape[0], dtype=torch.bool)
    if cfg.prior_frac > 0:
        base, refine, sigma = refinement_draws(
            xn, fn.prior, fn.has_prior, mask, sigma, cfg, generator
        )
    noise = torch.randn(xn.shape, generator=generator) * sigma[:, None, None]
    x_noisy = (base + noise) * mask[..., None]
    x_den = net.denoise(x_noisy, sigma, cn, fn)

    pl_logits, ptm_logit = net.confidence_logits(x_den, cn, fn)
    with torch.no_grad():
        lddt_t = lddt_per_residue(x_den, xn, mask)
        tm_t = tm_after_kabsch(x_den, xn, mask)

    w = cfg.loss
    terms = {
        "diffusion": diffusion_mse(x_den, xn, sigma, mask, edm.sigma_data, base, refine),
        "smooth_lddt": smooth_lddt_loss(x_den, xn, mask),
        "distogram": distogram_loss(dist_logits, x0, f.nbr, f.edge_mask),
        "torsion": torsion_loss(tors, tors_true, tors_valid),
        "plddt": plddt_loss(pl_logits, lddt_t, mask),
        "ptm": F.binary_cross_entropy_with_logits(ptm_logit.float(), tm_t.float()),
    }
    total = sum(getattr(w, k) * v for k, v in terms.items())
    terms["refine_frac"] = refine.float().mean()
    terms["loss"] = total
    terms["tm_denoised"] = tm_t.mean()
    return terms


def refinement_draws(
    x0: torch.Tensor,
    prior: torch.Tensor,
    has_prior: torch.Tensor,
    mask: torch.Tensor,
    sigma: torch.Tensor,
    cfg: TrainConfig,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Move a ``cfg.prior_frac`` share of the clean bases towards the A-form prior.

    Inference starts from the prior noised to a few Å, so the denoiser must learn to map
    ``prior + σ n`` (and points between it and the truth, met later on the trajectory) to the
    truth. A refinement draw's σ is log-uniform in ``cfg.prior_sigma`` and its base is
    ``x0 + λ (P − x0)`` with P the prior superposed on x0 and λ = λ_max for half of the draws,
    U(0, λ_max) otherwise, λ_max = min(1, σ / ``cfg.prior_full_sigma``): the whole prior error
    only at noise levels where the sampler meets it (its first steps); at small σ the
    preconditioned denoiser can only make small corrections, and the trajectory is near its end.

    Args:
        x0, prior: [B, L, 3] Å; has_prior, mask: [B, L] bool; sigma: [B] Å.

    Returns:
        base [B, L, 3], refine [B] bool (which draws were moved), sigma [B].
    """
    b = x0.shape[0]
    u = torch.rand(b, 3, generator=generator)
    ok = (has_prior | ~mask).all(1) & mask.any(1)
    refine = (u[:, 0] < cfg.prior_frac) & ok
    lo, hi = cfg.prior_sigma
    s_ref = torch.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u[:, 2])
    lam_max = (s_ref / cfg.prior_full_sigma).clamp(max=1.0)
    lam = lam_max * torch.where(u[:, 1] < 0.5, torch.ones(b), torch.rand(b, generator=generator))
    aligned = kabsch_superpose(prior, x0, mask)
    base = x0 + (lam * refine.to(x0.dtype))[:, None, None] * (aligned - x0)
    return base.detach(), refine, torch.where(refine, s_ref.to(sigma.dtype), sigma)
