"""pLDDT calibration: a monotone map from the confidence head's pLDDT to expected lDDT.

The head is trained on the model's own training chains and is over-confident on new ones; a
piecewise-linear, non-decreasing map fitted on held-out predictions (``python -m
rnapredict.train.calibrate``) is stored in the manifest's ``inference.plddt_calibration`` and
applied to every prediction. Ranks within a model do not change (the map is monotone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class PlddtCalibration:
    """Knots of a non-decreasing piecewise-linear map, both on the 0–100 pLDDT scale.

    Attributes:
        x: [K] raw pLDDT knots, strictly increasing.
        y: [K] calibrated pLDDT at the knots, non-decreasing, within 0–100.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __post_init__(self) -> None:
        x, y = np.asarray(self.x, float), np.asarray(self.y, float)
        if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
            raise ValueError("calibration needs two equal-length knot lists (≥ 2 knots)")
        if not (np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)):
            raise ValueError("calibration knots must be increasing (x) and non-decreasing (y)")
        if y.min() < 0 or y.max() > 100:
            raise ValueError("calibrated pLDDT must lie within 0–100")

    @classmethod
    def from_dict(cls, d: dict[str, Sequence[float]]) -> PlddtCalibration:
        return cls(tuple(float(v) for v in d["x"]), tuple(float(v) for v in d["y"]))

    def to_dict(self) -> dict[str, list[float]]:
        return {"x": [round(v, 3) for v in self.x], "y": [round(v, 3) for v in self.y]}

    def apply(self, plddt: torch.Tensor) -> torch.Tensor:
        """Calibrated pLDDT, same shape and dtype (values clamped to the end knots)."""
        raw = plddt.detach().cpu().double().numpy()
        out = np.interp(raw, np.asarray(self.x), np.asarray(self.y))
        return torch.from_numpy(out).to(plddt.dtype).to(plddt.device)


def fit_isotonic(
    raw: np.ndarray, target: np.ndarray, grid: np.ndarray | None = None
) -> PlddtCalibration:
    """Least-squares non-decreasing fit of ``target`` (0–100) on ``raw`` pLDDT, as knots.

    Args:
        raw: [N] predicted pLDDT per residue (0–100).
        target: [N] real lDDT × 100 per residue.
        grid: knot positions (default 0, 5, …, 100).
    """
    from scipy.optimize import isotonic_regression

    raw, target = np.asarray(raw, float), np.asarray(target, float)
    ok = np.isfinite(raw) & np.isfinite(target)
    raw, target = raw[ok], target[ok]
    order = np.argsort(raw, kind="stable")
    fitted = isotonic_regression(target[order]).x
    grid = np.linspace(0.0, 100.0, 21) if grid is None else np.asarray(grid, float)
    # The fit is a step function on sorted raw values; read it at the grid by interpolation,
    # holding the end values outside the data range, then enforce monotonicity once more.
    xs = raw[order]
    ys = np.interp(grid, xs, fitted)
    ys = np.clip(np.maximum.accumulate(ys), 0.0, 100.0)
    return PlddtCalibration(tuple(grid.tolist()), tuple(ys.tolist()))
