"""Training schedule pieces: lr schedule, EMA, refinement draws from the A-form prior, resume
with a changed schedule."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

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
from tests.conftest import shared_path

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
    cfg = TrainConfig(prior_frac=0.5, prior_sigma=(0.5, 8.0), prior_full_sigma=4.0)
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
    # every refinement base lies on the segment x0 → aligned prior, no farther than σ / 4 Å
    d = base - x0
    full = aligned - x0
    lam = (d * full).sum((1, 2)) / (full * full).sum((1, 2))
    torch.testing.assert_close(d[refine], lam[refine, None, None] * full[refine], atol=1e-4, rtol=0)
    lam_max = (sig / 4.0).clamp(max=1.0)
    assert bool(((lam[refine] > -1e-6) & (lam[refine] < lam_max[refine] + 1e-6)).all())
    at_max = (lam - lam_max).abs() < 1e-5
    assert int((at_max & refine).sum()) >= int(refine.sum()) // 4  # half of them at λ_max
    assert bool((at_max & refine & (sig >= 4.0)).any())  # some start from the whole prior
    # the same generator state gives the same draws
    again = refinement_draws(x0, prior, has, mask, sigma, cfg, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], base) and torch.equal(again[1], refine)


def test_refinement_weight_interpolates_edm_weight() -> None:
    """Weight 1 / (MSE(base) + σ²σd²/(σ²+σd²)): the EDM weight when base = truth."""
    x0, prior, mask = _x0_and_prior(2)
    base = kabsch_superpose(prior, x0, mask)
    refine = torch.tensor([True, True])
    sigma = torch.tensor([3.0, 8.0])
    mse = float((((base - x0) ** 2).sum(-1)).mean() / 3.0)
    sd2 = 256.0
    got = float(diffusion_mse(base, x0, sigma, mask, 16.0, base, refine))
    want = sum(mse / (mse + s * s * sd2 / (s * s + sd2)) for s in (3.0, 8.0)) / 2
    assert math.isclose(got, want, rel_tol=1e-4)
    assert float(diffusion_mse(x0, x0, sigma, mask, 16.0, base, refine)) < 1e-8
    # a refinement draw whose base is the truth has exactly the EDM weight
    plain = float(diffusion_mse(base, x0, sigma, mask, 16.0))
    as_refine = float(diffusion_mse(base, x0, sigma, mask, 16.0, x0.clone(), refine))
    assert math.isclose(plain, as_refine, rel_tol=1e-5)
    assert math.isclose(
        plain, mse * sum((s * s + sd2) / (s * s * sd2) for s in (3.0, 8.0)) / 2, rel_tol=1e-4
    )


def test_refinement_with_padding_equals_unpadded() -> None:
    """A short crop padded into a longer batch: same base on real residues, same loss."""
    x0, prior, mask = _x0_and_prior(1)
    n = x0.shape[1]
    pad = 9
    xp = torch.cat([x0, torch.zeros(1, pad, 3)], 1)
    pp = torch.cat([prior, torch.zeros(1, pad, 3)], 1)
    mp = torch.cat([mask, torch.zeros(1, pad, dtype=torch.bool)], 1)
    cfg = TrainConfig(prior_frac=1.0, prior_full_sigma=0.1)  # always the whole prior
    sig = torch.full((1,), 5.0)
    b1, r1, s1 = refinement_draws(x0, prior, mask, mask, sig, cfg, torch.Generator().manual_seed(2))
    b2, r2, s2 = refinement_draws(xp, pp, mp, mp, sig, cfg, torch.Generator().manual_seed(2))
    assert bool(r1.all()) and bool(r2.all()) and torch.equal(s1, s2)
    torch.testing.assert_close(b2[:, :n], b1, atol=1e-4, rtol=0)
    pred = b1 + 0.5
    l1 = diffusion_mse(pred, x0, s1, mask, 16.0, b1, r1)
    l2 = diffusion_mse(torch.cat([pred, torch.full((1, pad, 3), 7.0)], 1), xp, s2, mp, 16.0, b2, r2)
    torch.testing.assert_close(l1, l2, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_resume_with_new_validation_protocol_retires_best(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schedule change resumes; a validation change resets the best score and moves best/."""
    from rnapredict.train.__main__ import main

    data = shared_path("data")
    out = tmp_path / "run"
    common = ["--data", str(data), "--out", str(out), "--threads", "1", "--val-limit", "2"]
    main(["--config", "tiny", *common, "--max-steps", "2", "--val-minutes", "0"])
    assert (out / "best" / "model.safetensors").exists()
    later = dataclasses.replace(CONFIGS["tiny"], val_init_sigma=3.0, lr_decay=(2, 4))
    monkeypatch.setitem(CONFIGS, "tiny_later", later)
    main(
        ["--config", "tiny_later", *common, "--max-steps", "3", "--resume", "--val-minutes", "999"]
    )
    state = json.loads((out / "ckpt-00000003" / "state.json").read_text())
    assert state["best_val_tm"] == -1.0 and state["config"]["val_init_sigma"] == 3.0
    assert (out / "best-previous" / "model.safetensors").exists() and not (out / "best").exists()
    bigger = dataclasses.replace(CONFIGS["tiny"], batch_size=5)
    monkeypatch.setitem(CONFIGS, "tiny_bigger", bigger)
    with pytest.raises(SystemExit, match="batch_size"):
        main(["--config", "tiny_bigger", *common, "--max-steps", "4", "--resume"])
