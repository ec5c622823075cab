"""Training losses over C1′ coordinates (dense pair terms are fine here: crops ≤ a few hundred)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from rnapredict.model.diffusion import loss_weight
from rnapredict.model.layers import gather_nodes
from rnapredict.model.network import distance_bins

LDDT_CUTOFFS = (0.5, 1.0, 2.0, 4.0)


def _rigid_fit(
    mobile: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weighted Kabsch fit (float64, no gradient): rotation [B, 3, 3], centroids [B, 1, 3] ×2."""
    with torch.no_grad():
        w = weight[..., None].double()
        a, b = mobile.detach().double(), target.detach().double()
        tot = w.sum(1, keepdim=True).clamp(min=1e-6)
        mu_a, mu_b = (a * w).sum(1, keepdim=True) / tot, (b * w).sum(1, keepdim=True) / tot
        h = torch.einsum("bli,blj->bij", (a - mu_a) * w, b - mu_b)
        u, _, vt = torch.linalg.svd(h)
        d = torch.sign(torch.linalg.det(vt.transpose(1, 2) @ u.transpose(1, 2)))
        diag = torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1)
        rot = vt.transpose(1, 2) @ torch.diag_embed(diag) @ u.transpose(1, 2)
    return rot, mu_a, mu_b


def kabsch_superpose(
    mobile: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Optimal rigid superposition of ``mobile`` onto ``target`` (no gradient through R, t).

    Args:
        mobile, target: [B, L, 3]; mask: [B, L] bool, or float weights.

    Returns:
        [B, L, 3] mobile moved onto target.
    """
    rot, mu_a, mu_b = _rigid_fit(mobile, target, mask.to(mobile.dtype))
    rot, mu_a, mu_b = rot.to(mobile.dtype), mu_a.to(mobile.dtype), mu_b.to(mobile.dtype)
    return torch.einsum("bij,blj->bli", rot, mobile - mu_a) + mu_b


def diffusion_mse(
    pred: torch.Tensor,
    true: torch.Tensor,
    sigma: torch.Tensor,
    mask: torch.Tensor,
    sigma_data: float,
    base: torch.Tensor | None = None,
    refine: torch.Tensor | None = None,
) -> torch.Tensor:
    """EDM-weighted MSE (Å²·weight) after superposing the truth onto the prediction.

    pred, true: [B, L, 3]; sigma: [B]; mask: [B, L] → scalar. Refinement draws (``refine``
    [B] bool, clean input ``base`` [B, L, 3] ≠ true) are weighted by
    1 / (MSE(base, true) + σ² σ_d² / (σ² + σ_d²)) instead: equal to the EDM weight when the base
    is the truth, and ≈ 1 / MSE(base, true) (the share of the input's own error left) when the
    base's error dominates the noise.
    """
    m = mask.to(pred.dtype)

    def mse(x: torch.Tensor) -> torch.Tensor:
        aligned = kabsch_superpose(true, x, mask)
        return (((x - aligned) ** 2).sum(-1) * m).sum(1) / (3.0 * m.sum(1).clamp(min=1.0))

    per = mse(pred)
    weight = loss_weight(sigma, sigma_data)
    if refine is not None and base is not None and bool(refine.any()):
        weight = torch.where(refine, 1.0 / (mse(base).detach() + 1.0 / weight), weight)
    return (per * weight).mean()


def _pair_dists(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(((x[:, :, None] - x[:, None, :]) ** 2).sum(-1) + 1e-8)


def smooth_lddt_loss(pred: torch.Tensor, true: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """AF3 Alg. 27 smooth lDDT loss (radius 30 Å for nucleotides): [B, L, 3] ×2, [B, L] → scalar."""
    dp, dt = _pair_dists(pred), _pair_dists(true)
    eye = torch.eye(pred.shape[1], dtype=torch.bool, device=pred.device)
    pm = (mask[:, :, None] & mask[:, None, :] & ~eye & (dt < 30.0)).to(pred.dtype)
    err = (dp - dt).abs()
    score = sum(torch.sigmoid(c - err) for c in LDDT_CUTOFFS) / len(LDDT_CUTOFFS)
    lddt = (score * pm).sum((1, 2)) / pm.sum((1, 2)).clamp(min=1.0)
    return (1.0 - lddt).mean()


@torch.no_grad()
def lddt_per_residue(
    pred: torch.Tensor, true: torch.Tensor, mask: torch.Tensor, radius: float = 15.0
) -> torch.Tensor:
    """Per-residue lDDT (0–1) over pairs within ``radius`` Å in the truth: → [B, L]."""
    dp, dt = _pair_dists(pred.float()), _pair_dists(true.float())
    eye = torch.eye(pred.shape[1], dtype=torch.bool, device=pred.device)
    pm = (mask[:, :, None] & mask[:, None, :] & ~eye & (dt < radius)).float()
    err = (dp - dt).abs()
    score = sum((err < c).float() for c in LDDT_CUTOFFS) / len(LDDT_CUTOFFS)
    return (score * pm).sum(2) / pm.sum(2).clamp(min=1.0)


def tm_d0(n: torch.Tensor) -> torch.Tensor:
    """US-align RNA d0 (Å) for reference length n: [B] → [B]."""
    n = n.float()
    d0 = 0.6 * torch.sqrt((n - 0.5).clamp(min=0.0)) - 2.5
    small = torch.full_like(n, 0.3)
    small = torch.where(n >= 12, 0.4, small)
    small = torch.where(n >= 16, 0.5, small)
    small = torch.where(n >= 20, 0.6, small)
    small = torch.where(n >= 24, 0.7, small)
    return torch.where(n >= 30, d0, small)


@torch.no_grad()
def tm_after_kabsch(pred: torch.Tensor, true: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """TM-score of pred vs true (index alignment) after Kabsch + a few TM-weighted refinements.

    An approximation of TM-score's search (a lower bound), cheap enough for training targets.
    Returns [B] in 0–1.
    """
    n = mask.sum(1)
    d0 = tm_d0(n)[:, None]
    m = mask.float()
    w = m.clone()
    best = torch.zeros(pred.shape[0], device=pred.device)
    for _ in range(4):
        moved = kabsch_superpose(pred, true, w)
        d = torch.sqrt(((moved - true) ** 2).sum(-1))
        s = 1.0 / (1.0 + (d / d0) ** 2)
        best = torch.maximum(best, (s * m).sum(1) / n.clamp(min=1).float())
        w = s * m
    return best


def distogram_loss(
    logits: torch.Tensor, true: torch.Tensor, nbr: torch.Tensor, edge_mask: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of sparse-edge distance bins.

    logits: [B, L, K, nb]; true: [B, L, 3]; nbr, edge_mask: [B, L, K] → scalar.
    """
    d = torch.sqrt(((true[:, :, None] - gather_nodes(true, nbr)) ** 2).sum(-1) + 1e-8)
    target = distance_bins(d, logits.shape[-1])
    ce = F.cross_entropy(logits.flatten(0, 2), target.flatten(), reduction="none")
    m = edge_mask.flatten().float()
    return (ce * m).sum() / m.sum().clamp(min=1.0)


def c1_pseudo_angles(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets for the torsion head from a C1′ trace.

    Args:
        x: [B, L, 3]; mask: [B, L].

    Returns:
        sincos: [B, L, 2, 2] (angle at i; torsion i-1..i+2) as (sin, cos);
        valid: [B, L, 2] bool.
    """
    b, n, _ = x.shape
    out = torch.zeros(b, n, 2, 2, dtype=x.dtype, device=x.device)
    valid = torch.zeros(b, n, 2, dtype=torch.bool, device=x.device)
    if n >= 3:
        v1 = x[:, :-2] - x[:, 1:-1]
        v2 = x[:, 2:] - x[:, 1:-1]
        cos = (v1 * v2).sum(-1) / (v1.norm(dim=-1) * v2.norm(dim=-1)).clamp(min=1e-6)
        sin = torch.cross(v1, v2, dim=-1).norm(dim=-1) / (v1.norm(dim=-1) * v2.norm(dim=-1)).clamp(
            min=1e-6
        )
        out[:, 1:-1, 0] = torch.stack([sin, cos], -1)
        valid[:, 1:-1, 0] = mask[:, :-2] & mask[:, 1:-1] & mask[:, 2:]
    if n >= 4:
        b0, b1, b2 = x[:, 1:-2] - x[:, :-3], x[:, 2:-1] - x[:, 1:-2], x[:, 3:] - x[:, 2:-1]
        n1, n2 = torch.cross(b0, b1, dim=-1), torch.cross(b1, b2, dim=-1)
        m1 = torch.cross(n1, b1 / b1.norm(dim=-1, keepdim=True).clamp(min=1e-6), dim=-1)
        xx, yy = (n1 * n2).sum(-1), (m1 * n2).sum(-1)
        r = torch.sqrt(xx**2 + yy**2).clamp(min=1e-6)
        out[:, 1:-2, 1] = torch.stack([-yy / r, xx / r], -1)
        valid[:, 1:-2, 1] = mask[:, :-3] & mask[:, 1:-2] & mask[:, 2:-1] & mask[:, 3:]
    return out, valid


def torsion_loss(pred: torch.Tensor, true: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Squared error of unit (sin, cos) pairs: [B, L, 2, 2] ×2, [B, L, 2] → scalar."""
    err = ((pred - true) ** 2).sum(-1)
    v = valid.float()
    return (err * v).sum() / v.sum().clamp(min=1.0)


def plddt_loss(logits: torch.Tensor, lddt: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of binned lDDT: logits [B, L, nb]; lddt [B, L] in 0–1 → scalar."""
    nb = logits.shape[-1]
    target = (lddt * nb).long().clamp(0, nb - 1)
    ce = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none")
    m = mask.flatten().float()
    return (ce * m).sum() / m.sum().clamp(min=1.0)
