"""The resumable training loop behind ``python -m rnapredict.train``.

Everything random (model init, data order, crops, rotations, noise) flows from one seed: the
model is initialised under a forked, seeded RNG, and one ``torch.Generator`` drives the data
and noise. Checkpoints store that generator's state, the sampler position and the optimizer
moments, so ``--resume`` continues exactly where the last checkpoint left off.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from rnapredict.model.network import RnaFoldNet, count_parameters
from rnapredict.train.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    model_tensors,
    save_checkpoint,
)
from rnapredict.train.configs import CONFIGS, TrainConfig, check_config
from rnapredict.train.data import (
    BatchSampler,
    Chain,
    ids_hash,
    load_chains,
    make_batch,
    pick_chains,
    with_assembled_priors,
    with_mfe,
    with_priors,
)
from rnapredict.train.ema import EMA_FILE, EmaWeights
from rnapredict.train.lora import apply_lora, trainable_parameters
from rnapredict.train.resume import (
    lora_settings,
    schedule_changes,
    starting_point,
    val_key,
)
from rnapredict.train.step import compute_losses
from rnapredict.train.validate import validate


@dataclass(frozen=True)
class RunOptions:
    """Command-line options of one training invocation."""

    config: str
    out: Path
    data: Path
    resume: bool = False
    seed: int = 0
    max_minutes: float | None = None
    max_steps: int | None = None
    threads: int = 2
    ckpt_minutes: float = 5.0
    val_minutes: float = 12.0
    log_every: int = 20
    val_limit: int | None = None
    quiet: bool = False
    init_from: Path | None = None
    lora_rank: int | None = None
    lora_alpha: float | None = None


def build_model(cfg: TrainConfig, seed: int) -> RnaFoldNet:
    """Network initialised deterministically from ``seed`` without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return RnaFoldNet(cfg.model)


def _append_jsonl(path: Path, row: dict[str, Any]) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(row) + "\n")


def _retire_best(out: Path, say) -> None:
    """Move ``best/`` (chosen under another validation protocol) to ``best-previous/``."""
    best = out / "best"
    if best.exists():
        old = out / "best-previous"
        shutil.rmtree(old, ignore_errors=True)
        best.rename(old)
        say(f"validation protocol changed: {best} moved to {old}")


def _save_best(out: Path, net: RnaFoldNet, meta: dict[str, Any]) -> None:
    tmp = out / ".best.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    save_file(model_tensors(net), str(tmp / "model.safetensors"))
    (tmp / "best.json").write_text(json.dumps(meta, indent=1))
    final = out / "best"
    final.mkdir(exist_ok=True)
    for name in ("model.safetensors", "best.json"):
        (tmp / name).replace(final / name)
    tmp.rmdir()


def prior_adder(cfg: TrainConfig, train_chains: list[Chain], seed: int):  # noqa: ANN201
    """Chains → chains with their prior (``cfg.prior_source``): the A-form rule, or the motif
    assembly with each chain's family left out of the shipped (train-split) library. The
    returned function takes an optional ``seed`` (candidate choice; default ``seed``)."""
    if cfg.prior_source == "aform":
        return lambda chains, seed=seed: with_priors(chains)
    from rnapredict.data.families import families as family_sets
    from rnapredict.prior.library import default_library

    library = default_library()
    if library is None:
        raise SystemExit("prior_source assembly needs the motif library in weights/")
    families = family_sets([c.id for c in train_chains], [c.seq for c in train_chains])
    return lambda chains, seed=seed: with_assembled_priors(chains, library, families, seed)


def train(opts: RunOptions) -> dict[str, Any]:
    """Train (or resume) until ``max_minutes`` / ``max_steps``; returns the final state dict."""
    torch.set_num_threads(opts.threads)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    # index_add (backward of the neighbour gather) is not bitwise reproducible on >1 thread
    torch.use_deterministic_algorithms(True)
    try:
        return _train(opts)
    finally:
        torch.use_deterministic_algorithms(was_deterministic)


