"""Inference engine: ``load_engine()`` (released weights) and ``tiny_engine()`` (tests)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rnapredict.engine.engine import FoldEngine


def load_engine(weights_dir: Path | None = None, device: str = "cpu") -> FoldEngine:
    """Engine with verified released weights.

    Args:
        weights_dir: directory with ``manifest.json`` + safetensors (default:
            ``$RNAPREDICT_WEIGHTS`` or the repository's ``weights/``).
        device: ``cpu``, ``cuda`` or ``auto``.

    Raises:
        WeightsError: no weights there, or they fail verification.
    """
    from rnapredict.assets import default_weights_dir
    from rnapredict.engine.engine import FoldEngine
    from rnapredict.engine.weights import build_network, load_weights

    path = Path(weights_dir) if weights_dir is not None else default_weights_dir()
    cfg, tensors, manifest = load_weights(path)
    net = build_network(cfg, tensors)
    from rnapredict.engine.calibration import PlddtCalibration
    from rnapredict.errors import WeightsError

    inference = manifest.get("inference", {})
    calibration = None
    if inference.get("plddt_calibration") is not None:
        try:
            calibration = PlddtCalibration.from_dict(inference["plddt_calibration"])
        except (KeyError, TypeError, ValueError) as exc:
            raise WeightsError(f"{path / 'manifest.json'}: bad plddt_calibration: {exc}") from exc
    return FoldEngine(
        net,
        str(manifest.get("model_version", "unknown")),
        device,
        init_sigma=inference.get("init_sigma"),
        calibration=calibration,
        weights_sha256=manifest.get("sha256"),
        source_sigma=inference.get("init_sigma_by_source"),
    )


def tiny_engine(seed: int = 0) -> FoldEngine:
    """Random-initialised tiny engine (fast; for tests of the fold pipeline, not for use)."""
    import torch

    from rnapredict.engine.engine import FoldEngine
    from rnapredict.model.network import RnaFoldNet
    from rnapredict.model.presets import TINY_MODEL

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = RnaFoldNet(TINY_MODEL)
    return FoldEngine(net, f"tiny-random-{seed}")


__all__ = ["load_engine", "tiny_engine"]
