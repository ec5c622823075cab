"""Released weights: safetensors + ``manifest.json`` (:mod:`rnapredict.assets`), verified
before use, never unpickled.

``manifest.json``::

    {"format": 1, "model_version": "...", "file": "model.safetensors",
     "sha256": "<hex>", "bytes": N, "config": {ModelConfig}, "data_cutoff": "2022-05-01",
     "train_ids_sha256": "...", "val_ids_sha256": "...", ...}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from rnapredict.assets import kept_assets, read_manifest, verify, write_file, write_manifest
from rnapredict.errors import WeightsError
from rnapredict.model.network import ModelConfig, RnaFoldNet

WEIGHTS_FILE = "model.safetensors"


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
    data = verify(path.read_bytes(), manifest, path)
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


def write_weights(
    weights_dir: Path,
    tensors: dict[str, torch.Tensor],
    cfg: ModelConfig,
    meta: dict[str, Any],
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``model.safetensors`` + ``manifest.json`` (temp + rename); return the manifest.

    Asset blocks already in the directory's manifest (:data:`rnapredict.assets.ASSET_KEYS`) are kept while their
    files match (:func:`kept_assets`).
    """
    data = save_safetensors({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    kept = kept_assets(weights_dir)
    released = write_file(Path(weights_dir) / WEIGHTS_FILE, data, overwrite=overwrite)
    manifest = {"format": 1, **kept, **meta, **released, "config": cfg.to_dict()}
    write_manifest(weights_dir, manifest, overwrite=overwrite)
    return manifest
