"""Released-weights loading: round trip, and refusal of tampered / truncated / pickled files."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from rnapredict.engine import load_engine, tiny_engine
from rnapredict.engine.api import FoldOptions
from rnapredict.engine.weights import MANIFEST, WEIGHTS_FILE, write_weights
from rnapredict.errors import WeightsError
from rnapredict.io.records import Record
from rnapredict.train.checkpoint import model_tensors


@pytest.fixture
def wdir(tmp_path: Path) -> Path:
    eng = tiny_engine(2)
    write_weights(tmp_path / "w", model_tensors(eng.net), eng.net.cfg, {"model_version": "t-2"})
    return tmp_path / "w"


def test_round_trip_predicts_identically(wdir: Path) -> None:
    rec = Record("r", "GGGAAACCCAGC", ss="(((...)))...")
    opts = FoldOptions(n_samples=2, steps=4)
    loaded = load_engine(wdir)
    assert loaded.model_version == "t-2"
    a = loaded.predict(rec, opts).extra["c1"]
    b = tiny_engine(2).predict(rec, opts).extra["c1"]
    np.testing.assert_array_equal(a, b)


def test_missing_weights_dir(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="no weights found at"):
        load_engine(tmp_path / "nothing")


def test_env_var_is_the_default(wdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNAPREDICT_WEIGHTS", str(wdir))
    assert load_engine().model_version == "t-2"


def test_tampered_file_refused(wdir: Path) -> None:
    p = wdir / WEIGHTS_FILE
    data = bytearray(p.read_bytes())
    data[-5] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256"):
        load_engine(wdir)


def test_truncated_file_refused(wdir: Path) -> None:
    p = wdir / WEIGHTS_FILE
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(WeightsError, match="truncated"):
        load_engine(wdir)


def test_pickle_is_never_loaded(wdir: Path) -> None:
    """A pickle with a matching manifest entry is refused as not-safetensors (not unpickled)."""
    payload = pickle.dumps({"x": 1})
    (wdir / WEIGHTS_FILE).write_bytes(payload)
    m = json.loads((wdir / MANIFEST).read_text())
    m["sha256"], m["bytes"] = hashlib.sha256(payload).hexdigest(), len(payload)
    (wdir / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(WeightsError, match="not a safetensors"):
        load_engine(wdir)


def test_config_mismatch_refused(wdir: Path) -> None:
    m = json.loads((wdir / MANIFEST).read_text())
    m["config"]["trunk"]["dim"] = 48
    (wdir / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(WeightsError, match="do not fit"):
        load_engine(wdir)
