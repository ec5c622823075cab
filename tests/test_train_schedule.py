"""Training schedule pieces: lr schedule, EMA, refinement draws from the A-form prior, resume
with a changed schedule."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch

from rnapredict.geometry.aform import aform_c1
from rnapredict.model.diffusion import random_rotation
from rnapredict.model.network import RnaFoldNet
from rnapredict.model.presets import TINY_MODEL
from rnapredict.train.configs import CONFIGS, TrainConfig
from rnapredict.train.ema import EmaWeights
from rnapredict.train.losses import diffusion_mse, kabsch_superpose
from rnapredict.train.resume import schedule_changes
from rnapredict.train.step import refinement_draws

SEQ = "GGGCGCAAGCCUUCGGGCGCCCAAUUGGCGAAAGCCAA"
SS = "((((((....))))))......((((....))))...."


def test_lr_schedule_warmup_constant_cosine() -> None:
    cfg = TrainConfig(lr=1e-3, warmup=10, lr_decay=(100, 200), lr_final=1e-4)
    assert math.isclose(cfg.lr_at(0), 1e-4)  # (0 + 1) / 10 of the peak
    assert cfg.lr_at(50) == 1e-3 and cfg.lr_at(100) == 1e-3
    assert math.isclose(cfg.lr_at(150), (1e-3 + 1e-4) / 2, rel_tol=1e-12)  # cosine midpoint
    assert cfg.lr_at(200) == 1e-4 and cfg.lr_at(10_000) == 1e-4
    lrs = [cfg.lr_at(s) for s in range(100, 201)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))  # monotone decay
    assert TrainConfig(lr=1e-3, warmup=10).lr_at(10**6) == 1e-3  # no decay configured


def test_schedule_changes_allow_schedule_refuse_model() -> None:
    def as_saved(cfg: TrainConfig) -> dict:  # as state.json holds it
        return json.loads(json.dumps(cfg.to_dict()))

    base = as_saved(CONFIGS["tiny"])
    later = as_saved(dataclasses.replace(CONFIGS["tiny"], lr_decay=(5, 9), val_init_sigma=3.0))
    assert schedule_changes(base, later) == ["lr_decay", "val_init_sigma"]
    assert schedule_changes(base, base) == []
    other_model = as_saved(dataclasses.replace(CONFIGS["tiny"], batch_size=7))
    with pytest.raises(SystemExit, match="batch_size"):
        schedule_changes(base, other_model)


def test_ema_matches_closed_form() -> None:
    """Weights held at c after starting at w0: shadow = c + (w0 − c) · Π d_k (d_k warm-up)."""
    torch.manual_seed(0)
    net = RnaFoldNet(TINY_MODEL)
    w0 = {k: v.clone() for k, v in net.state_dict().items()}
    ema = EmaWeights(net, decay=0.9)
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(0.5)
    prod = 1.0
    for k in range(1, 21):
        ema.update(net)
        prod *= min(0.9, (1 + k) / (10 + k))
    for name, _ in net.named_parameters():
        want = 0.5 + (w0[name] - 0.5) * prod
        torch.testing.assert_close(ema.shadow[name], want, atol=1e-6, rtol=1e-6)
    twin = ema.averaged(net)
    assert all(torch.equal(twin.state_dict()[k], ema.shadow[k]) for k in ema.shadow)
    assert float(next(net.parameters()).detach().flatten()[0]) == 0.5  # the live net is untouched


def _x0_and_prior(n_batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    prior = torch.from_numpy(aform_c1(SEQ, SS)).float()
    prior = (prior - prior.mean(0)).expand(n_batch, -1, -1).clone()
    g = torch.Generator().manual_seed(3)
    # a "truth" that differs from the prior: rotated copy with a bent second hairpin
    x0 = prior @ random_rotation(1, g)[0].float().T
    x0[:, 22:] += torch.tensor([4.0, -3.0, 2.0])
    mask = torch.ones(n_batch, len(SEQ), dtype=torch.bool)
    return x0, prior, mask


def test_refinement_draws_move_base_to_prior() -> None:
    x0, prior, mask = _x0_and_prior(64)
    cfg = TrainConfig(prior_frac=0.5, prior_sigma=(0.5, 8.0))
    has = mask.clone()
    has[:8] = False  # no prior: never a refinement draw
    sigma = torch.full((64,), 100.0)
    g = torch.Generator().manual_seed(0)
    base, refine, sig = refinement_draws(x0, prior, has, mask, sigma, cfg, g)
    assert not bool(refine[:8].any())
    assert 10 <= int(refine.sum()) <= 46  # ~ half of 56
    assert bool((sig[~refine] == 100.0).all())
    assert bool(((sig[refine] >= 0.5) & (sig[refine] <= 8.0)).all())
    assert torch.equal(base[~refine], x0[~refine])
    aligned = kabsch_superpose(prior, x0, mask)
    # every refinement base lies on the segment x0 → aligned prior, half of them at its end
    d = base - x0
    full = aligned - x0
    lam = (d * full).sum((1, 2)) / (full * full).sum((1, 2))
    torch.testing.assert_close(d[refine], lam[refine, None, None] * full[refine], atol=1e-4, rtol=0)
    assert bool(((lam[refine] > -1e-6) & (lam[refine] < 1 + 1e-6)).all())
    assert int((lam[refine] > 1 - 1e-6).sum()) >= int(refine.sum()) // 4
    # the same generator state gives the same draws
    again = refinement_draws(x0, prior, has, mask, sigma, cfg, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], base) and torch.equal(again[1], refine)


def test_refinement_loss_is_share_of_input_error() -> None:
    """Returning the refinement input scores mse/(mse + 1); the truth scores 0."""
    x0, prior, mask = _x0_and_prior(2)
    base = kabsch_superpose(prior, x0, mask)
    refine = torch.tensor([True, True])
    sigma = torch.full((2,), 3.0)
    mse = float((((base - x0) ** 2).sum(-1)).mean() / 3.0)
    got = float(diffusion_mse(base, x0, sigma, mask, 16.0, base, refine))
    assert math.isclose(got, mse / (mse + 1.0), rel_tol=1e-4)
    assert float(diffusion_mse(x0, x0, sigma, mask, 16.0, base, refine)) < 1e-8
    # standard draws keep the EDM weight (σ² + σd²)/(σ σd)²
    plain = float(diffusion_mse(base, x0, sigma, mask, 16.0))
    assert math.isclose(plain, mse * (9 + 256) / (9 * 256), rel_tol=1e-4)
