"""Training: losses (golden values), a tiny model that learns, exact checkpoint resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rnapredict.features.featurize import collate, featurize_arrays
from rnapredict.features.secondary import partner_array
from rnapredict.geometry.aform import aform_c1
from rnapredict.model.diffusion import random_rotation
from rnapredict.model.network import RnaFoldNet
from rnapredict.model.presets import TINY_MODEL
from rnapredict.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rnapredict.train.configs import CONFIGS
from rnapredict.train.data import Batch
from rnapredict.train.losses import (
    c1_pseudo_angles,
    kabsch_superpose,
    lddt_per_residue,
    smooth_lddt_loss,
    tm_after_kabsch,
    tm_d0,
)
from rnapredict.train.step import compute_losses
from tests.conftest import shared_path

SEQ = "GGGCGCAAGCCUUCGGGCGCCCAAUUGGCGAAAGCCAA"
SS = "((((((....))))))......((((....))))...."


def _truth() -> torch.Tensor:
    x = torch.from_numpy(aform_c1(SEQ, SS)).float()
    return (x - x.mean(0))[None]


def test_kabsch_tm_lddt_on_rigid_copy() -> None:
    x = _truth()
    g = torch.Generator().manual_seed(0)
    y = x @ random_rotation(1, g)[0].float().T + torch.tensor([3.0, -2.0, 5.0])
    m = torch.ones(1, x.shape[1], dtype=torch.bool)
    torch.testing.assert_close(kabsch_superpose(y, x, m), x, atol=1e-4, rtol=0)
    assert math.isclose(float(tm_after_kabsch(y, x, m)[0]), 1.0, abs_tol=1e-5)
    assert float(lddt_per_residue(y, x, m).min()) == 1.0
    # smooth lDDT at zero error is the mean of sigmoid(0.5, 1, 2, 4) (AF3 Alg. 27)
    want = 1 - np.mean([1 / (1 + math.exp(-c)) for c in (0.5, 1, 2, 4)])
    assert math.isclose(float(smooth_lddt_loss(y, x, m)), want, rel_tol=1e-4)


def test_tm_d0_matches_usalign_rna() -> None:
    d0 = tm_d0(torch.tensor([10, 14, 18, 22, 26, 100]))
    want = [0.3, 0.4, 0.5, 0.6, 0.7, 0.6 * math.sqrt(99.5) - 2.5]
    torch.testing.assert_close(d0, torch.tensor(want), atol=1e-5, rtol=0)


def test_pseudo_angles_of_helix_are_periodic() -> None:
    n = 12
    t = torch.arange(n, dtype=torch.float64) * math.radians(32.7)
    x = torch.stack([9.0 * torch.cos(t), 9.0 * torch.sin(t), 2.8 * torch.arange(n)], -1)[None]
    sc, ok = c1_pseudo_angles(x, torch.ones(1, n, dtype=torch.bool))
    assert ok[0, 1:-1, 0].all() and ok[0, 1:-2, 1].all() and not ok[0, 0].any()
    ang = sc[0, 1:-2]
    torch.testing.assert_close(ang, ang[:1].expand_as(ang), atol=1e-6, rtol=0)


def test_tiny_model_loss_decreases() -> None:
    cfg = CONFIGS["tiny"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = RnaFoldNet(TINY_MODEL)
    x = _truth()
    prior = aform_c1(SEQ, SS)
    f = collate([featurize_arrays(SEQ, partner_array(SS), TINY_MODEL.edges, prior)] * 2)
    batch = Batch(f, x.repeat(2, 1, 1), ["a", "b"])
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        terms = compute_losses(net, batch, cfg, torch.Generator().manual_seed(7))
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()
        losses.append(float(terms["loss"].detach()))
    assert losses[-1] < 0.8 * losses[0], losses


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = RnaFoldNet(TINY_MODEL)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    opt.step()
    gen = torch.Generator().manual_seed(11)
    save_checkpoint(tmp_path, 3, net, opt, gen, {"sampler": {"pos": 2}})
    want = torch.rand(4, generator=gen)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        net2 = RnaFoldNet(TINY_MODEL)
    opt2 = torch.optim.AdamW(net2.parameters(), lr=1e-3)
    gen2 = torch.Generator().manual_seed(99)
    ckpt = latest_checkpoint(tmp_path)
    assert ckpt is not None and ckpt.name == "ckpt-00000003"
    state = load_checkpoint(ckpt, net2, opt2, gen2)
    assert state["step"] == 3 and state["sampler"] == {"pos": 2}
    assert torch.equal(torch.rand(4, generator=gen2), want)
    for (n1, p1), (_, p2) in zip(net.named_parameters(), net2.named_parameters(), strict=True):
        assert torch.equal(p1, p2), n1
        for k in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(opt.state[p1][k], opt2.state[p2][k])


@pytest.mark.slow
def test_resume_is_exact(tmp_path: Path) -> None:
    """12 steps in one go == 6 steps, stop, --resume to 12 (bitwise)."""
    from safetensors.torch import load_file

    from rnapredict.train.__main__ import main

    data = shared_path("data")
    common = ["--config", "tiny", "--data", str(data), "--val-minutes", "999"]
    common += ["--log-every", "3", "--threads", "1"]
    main([*common, "--out", str(tmp_path / "a"), "--max-steps", "12"])
    main([*common, "--out", str(tmp_path / "b"), "--max-steps", "6"])
    main([*common, "--out", str(tmp_path / "b"), "--max-steps", "12", "--resume"])
    for name in ("model.safetensors", "ema.safetensors"):  # weights and their average
        a = load_file(str(tmp_path / "a" / "ckpt-00000012" / name))
        b = load_file(str(tmp_path / "b" / "ckpt-00000012" / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert int(a["__ema_updates__"][0]) == 12
    rows = [json.loads(s) for s in (tmp_path / "b" / "train.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [3, 6, 9, 12]
