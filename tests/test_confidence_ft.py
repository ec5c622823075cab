"""Confidence fine-tuning on fold's own samples (rnapredict.train.confidence_ft)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rnapredict.engine import tiny_engine
from rnapredict.train.confidence_ft import (
    ConfidenceFtConfig,
    chain_losses,
    collect,
    fit,
    pairwise_rank_loss,
)
from rnapredict.train.losses import lddt_per_residue, tm_after_kabsch


def test_rank_loss_values() -> None:
    tm = torch.tensor([0.5, 0.2])
    assert float(pairwise_rank_loss(torch.zeros(2), tm)) == pytest.approx(math.log(2), rel=1e-6)
    assert float(pairwise_rank_loss(torch.tensor([10.0, -10.0]), tm)) < 1e-8
    assert float(pairwise_rank_loss(torch.tensor([-10.0, 10.0]), tm)) == pytest.approx(
        20.0, rel=1e-6
    )
    # samples within the margin carry no order
    assert float(pairwise_rank_loss(torch.tensor([-3.0, 3.0]), torch.tensor([0.30, 0.295]))) == 0.0
    # weighting: a pair 0.4 apart counts 4× a pair 0.1 apart
    loss = pairwise_rank_loss(torch.zeros(3), torch.tensor([0.5, 0.4, 0.0]))
    assert float(loss) == pytest.approx(math.log(2), rel=1e-6)


def _rows(net: torch.nn.Module, n_chains: int, seed: int) -> list[dict]:
    """Synthetic chains: priors, samples near them, targets from the real metrics."""
    g = torch.Generator().manual_seed(seed)
    rows = []
    for k in range(n_chains):
        L = 18 + 3 * k
        seq = "".join("ACGU"[int(i)] for i in torch.randint(0, 4, (L,), generator=g))
        true = torch.cumsum(torch.randn(L, 3, generator=g) * 3.5, 0)
        noise = torch.tensor([0.5, 3.0, 8.0, 15.0])[:, None, None]
        x = true[None] + torch.randn(4, L, 3, generator=g) * noise
        mask = torch.ones(4, L, dtype=torch.bool)
        truth = true[None].expand_as(x)
        rows.append({
            "id": f"c{k}", "seq": seq, "ss": ["." * L] * 4, "prior": x.clone(), "x": x,
            "lddt": lddt_per_residue(x, truth, mask), "tm": tm_after_kabsch(x, truth, mask),
        })  # fmt: skip
    return rows


def test_fit_trains_only_the_confidence_module_and_learns_the_order() -> None:
    net = tiny_engine(seed=1).net
    rows = _rows(net, 6, seed=0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    first = float(chain_losses(net, rows[0], ConfidenceFtConfig())["loss"].detach())
    log = fit(net, rows, rows, ConfidenceFtConfig(epochs=12, lr=3e-3), say=lambda *_: None)
    after = net.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "nothing trained"
    assert all(k.startswith("confidence.") for k in changed), sorted(changed)[:5]
    assert float(chain_losses(net, rows[0], ConfidenceFtConfig())["loss"].detach()) < first
    # samples 0.5 Å … 15 Å from the truth: the fitted head orders them (Spearman near 1)
    assert log[-1]["spearman"] > 0.8
    assert log[-1]["model1_tm"] >= np.mean([float(r["tm"].max()) for r in rows]) - 0.05


def test_collect_stores_fold_samples_with_their_real_scores(shared_data: Path) -> None:
    weights = Path(__file__).resolve().parents[1] / "weights"
    rows = collect(None, shared_data, "validation", 3, 60, seed=0, limit=1)
    again = collect(None, shared_data, "validation", 3, 60, seed=0, limit=1)
    assert len(rows) == 1 and weights.is_dir()
    r = rows[0]
    from rnapredict.train.data import load_chains

    ch = next(
        c
        for c in load_chains(shared_data, "validation", None, ("c1", "allatom"))
        if c.id == r["id"]
    )
    x = r["x"]
    assert x.shape == (len(r["ss"]), len(ch.seq), 3) and torch.isfinite(x).all()
    truth = torch.from_numpy(ch.coords).float()[None].expand_as(x)
    mask = torch.ones(x.shape[:2], dtype=torch.bool)
    assert torch.allclose(r["tm"], tm_after_kabsch(x, truth, mask))
    assert torch.allclose(r["lddt"], lddt_per_residue(x, truth, mask))
    assert torch.equal(x, again[0]["x"]) and r["ss"] == again[0]["ss"]  # same seed, same samples
