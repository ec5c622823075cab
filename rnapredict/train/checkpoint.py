"""Resumable training state in safetensors + JSON (no pickle anywhere).

A checkpoint is a directory ``ckpt-<step>/`` with ``model.safetensors``, ``optim.safetensors``
(AdamW moments + the generator state) and ``state.json`` (step, sampler state, config, clock).
It is written under a temporary name and renamed into place; ``LATEST`` (one line, written
atomically) names the current one, and older directories are removed afterwards.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from rnapredict.io.atomic import atomic_write_text


def model_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """Contiguous CPU copies of the state dict (safetensors wants no shared storage)."""
    return {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}


def _optim_tensors(model: nn.Module, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    names = {id(p): n for n, p in model.named_parameters()}
    out: dict[str, torch.Tensor] = {}
    for p, st in opt.state.items():
        for k, v in st.items():
            out[f"{names[id(p)]}::{k}"] = torch.as_tensor(v).detach().cpu().contiguous().clone()
    return out


def _load_optim(
    model: nn.Module, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]
) -> None:
    params = dict(model.named_parameters())
    for key, v in tensors.items():
        if "::" not in key:
            continue
        name, k = key.split("::", 1)
        opt.state[params[name]][k] = v.to(params[name].device) if k != "step" else v
    # make optimizer state_dict round-trip consistent (keys as the optimizer expects)


def save_checkpoint(
    out: Path,
    step: int,
    model: nn.Module,
    opt: torch.optim.Optimizer,
    generator: torch.Generator,
    state: dict[str, Any],
    keep: int = 2,
    extra: dict[str, dict[str, torch.Tensor]] | None = None,
) -> Path:
    """Write ``out/ckpt-<step>`` atomically and point ``out/LATEST`` at it.

    ``extra``: further safetensors files (name → tensors), e.g. the EMA weights.
    """
    final = out / f"ckpt-{step:08d}"
    tmp = out / f".ckpt-{step:08d}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    save_file(model_tensors(model), str(tmp / "model.safetensors"))
    optim = _optim_tensors(model, opt)
    optim["__generator__"] = generator.get_state().clone()
    save_file(optim, str(tmp / "optim.safetensors"))
    for name, tensors in (extra or {}).items():
        save_file(tensors, str(tmp / name))
    (tmp / "state.json").write_text(json.dumps({"step": step, **state}, indent=1))
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    atomic_write_text(out / "LATEST", final.name + "\n", overwrite=True)
    old = sorted(p for p in out.glob("ckpt-*") if p.is_dir() and p != final)
    for p in old[: max(0, len(old) - (keep - 1))]:
        shutil.rmtree(p, ignore_errors=True)
    return final


def latest_checkpoint(out: Path) -> Path | None:
    """The directory named by ``out/LATEST``, or None."""
    ptr = out / "LATEST"
    if not ptr.exists():
        return None
    path = out / ptr.read_text().strip()
    return path if path.is_dir() else None


def load_checkpoint(
    path: Path,
    model: nn.Module,
    opt: torch.optim.Optimizer | None,
    generator: torch.Generator | None,
) -> dict[str, Any]:
    """Restore model, optimizer moments and generator from ``path``; return ``state.json``."""
    model.load_state_dict(load_file(str(path / "model.safetensors")))
    optim = load_file(str(path / "optim.safetensors"))
    if generator is not None:
        generator.set_state(optim["__generator__"])
    if opt is not None:
        _load_optim(model, opt, optim)
    return json.loads((path / "state.json").read_text())
