"""Released-weights loading: round trip, and refusal of tampered / truncated / pickled files."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from rnapredict.assets import MANIFEST
from rnapredict.engine import load_engine, tiny_engine
from rnapredict.engine.weights import WEIGHTS_FILE, write_weights
from rnapredict.errors import WeightsError
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions
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


def _tiny_checkpoint(run: Path, step: int, net: object, seconds: float) -> None:
    """A training checkpoint of the tiny config at ``step`` (410 train / 44 val chains)."""
    import torch

    from rnapredict.train.checkpoint import save_checkpoint
    from rnapredict.train.configs import CONFIGS

    cfg = json.loads(json.dumps(CONFIGS["tiny"].to_dict()))
    state = {
        "config_name": "tiny", "config": cfg, "train_seconds": seconds, "sessions": 1,
        "train_ids_sha256": "a" * 64, "val_ids_sha256": "b" * 64, "n_train": 410, "n_val": 44,
        "sampler": {"perm": [], "pos": 0, "epoch": 0},
    }  # fmt: skip
    opt = torch.optim.AdamW(net.parameters())  # type: ignore[attr-defined]
    save_checkpoint(run, step, net, opt, torch.Generator(), state)


def test_export_run_writes_loadable_weights_and_train_state(tmp_path: Path) -> None:

    from rnapredict.train.export import export_run

    eng = tiny_engine(5)
    _tiny_checkpoint(tmp_path / "run", 42, eng.net, 7200.0)
    (tmp_path / "run" / "train.jsonl").write_text('{"step": 42, "loss": 1.5}\n')
    m = export_run(tmp_path / "run", tmp_path / "w")
    assert m["model_version"] == "rnapredict-tiny-step42" and m["data_cutoff"] == "2022-05-01"
    assert m["train_hours"] == 2.0
    assert (tmp_path / "w" / "train_state" / "LATEST").read_text().strip() == "ckpt-00000042"
    assert "rnapredict-tiny-step42" in (tmp_path / "w" / "MODEL_CARD.md").read_text()
    rec = Record("r", "GGGAAACCC", ss="(((...)))")
    opts = FoldOptions(n_samples=1, steps=3)
    np.testing.assert_array_equal(
        load_engine(tmp_path / "w").predict(rec, opts).extra["c1"],
        eng.predict(rec, opts).extra["c1"],
    )


def test_export_ships_a_given_model_with_extra_manifest_and_kept_card(tmp_path: Path) -> None:
    """``--model`` (e.g. confidence_ft output) replaces the run's weights; ``--extra`` merges
    into the manifest one level deep; ``--keep-card`` leaves a hand-written card alone."""
    import torch
    from safetensors.torch import save_file

    from rnapredict.train.export import export_run

    run_net, other = tiny_engine(5).net, tiny_engine(6).net
    _tiny_checkpoint(tmp_path / "run", 7, run_net, 3600.0)
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, tmp_path / "m.st")
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "MODEL_CARD.md").write_text("hand-written\n")
    extra = {"inference": {"init_sigma_by_source": {"assembly": 1.0}}, "confidence_ft": {"e": 4}}
    m = export_run(
        tmp_path / "run", tmp_path / "w", init_sigma=6.0, model=tmp_path / "m.st", extra=extra,
        card=False,
    )  # fmt: skip
    assert m["inference"] == {"init_sigma": 6.0, "init_sigma_by_source": {"assembly": 1.0}}
    assert m["confidence_ft"] == {"e": 4}
    assert (tmp_path / "w" / "MODEL_CARD.md").read_text() == "hand-written\n"
    shipped = load_engine(tmp_path / "w").net.state_dict()
    for k, v in other.state_dict().items():
        assert torch.equal(shipped[k], v), k


def test_reexport_keeps_the_shipped_assets(tmp_path: Path) -> None:
    """Writing new weights into a directory keeps its motif/template library blocks while the
    files match, and drops a block whose file changed."""
    import shutil

    repo_weights = Path(__file__).resolve().parents[1] / "weights"
    shipped = json.loads((repo_weights / MANIFEST).read_text())
    wdir = tmp_path / "w"
    wdir.mkdir()
    for key in ("motif_library", "templates"):
        shutil.copy(repo_weights / shipped[key]["file"], wdir / shipped[key]["file"])
    (wdir / MANIFEST).write_text(
        json.dumps({k: shipped[k] for k in ("motif_library", "templates")})
    )
    net = tiny_engine(0).net
    out = write_weights(wdir, net.state_dict(), net.cfg, {"model_version": "t"}, overwrite=True)
    assert out["motif_library"] == shipped["motif_library"]
    assert out["templates"] == shipped["templates"]
    # a changed asset file is not vouched for
    (wdir / shipped["templates"]["file"]).write_bytes(b"changed")
    out = write_weights(wdir, net.state_dict(), net.cfg, {"model_version": "t"}, overwrite=True)
    assert "templates" not in out and out["motif_library"] == shipped["motif_library"]
