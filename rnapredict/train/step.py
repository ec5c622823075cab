"""One training step's forward pass: all losses for a batch."""

from __future__ import annotations

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
    noise = torch.randn(xn.shape, generator=generator) * sigma[:, None, None]
    x_noisy = (xn + noise) * mask[..., None]
    x_den = net.denoise(x_noisy, sigma, cn, fn)

    pl_logits, ptm_logit = net.confidence_logits(x_den, cn, fn)
    with torch.no_grad():
        lddt_t = lddt_per_residue(x_den, xn, mask)
        tm_t = tm_after_kabsch(x_den, xn, mask)

    w = cfg.loss
    terms = {
        "diffusion": diffusion_mse(x_den, xn, sigma, mask, edm.sigma_data),
        "smooth_lddt": smooth_lddt_loss(x_den, xn, mask),
        "distogram": distogram_loss(dist_logits, x0, f.nbr, f.edge_mask),
        "torsion": torsion_loss(tors, tors_true, tors_valid),
        "plddt": plddt_loss(pl_logits, lddt_t, mask),
        "ptm": F.binary_cross_entropy_with_logits(ptm_logit.float(), tm_t.float()),
    }
    total = sum(getattr(w, k) * v for k, v in terms.items())
    terms["loss"] = total
    terms["tm_denoised"] = tm_t.mean()
    return terms