def _train(opts: RunOptions) -> dict[str, Any]:
    cfg = CONFIGS[opts.config]
    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    ckpt = latest_checkpoint(out) if opts.resume else None
    if opts.resume and ckpt is None:
        raise SystemExit(f"--resume: no checkpoint in {out}")
    if not opts.resume and latest_checkpoint(out) is not None:
        raise SystemExit(f"{out} already holds a run; pass --resume")
    saved_state = json.loads((ckpt / "state.json").read_text()) if ckpt is not None else None
    check_config(cfg)
    cfg_dict = json.loads(json.dumps(cfg.to_dict()))
    changed = schedule_changes(saved_state["config"], cfg_dict) if saved_state else []
    lora = lora_settings(opts.lora_rank, opts.lora_alpha, saved_state)

    net = build_model(cfg, opts.seed)
    extra_state = starting_point(net, cfg, opts.init_from, saved_state)
    if lora is not None:
        # A is drawn from its own seeded generator (a resume overwrites it from the checkpoint)
        wrapped = apply_lora(net, lora, torch.Generator().manual_seed(opts.seed))
        extra_state["lora"] = {**lora.to_dict(), "modules": len(wrapped)}
        if "init_from" not in extra_state:
            print("warning: --lora-rank without --init-from trains adapters on a random base")
    params = trainable_parameters(net)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(opts.seed)
    cache = out.parent / "ss_cache.json"
    sources = tuple(cfg.data_sources)
    train_chains = load_chains(opts.data, "train", cache, sources)
    val_chains: list[Chain] = load_chains(opts.data, "validation", cache, sources)
    if opts.val_limit is not None:
        val_chains = val_chains[: opts.val_limit]
    train_alt = with_mfe(train_chains, cache) if cfg.mfe_frac > 0 else None
    raw_train, raw_alt = train_chains, train_alt
    add = None
    if cfg.model.aform_prior:
        add = prior_adder(cfg, train_chains, opts.seed)
        train_chains, val_chains = add(train_chains), add(val_chains)
        train_alt = add(train_alt) if train_alt is not None else None
    prior_epoch = None  # epoch whose fresh candidates train_chains hold (refresh_priors)
    sampler = BatchSampler(len(train_chains), cfg.batch_size)
    state: dict[str, Any] = {
        "config_name": opts.config,
        "config": cfg_dict,
        "seed": opts.seed,
        "train_ids_sha256": ids_hash(train_chains),
        "val_ids_sha256": ids_hash(val_chains),
        "n_train": len(train_chains),
        "n_val": len(val_chains),
        "train_seconds": 0.0,
        "best_val_tm": -1.0,
        "sessions": 0,
        **extra_state,
    }
    step = 0
    ema = EmaWeights(net, cfg.ema_decay) if cfg.ema_decay > 0 else None
    say = (lambda *a: None) if opts.quiet else (lambda *a: print(*a, flush=True))
    if ckpt is not None:
        saved = load_checkpoint(ckpt, net, opt, gen)
        if changed:
            say(f"resuming {ckpt.name} with a changed schedule: {', '.join(changed)}")
        step = saved["step"]
        sampler.load(saved["sampler"])
        state.update({k: saved[k] for k in ("train_seconds", "best_val_tm", "sessions")})
        if ema is not None:
            ema.load(ckpt, net)
        if val_key(saved["config"]) != val_key(state["config"]):
            state["best_val_tm"] = -1.0  # validation figures are not comparable any more
            _retire_best(out, say)
    state["sessions"] += 1
    say(f"config {opts.config}: {count_parameters(net):,} parameters; step {step}; "
        f"{len(train_chains)} train / {len(val_chains)} val chains")  # fmt: skip
    if lora is not None:
        say(f"LoRA rank {lora.rank}, alpha {lora.to_dict()['alpha']:g} on "
            f"{state['lora']['modules']} layers: {sum(p.numel() for p in params):,} trainable")  # fmt: skip

    stop = {"flag": False}
    old_handler = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("flag", True))
    except ValueError:  # not the main thread (tests)
        old_handler = None

    def checkpoint() -> None:
        state["sampler"] = sampler.state()
        extra = {EMA_FILE: ema.tensors()} if ema is not None else {}
        save_checkpoint(out, step, net, opt, gen, state, extra=extra)

    t_start = time.monotonic()
    t_seg = t_start
    last_ckpt = last_val = t_start
    running: dict[str, float] = {}
    n_run = 0
    net.train()
    try:
        while not stop["flag"]:
            if opts.max_steps is not None and step >= opts.max_steps:
                break
            if opts.max_minutes is not None and time.monotonic() - t_start > 60 * opts.max_minutes:
                break
            lr = cfg.lr_at(step)
            for g in opt.param_groups:
                g["lr"] = lr
            if cfg.refresh_priors and add is not None and sampler.epoch != prior_epoch:
                prior_epoch = sampler.epoch
                train_chains = add(raw_train, opts.seed + prior_epoch)
                train_alt = add(raw_alt, opts.seed + prior_epoch) if raw_alt is not None else None
            batch = make_batch(
                pick_chains(train_chains, train_alt, sampler.next_indices(gen), cfg.mfe_frac, gen),
                cfg.crop_len(step),
                cfg.model.edges,
                gen,
                cfg.seq_mask,
            )
            terms = compute_losses(net, batch, cfg, gen)
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            gnorm = torch.nn.utils.clip_grad_norm_(params, cfg.clip)
            if not math.isfinite(float(gnorm)):
                say(f"step {step}: non-finite gradient, batch skipped")
                opt.zero_grad(set_to_none=True)
            else:
                opt.step()
                if ema is not None:
                    ema.update(net)
            step += 1
            for k, v in terms.items():
                running[k] = running.get(k, 0.0) + float(v.detach())
            n_run += 1
            now = time.monotonic()
            state["train_seconds"] += now - t_seg
            t_seg = now
            if step % opts.log_every == 0:
                row = {"step": step, "epoch": sampler.epoch, "lr": lr, "crop": cfg.crop_len(step)}
                row.update({k: round(v / n_run, 5) for k, v in running.items()})
                row["train_hours"] = round(state["train_seconds"] / 3600, 4)
                _append_jsonl(out / "train.jsonl", row)
                say(json.dumps(row))
                running, n_run = {}, 0
            if now - last_val > 60 * opts.val_minutes and val_chains:
                _run_validation(
                    ema.averaged(net) if ema is not None else net, val_chains, cfg, step, state,
                    out, say,
                )  # fmt: skip
                net.train()
                last_val = time.monotonic()
                t_seg = last_val  # validation time is not training time
            if time.monotonic() - last_ckpt > 60 * opts.ckpt_minutes:
                checkpoint()
                last_ckpt = time.monotonic()
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
    checkpoint()
    say(f"stopped at step {step}; checkpoint in {out}")
    return {"step": step, **state}


def _run_validation(
    net: RnaFoldNet, chains: list[Chain], cfg: TrainConfig, step: int, state: dict, out: Path, say
) -> None:
    t0 = time.monotonic()
    met = validate(
        net, chains, steps=cfg.val_steps, n_samples=cfg.val_samples,
        init_sigma=cfg.val_init_sigma,
    )  # fmt: skip
    row = {"step": step, "train_hours": round(state["train_seconds"] / 3600, 4)}
    row.update({k: round(v, 4) for k, v in met.items()})
    row["protocol"] = f"{cfg.val_steps} steps, init_sigma {cfg.val_init_sigma}"
    row["val_seconds"] = round(time.monotonic() - t0, 1)
    _append_jsonl(out / "val.jsonl", row)
    say("val " + json.dumps(row))
    if met["tm"] > state["best_val_tm"]:
        state["best_val_tm"] = met["tm"]
        _save_best(
            out, net, {**row, "config_name": state["config_name"], "config": state["config"]}
        )
