"""pLDDT calibration: monotone fit, honest application, engine wiring, manifest validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from rnapredict.engine import load_engine, tiny_engine
from rnapredict.engine.calibration import PlddtCalibration, fit_isotonic
from rnapredict.errors import WeightsError
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions

REPO = Path(__file__).resolve().parents[1]


def test_fit_recovers_an_overconfident_head() -> None:
    """Real lDDT = 0.8·pLDDT − 15 (+ noise): the fit removes the bias within a few points."""
    rng = np.random.default_rng(0)
    raw = rng.uniform(40, 100, 20_000)
    real = np.clip(0.8 * raw - 15 + rng.normal(0, 5, raw.size), 0, 100)
    cal = fit_isotonic(raw, real)
    mapped = cal.apply(torch.from_numpy(raw)).numpy()
    assert abs(np.mean(raw - real)) > 10  # over-confident before
    assert abs(np.mean(mapped - real)) < 1.0
    for lo in (50, 70, 90):
        sel = (raw >= lo) & (raw < lo + 10)
        assert abs(mapped[sel].mean() - real[sel].mean()) < 2.0
    assert np.all(np.diff(cal.y) >= 0)


def test_apply_is_monotone_and_keeps_shape() -> None:
    cal = PlddtCalibration((0.0, 50.0, 100.0), (0.0, 20.0, 80.0))
    x = torch.tensor([[0.0, 25.0, 50.0], [75.0, 100.0, 120.0]], dtype=torch.float32)
    y = cal.apply(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert torch.allclose(y, torch.tensor([[0.0, 10.0, 20.0], [50.0, 80.0, 80.0]]))


@pytest.mark.parametrize(
    "bad",
    [
        {"x": [0, 50], "y": [10]},
        {"x": [0, 0], "y": [1, 2]},
        {"x": [0, 50], "y": [30, 20]},
        {"x": [0, 50], "y": [0, 120]},
    ],
)
def test_bad_knots_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        PlddtCalibration.from_dict(bad)


def test_engine_applies_calibration_before_ranking() -> None:
    rec = Record("cal", "GGGGAAACCCCAUGC")
    opts = FoldOptions(n_samples=3, steps=4, prior="aform")
    raw = tiny_engine().predict(rec, opts)
    eng = tiny_engine()
    eng.calibration = PlddtCalibration((0.0, 100.0), (10.0, 60.0))
    cal = eng.predict(rec, opts)
    # same samples (seeded); the network's pLDDT mapped by the line 10 + 0.5·x before it is
    # blended with the samples' agreement (pipeline.rank) and the models ranked
    net_raw, net_cal = raw.extra["network"]["mean_plddt"], cal.extra["network"]["mean_plddt"]
    by_sample = {i: net_raw[r] for r, i in enumerate(raw.sample_index)}
    for r, i in enumerate(cal.sample_index):
        np.testing.assert_allclose(net_cal[r], 10 + 0.5 * by_sample[i], atol=1e-3)
    assert not np.allclose(cal.plddt, raw.plddt)  # the blend sees the calibrated values


def test_bad_calibration_in_manifest_is_a_weights_error(tmp_path: Path) -> None:
    w = tmp_path / "w"
    shutil.copytree(REPO / "weights", w, ignore=shutil.ignore_patterns("train_state", "*.md"))
    manifest = json.loads((w / "manifest.json").read_text())
    manifest.setdefault("inference", {})["plddt_calibration"] = {"x": [0, 1], "y": [5, 1]}
    (w / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="plddt_calibration"):
        load_engine(w)
