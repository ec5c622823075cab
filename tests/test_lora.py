"""LoRA fine-tuning: exact identity at init, frozen base, merge == unmerged, CLI run + export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from rnapredict.engine import load_engine
from rnapredict.engine.engine import FoldEngine
from rnapredict.engine.weights import load_weights, write_weights
from rnapredict.features.featurize import Features, featurize
from rnapredict.io.records import Record
from rnapredict.model.network import RnaFoldNet
from rnapredict.model.presets import SMALL_MODEL, TINY_MODEL
from rnapredict.pipeline.api import FoldOptions
from rnapredict.train.checkpoint import latest_checkpoint, model_tensors
from rnapredict.train.lora import (
    LoraConfig,
    LoraLinear,
    apply_lora,
    lora_state,
    merge_lora,
    target_names,
)
from tests.conftest import shared_path

SEQ = "GGGCGCAAGCCUUCGGGCGCCCAAUUGGCGAAAGCCAA"
SS = "((((((....))))))......((((....))))...."


def _net(seed: int = 0) -> RnaFoldNet:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return RnaFoldNet(TINY_MODEL).eval()


def _forward(net: RnaFoldNet, f: Features) -> tuple[torch.Tensor, ...]:
    """Trunk → denoiser → confidence on a fixed noisy input: (single, pair, x̂, pLDDT, pTM)."""
    g = torch.Generator().manual_seed(5)
    x = 8.0 * torch.randn(1, len(SEQ), 3, generator=g)
    with torch.no_grad():
        cond = net.run_trunk(f)
        den = net.denoise(x, torch.tensor([4.0]), cond, f)
        plddt, ptm = net.confidence_logits(den, cond, f)
    return cond.single, cond.pair, den, plddt, ptm


@pytest.fixture(scope="module")
def feats() -> Features:
    return featurize(SEQ, SS, TINY_MODEL.edges, with_prior=True)


def test_fresh_adapters_leave_outputs_unchanged(feats: Features) -> None:
    base = _forward(_net(), feats)
    net = _net()
    names = apply_lora(net, LoraConfig(rank=4, alpha=8.0), torch.Generator().manual_seed(1))
    assert all(isinstance(net.get_submodule(n), LoraLinear) for n in names)
    first = net.get_submodule(names[0])
    assert float(first.lora_A.detach().abs().max()) > 0  # A is random, B zero
    for want, got in zip(base, _forward(net, feats), strict=True):
        assert torch.equal(got, want)


def test_only_adapters_train_and_count_is_analytic() -> None:
    base = _net()
    cfg = LoraConfig(rank=3)
    linears = {n: m for n, m in base.named_modules() if isinstance(m, nn.Linear)}
    names = apply_lora(base, cfg)
    # every Linear of trunk / denoiser / confidence, not the training-only aux heads
    assert set(names) == set(linears) - {"distogram", "torsion"}
    want = sum(cfg.rank * (linears[n].in_features + linears[n].out_features) for n in names)
    trainable = {n: p for n, p in base.named_parameters() if p.requires_grad}
    assert all(n.endswith((".lora_A", ".lora_B")) for n in trainable)
    assert sum(p.numel() for p in trainable.values()) == want
    assert set(lora_state(base)) == set(trainable)
    with pytest.raises(ValueError, match="already"):
        apply_lora(base, cfg)
    with pytest.raises(ValueError, match="no nn.Linear"):
        apply_lora(_net(), LoraConfig(rank=2, targets=("nothing.*",)))


def test_merge_equals_unmerged_and_keeps_base_keys(feats: Features) -> None:
    base_keys = list(_net().state_dict())
    net = _net()
    cfg = LoraConfig(rank=4, alpha=6.0)
    names = apply_lora(net, cfg, torch.Generator().manual_seed(2))
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for n in names:
            b = net.get_submodule(n).lora_B
            b.copy_(0.05 * torch.randn(b.shape, generator=g))
    unmerged = _forward(net, feats)
    assert not torch.allclose(unmerged[2], _forward(_net(), feats)[2])  # B really matters
    q = net.get_submodule("trunk.encoder.0.0.q")
    want_q = q.weight + 1.5 * q.lora_B @ q.lora_A
    merge_lora(net)
    assert not any(isinstance(m, LoraLinear) for m in net.modules())
    assert list(net.state_dict()) == base_keys
    torch.testing.assert_close(net.trunk.encoder[0][0].q.weight, want_q, atol=1e-7, rtol=0)
    for want, got in zip(unmerged, _forward(net, feats), strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    # the merged tensors load strictly into the unchanged model
    RnaFoldNet(TINY_MODEL).load_state_dict(net.state_dict(), strict=True)


def test_target_patterns_select_modules() -> None:
    names = target_names(_net(), LoraConfig(rank=2, targets=("*.q", "*.kv")))
    assert names and all(n.rsplit(".", 1)[1] in ("q", "kv") for n in names)
    assert LoraConfig(rank=8).scale == 1.0 and LoraConfig(rank=8, alpha=16).scale == 2.0
    d = LoraConfig(rank=8).to_dict()
    assert d["alpha"] == 8.0 and LoraConfig.from_dict(d) == LoraConfig(8, 8.0)
    with pytest.raises(ValueError):
        LoraConfig(rank=0)


# --- CLI: fine-tune from exported weights, exact resume, export --------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Exported tiny weights, then LoRA runs: a = 8 steps; b = 4 steps + --resume to 8."""
    from rnapredict.train.__main__ import main
    from rnapredict.train.export import export_run

    data = shared_path("data")
    root = tmp_path_factory.mktemp("lora")  # runs share root/ss_cache.json
    common = ["--config", "tiny", "--data", str(data), "--val-minutes", "999"]
    common += ["--log-every", "2", "--threads", "1"]
    main([*common, "--out", str(root / "pre"), "--max-steps", "2", "--seed", "3"])
    export_run(root / "pre", root / "base", source="latest")
    ft = [*common, "--init-from", str(root / "base"), "--lora-rank", "4", "--lora-alpha", "8"]
    main([*ft, "--out", str(root / "a"), "--max-steps", "8"])
    main([*ft, "--out", str(root / "b"), "--max-steps", "4"])
    main([*common, "--out", str(root / "b"), "--max-steps", "8", "--resume"])
    return {"root": root, "base": root / "base", "a": root / "a", "b": root / "b"}


