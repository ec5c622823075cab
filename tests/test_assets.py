"""The weights directory's one missing-file policy (rnapredict.assets), for every asset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rnapredict.assets import MANIFEST, read_asset, record_asset, update_manifest, write_file
from rnapredict.errors import WeightsError
from rnapredict.prior.library import default_library
from rnapredict.templates.library import resolve_library

SHIPPED = Path(__file__).resolve().parents[1] / "weights"


@pytest.fixture
def wdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A weights directory with copies of the shipped motif and template libraries."""
    shipped = json.loads((SHIPPED / MANIFEST).read_text())
    w = tmp_path / "w"
    w.mkdir()
    for key in ("motif_library", "templates"):
        shutil.copy(SHIPPED / shipped[key]["file"], w / shipped[key]["file"])
    (w / MANIFEST).write_text(json.dumps({k: shipped[k] for k in ("motif_library", "templates")}))
    monkeypatch.setenv("RNAPREDICT_WEIGHTS", str(w))
    default_library.cache_clear()
    yield w
    default_library.cache_clear()


def _readers():
    return {"motif_library": default_library, "templates": lambda: resolve_library("default")}


@pytest.mark.parametrize("key", ["motif_library", "templates"])
def test_listed_asset_loads(wdir: Path, key: str) -> None:
    assert _readers()[key]() is not None


@pytest.mark.parametrize("key", ["motif_library", "templates"])
def test_unlisted_asset_is_absent(wdir: Path, key: str) -> None:
    """Not in the manifest → None, even when a file of that name lies there."""
    manifest = json.loads((wdir / MANIFEST).read_text())
    del manifest[key]
    (wdir / MANIFEST).write_text(json.dumps(manifest))
    assert _readers()[key]() is None


@pytest.mark.parametrize("key", ["motif_library", "templates"])
def test_listed_but_missing_asset_is_an_error(wdir: Path, key: str) -> None:
    """The template library used to fall back to none here; both readers now refuse."""
    entry = json.loads((wdir / MANIFEST).read_text())[key]
    (wdir / entry["file"]).unlink()
    with pytest.raises(WeightsError, match="missing"):
        _readers()[key]()


@pytest.mark.parametrize("key", ["motif_library", "templates"])
def test_altered_asset_is_an_error(wdir: Path, key: str) -> None:
    path = wdir / json.loads((wdir / MANIFEST).read_text())[key]["file"]
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256"):
        _readers()[key]()


def test_record_then_read_round_trip(tmp_path: Path) -> None:
    block = write_file(tmp_path / "a.bin", b"payload")
    assert block == {
        "file": "a.bin",
        "sha256": "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5",
        "bytes": 7,
    }
    update_manifest(tmp_path, model_version="m")
    record_asset(tmp_path / "a.bin", "templates", note="x")
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["model_version"] == "m"  # the rest of the manifest is kept
    assert manifest["templates"] == {**block, "note": "x"}
    assert read_asset(tmp_path, "templates") == (tmp_path / "a.bin", b"payload")
    assert read_asset(tmp_path, "motif_library") is None
    (tmp_path / "a.bin").write_bytes(b"payloa")
    with pytest.raises(WeightsError, match="truncated"):
        read_asset(tmp_path, "templates")
