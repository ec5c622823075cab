"""Released weights: safetensors + ``manifest.json``, verified before use, never unpickled.

``manifest.json``::

    {"format": 1, "model_version": "...", "file": "model.safetensors",
     "sha256": "<hex>", "bytes": N, "config": {ModelConfig}, "data_cutoff": "2022-05-01",
     "train_ids_sha256": "...", "val_ids_sha256": "...", ...}
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from rnapredict.errors import WeightsError
from rnapredict.io.atomic import atomic_write_bytes, atomic_write_text
from rnapredict.model.network import ModelConfig, RnaFoldNet

MANIFEST = "manifest.json"
WEIGHTS_FILE = "model.safetensors"
ENV_VAR = "RNAPREDICT_WEIGHTS"


def default_weights_dir() -> Path:
    """``$RNAPREDICT_WEIGHTS`` if set, else the repository's top-level ``weights/``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "weights"


def read_manifest(weights_dir: Path) -> dict[str, Any]:
    """Parsed ``manifest.json`` of ``weights_dir`` (WeightsError when absent or malformed)."""
    path = weights_dir / MANIFEST
    if not path.is_file():
        raise WeightsError(f"no weights found at {weights_dir} (missing {MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WeightsError(f"unreadable manifest: {err}", file=str(path)) from None
    for key in ("file", "sha256", "bytes", "config"):
        if key not in manifest:
            raise WeightsError(f"manifest lacks '{key}'", file=str(path))
    return manifest


def load_weights(weights_dir: Path) -> tuple[ModelConfig, dict[str, torch.Tensor], dict[str, Any]]:
    """Verify and load released weights.

    Returns:
        (config, state dict, manifest).

    Raises:
        WeightsError: missing files, size or sha256 mismatch (truncation, tampering), a file
            that is not safetensors, or a config the code does not know.
    """
    weights_dir = Path(weights_dir)
    manifest = read_manifest(weights_dir)
    name = str(manifest["file"])
    if Path(name).name != name or not name.endswith(".safetensors"):
        raise WeightsError(f"weights file must be a local .safetensors file, got {name!r}")
    path = weights_dir / name
    if not path.is_file():
        raise WeightsError(f"no weights found at {path}")
    data = path.read_bytes()
    if len(data) != int(manifest["bytes"]):
        raise WeightsError(
            f"size {len(data)} bytes differs from the manifest's {manifest['bytes']} (truncated?)",
            file=str(path),
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["sha256"]:
        raise WeightsError(f"sha256 {digest} does not match the manifest", file=str(path))
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError, OSError) as err:
        raise WeightsError(f"not a safetensors file: {err}", file=str(path)) from None
    try:
        cfg = ModelConfig.from_dict(manifest["config"])
    except (TypeError, ValueError, KeyError) as err:
        raise WeightsError(f"unknown model config in manifest: {err}", file=str(path)) from None
    return cfg, tensors, manifest


def build_network(cfg: ModelConfig, tensors: dict[str, torch.Tensor]) -> RnaFoldNet:
    """Network of ``cfg`` with ``tensors`` loaded strictly (WeightsError on any mismatch)."""
    net = RnaFoldNet(cfg)
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise WeightsError(f"weights do not fit the model config: {first}") from None
    return net.eval()


#: Manifest blocks of data files shipped beside the weights (not tied to them).
ASSET_KEYS = ("motif_library", "templates")


def kept_assets(weights_dir: Path) -> dict[str, Any]:
    """Asset blocks of an existing manifest in ``weights_dir`` whose files still match.

    Re-exporting weights into a directory must not drop the motif library or the template
    library it already holds (the engine would silently lose them).
    """
    path = weights_dir / MANIFEST
    try:
        old = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    kept: dict[str, Any] = {}
    for key in ASSET_KEYS:
        entry = old.get(key) if isinstance(old, dict) else None
        if not isinstance(entry, dict) or "file" not in entry or "sha256" not in entry:
            continue
        asset = weights_dir / str(entry["file"])
        if asset.is_file() and hashlib.sha256(asset.read_bytes()).hexdigest() == entry["sha256"]:
            kept[key] = entry
    return kept


def write_weights(
    weights_dir: Path,
    tensors: dict[str, torch.Tensor],
    cfg: ModelConfig,
    meta: dict[str, Any],
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``model.safetensors`` + ``manifest.json`` (temp + rename); return the manifest.

    Asset blocks already in the directory's manifest (:data:`ASSET_KEYS`) are kept while their
    files match (:func:`kept_assets`).
    """
    weights_dir.mkdir(parents=True, exist_ok=True)
    data = save_safetensors({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    manifest = {
        "format": 1,
        **kept_assets(weights_dir),
        **meta,
        "file": WEIGHTS_FILE,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "config": cfg.to_dict(),
    }
    atomic_write_bytes(weights_dir / WEIGHTS_FILE, data, overwrite=overwrite)
    atomic_write_text(
        weights_dir / MANIFEST, json.dumps(manifest, indent=1) + "\n", overwrite=overwrite
    )
    for name in (WEIGHTS_FILE, MANIFEST):  # released files are world-readable
        os.chmod(weights_dir / name, 0o644)
    return manifest