@pytest.mark.slow
def test_finetune_trains_only_adapters_and_resumes_exactly(runs: dict[str, Path]) -> None:
    _, base, manifest = load_weights(runs["base"])
    ckpt = latest_checkpoint(runs["a"])
    assert ckpt is not None and ckpt.name == "ckpt-00000008"
    a = load_file(str(ckpt / "model.safetensors"))
    b = load_file(str(runs["b"] / "ckpt-00000008" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    adapters = {k for k in a if k.endswith((".lora_A", ".lora_B"))}
    assert set(a) - adapters == set(base)
    assert all(torch.equal(a[k], base[k]) for k in base)  # base frozen, bitwise
    assert all(float(a[k].abs().max()) > 0 for k in adapters if k.endswith("lora_B"))
    optim = load_file(str(ckpt / "optim.safetensors"))
    assert {k.split("::")[0] for k in optim if "::" in k} == adapters
    state = json.loads((ckpt / "state.json").read_text())
    assert state["lora"]["rank"] == 4 and state["lora"]["alpha"] == 8.0
    assert state["init_from"]["sha256"] == manifest["sha256"]
    ema = load_file(str(ckpt / "ema.safetensors"))
    assert all(torch.equal(ema[k], base[k]) for k in base)  # the EMA of a constant
    rows = [json.loads(s) for s in (runs["b"] / "train.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4, 6, 8]
    from rnapredict.train.__main__ import main

    with pytest.raises(SystemExit, match="trained with LoRA"):
        main(["--config", "tiny", "--out", str(runs["a"]), "--resume", "--lora-rank", "2"])


@pytest.mark.slow
def test_export_of_lora_run_merges_into_engine_weights(runs: dict[str, Path]) -> None:
    from rnapredict.train.export import export_run

    out = runs["root"] / "exported"
    export_run(runs["a"], out)
    cfg, tensors, manifest = load_weights(out)
    _, base, base_manifest = load_weights(runs["base"])
    assert cfg == TINY_MODEL and set(tensors) == set(base)
    assert manifest["lora"] == {"rank": 4, "alpha": 8.0, "init_from": base_manifest["sha256"]}
    # no best/ (no validation ran): the latest checkpoint's EMA weights, merged
    ema = load_file(str(runs["a"] / "ckpt-00000008" / "ema.safetensors"))
    name = "denoiser.att.0.q"
    want = ema[f"{name}.weight"] + 2.0 * ema[f"{name}.lora_B"] @ ema[f"{name}.lora_A"]
    torch.testing.assert_close(tensors[f"{name}.weight"], want, atol=1e-6, rtol=0)
    assert not torch.equal(tensors[f"{name}.weight"], base[f"{name}.weight"])
    assert torch.equal(tensors["distogram.weight"], base["distogram.weight"])
    # the exported (merged) engine folds as the unmerged network with adapters does: same
    # seed → the same coordinates within float32 tolerance; and not as the base model does
    rec = Record("r", "GGGAAACCCAGC", ss="(((...)))...")
    opts = FoldOptions(n_samples=2, steps=3, seed=4)
    unmerged = RnaFoldNet(TINY_MODEL)
    apply_lora(unmerged, LoraConfig(rank=4, alpha=8.0))
    unmerged.load_state_dict({k: v for k, v in ema.items() if not k.startswith("__")})
    init_sigma = manifest["inference"]["init_sigma"]
    engines = {
        "merged": load_engine(out),
        "unmerged": FoldEngine(unmerged, "unmerged", init_sigma=init_sigma),
        "base": load_engine(runs["base"]),
    }
    c1 = {}
    for key, engine in engines.items():
        # the network's own samples: predict's traces are closed and cleaned afterwards
        # (geometry.trace), which pulls a tiny model's outputs towards each other
        ens = engine.sample(rec.seq, rec.ss, opts, torch.Generator().manual_seed(4))
        c1[key] = ens.coords.numpy().astype(np.float64)
    assert np.isfinite(c1["merged"]).all() and c1["merged"].shape == (2, 12, 3)
    np.testing.assert_allclose(c1["merged"], c1["unmerged"], atol=1e-3, rtol=0)
    assert np.abs(c1["merged"] - c1["base"]).max() > 0.05


def test_cli_refuses_mismatched_weights_and_lora_change(tmp_path: Path) -> None:
    from rnapredict.train.__main__ import main

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        small = RnaFoldNet(SMALL_MODEL)
    write_weights(tmp_path / "small", model_tensors(small), SMALL_MODEL, {"model_version": "s"})
    common = ["--config", "tiny", "--data", str(tmp_path / "no-data"), "--threads", "1"]
    with pytest.raises(SystemExit, match="another model"):
        main([*common, "--out", str(tmp_path / "r"), "--init-from", str(tmp_path / "small")])
    with pytest.raises(SystemExit, match="needs --lora-rank"):
        main([*common, "--out", str(tmp_path / "r2"), "--lora-alpha", "4"])
    with pytest.raises(SystemExit, match="rank must be"):
        main([*common, "--out", str(tmp_path / "r3"), "--lora-rank", "0"])
