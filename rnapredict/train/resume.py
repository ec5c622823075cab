"""What a training run may resume with: schedule changes, released starting weights, LoRA."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rnapredict.model.network import RnaFoldNet
from rnapredict.train.configs import TrainConfig
from rnapredict.train.lora import LoraConfig

# settings a resumed run may change: the optimisation schedule and validation, not the model,
# the batch or the losses
SCHEDULE_KEYS = (
    "lr", "warmup", "lr_decay", "lr_final", "curriculum", "ema_decay", "prior_frac",
    "prior_sigma", "prior_full_sigma", "val_steps", "val_samples", "val_init_sigma",
    "prior_source",
)  # fmt: skip

# values of keys added after a checkpoint was written (a missing key means this default)
_DEFAULTS: dict[str, Any] = {"prior_source": "aform"}


def schedule_changes(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Keys of SCHEDULE_KEYS that differ between a checkpoint's config and the current one.

    Raises SystemExit when anything else differs (model, batch, loss weights).
    """
    saved = {**_DEFAULTS, **saved}
    current = {**_DEFAULTS, **current}
    rest = {k for k in set(saved) | set(current) if k not in SCHEDULE_KEYS}
    bad = sorted(k for k in rest if saved.get(k) != current.get(k))
    if bad:
        raise SystemExit(f"checkpoint config differs in {', '.join(bad)}; cannot resume")
    return sorted(k for k in SCHEDULE_KEYS if saved.get(k) != current.get(k))


def init_from_weights(net: RnaFoldNet, cfg: TrainConfig, weights_dir: Path) -> dict[str, Any]:
    """Load released weights (verified) into ``net``; returns their manifest.

    Raises SystemExit when they do not verify or their model differs from ``cfg.model``.
    """
    from rnapredict.engine.weights import load_weights
    from rnapredict.errors import WeightsError

    try:
        wcfg, tensors, manifest = load_weights(weights_dir)
    except WeightsError as err:
        raise SystemExit(f"--init-from {weights_dir}: {err}") from None
    have, want = wcfg.to_dict(), cfg.model.to_dict()
    if json.dumps(have, sort_keys=True) != json.dumps(want, sort_keys=True):
        bad = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
        raise SystemExit(
            f"--init-from {weights_dir}: weights are for another model (differs in "
            f"{', '.join(bad)}); pick the matching --config"
        )
    net.load_state_dict(tensors, strict=True)
    return manifest


def lora_settings(
    rank: int | None, alpha: float | None, saved: dict[str, Any] | None
) -> LoraConfig | None:
    """LoRA of this run: from the checkpoint when resuming (flags must agree), else the flags."""
    if rank is None and alpha is not None:
        raise SystemExit("--lora-alpha needs --lora-rank")
    try:
        asked = LoraConfig(rank, alpha) if rank is not None else None
    except ValueError as err:
        raise SystemExit(f"--lora-rank/--lora-alpha: {err}") from None
    if saved is None:
        return asked
    had = LoraConfig.from_dict(saved["lora"]) if saved.get("lora") else None
    if asked is not None and (had is None or asked.to_dict() != had.to_dict()):
        was = "no LoRA" if had is None else f"LoRA {had.to_dict()}"
        raise SystemExit(f"--resume: the checkpoint was trained with {was}; drop --lora-*")
    return had


def val_key(cfg: dict[str, Any]) -> tuple:
    cfg = {**_DEFAULTS, **cfg}
    keys = ("val_steps", "val_samples", "val_init_sigma", "prior_source")
    return tuple(json.dumps(cfg.get(k)) for k in keys)


def starting_point(
    net: RnaFoldNet, cfg: TrainConfig, init_from: Path | None, saved: dict[str, Any] | None
) -> dict[str, Any]:
    """Load ``init_from`` weights into a new run, or check them against a resumed one.

    Returns the provenance entries for the run state (``init_from``, ``lora`` when kept).
    """
    if saved is not None:  # the checkpoint holds every tensor; keep its provenance
        kept = {k: saved[k] for k in ("init_from", "lora") if k in saved}
        if init_from is not None:
            from rnapredict.assets import read_manifest
            from rnapredict.errors import WeightsError

            try:
                sha = read_manifest(init_from).get("sha256")
            except WeightsError as err:
                raise SystemExit(f"--init-from {init_from}: {err}") from None
            had = kept.get("init_from", {}).get("sha256")
            if sha != had:
                raise SystemExit(
                    f"--resume: --init-from {init_from} (sha256 {sha}) is not the run's"
                    f" starting weights (sha256 {had})"
                )
        return kept
    if init_from is None:
        return {}
    manifest = init_from_weights(net, cfg, init_from)
    return {
        "init_from": {
            "dir": str(init_from),
            "sha256": manifest["sha256"],
            "model_version": manifest.get("model_version"),
        }
    }
