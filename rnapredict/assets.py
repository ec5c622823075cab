"""The weights directory: where it is, its ``manifest.json``, and how its files are verified
and written. Every reader and writer of ``weights/`` goes through here (the engine's weights,
the motif library, the template library, training export, calibration); torch-free.

``manifest.json`` holds the released network (``file``, ``sha256``, ``bytes``, ``config``,
...) and one block per data asset shipped beside it (:data:`ASSET_KEYS`), each with at least
``file`` and ``sha256``.

One missing-file policy for every asset: an asset the manifest does not list is absent (its
reader gets None and the fold goes on without it); a listed file that is missing, truncated or
whose sha256 differs is a :class:`~rnapredict.errors.WeightsError` — never a silent fallback.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from rnapredict.errors import WeightsError
from rnapredict.io.atomic import atomic_write_bytes, atomic_write_text

MANIFEST = "manifest.json"
ENV_VAR = "RNAPREDICT_WEIGHTS"
#: Manifest blocks of data files shipped beside the weights (not tied to them).
ASSET_KEYS = ("motif_library", "templates", "cgscore")


def default_weights_dir() -> Path:
    """``$RNAPREDICT_WEIGHTS`` if set, else the repository's top-level ``weights/``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "weights"


def load_manifest(weights_dir: Path) -> dict[str, Any] | None:
    """Parsed ``manifest.json`` of ``weights_dir``; None when there is none (WeightsError when
    it is unreadable or not a JSON object)."""
    path = Path(weights_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WeightsError(f"unreadable manifest: {err}", file=str(path)) from None
    if not isinstance(manifest, dict):
        raise WeightsError("manifest is not a JSON object", file=str(path))
    return manifest


def read_manifest(weights_dir: Path) -> dict[str, Any]:
    """The manifest of released weights (WeightsError when absent, malformed, or lacking the
    network's ``file``, ``sha256``, ``bytes`` or ``config``)."""
    manifest = load_manifest(weights_dir)
    if manifest is None:
        raise WeightsError(f"no weights found at {weights_dir} (missing {MANIFEST})")
    for key in ("file", "sha256", "bytes", "config"):
        if key not in manifest:
            raise WeightsError(f"manifest lacks '{key}'", file=str(Path(weights_dir) / MANIFEST))
    return manifest


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(data: bytes, entry: dict[str, Any], path: Path) -> bytes:
    """``data`` (the bytes of ``path``) when they match the manifest ``entry``'s ``bytes``
    (if given) and ``sha256``; WeightsError otherwise."""
    if "bytes" in entry and len(data) != int(entry["bytes"]):
        raise WeightsError(
            f"size {len(data)} bytes differs from the manifest's {entry['bytes']} (truncated?)",
            file=str(path),
        )
    digest = sha256_hex(data)
    if digest != entry["sha256"]:
        raise WeightsError(f"sha256 {digest} does not match the manifest", file=str(path))
    return data


def asset_entry(weights_dir: Path, key: str) -> tuple[Path, dict[str, Any]] | None:
    """(file, manifest block) of the asset ``key``; None when the manifest (or the directory)
    does not list it. A listed file that is missing is a WeightsError."""
    manifest = load_manifest(weights_dir)
    entry = manifest.get(key) if manifest is not None else None
    if not entry:
        return None
    if not isinstance(entry, dict) or "file" not in entry or "sha256" not in entry:
        raise WeightsError(f"bad '{key}' block", file=str(Path(weights_dir) / MANIFEST))
    name = str(entry["file"])
    path = Path(weights_dir) / name
    if Path(name).name != name:
        raise WeightsError(f"{key} must be a file of the weights directory, got {name!r}")
    if not path.is_file():  # listed but gone: never fall back silently
        raise WeightsError(f"{key} listed in {MANIFEST} is missing", file=str(path))
    return path, entry


def read_asset(weights_dir: Path, key: str) -> tuple[Path, bytes] | None:
    """(file, verified bytes) of the asset ``key`` (None when not listed; see the module
    docstring for the policy)."""
    found = asset_entry(weights_dir, key)
    if found is None:
        return None
    path, entry = found
    return path, verify(path.read_bytes(), entry, path)


def kept_assets(weights_dir: Path) -> dict[str, Any]:
    """Asset blocks of an existing manifest in ``weights_dir`` whose files still match.

    Re-exporting weights into a directory must not drop the motif library or the template
    library it already holds (the engine would silently lose them).
    """
    try:
        old = json.loads((Path(weights_dir) / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    kept: dict[str, Any] = {}
    for key in ASSET_KEYS:
        entry = old.get(key) if isinstance(old, dict) else None
        if not isinstance(entry, dict) or "file" not in entry or "sha256" not in entry:
            continue
        asset = Path(weights_dir) / str(entry["file"])
        if asset.is_file() and sha256_hex(asset.read_bytes()) == entry["sha256"]:
            kept[key] = entry
    return kept


def write_file(path: Path, data: bytes, overwrite: bool = False) -> dict[str, Any]:
    """Write a released file (temp + rename, world-readable); its manifest fields
    (``file``, ``sha256``, ``bytes``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data, overwrite=overwrite)
    os.chmod(path, 0o644)
    return {"file": path.name, "sha256": sha256_hex(data), "bytes": len(data)}


def write_manifest(weights_dir: Path, manifest: dict[str, Any], overwrite: bool = True) -> None:
    """Write ``manifest.json`` (temp + rename, world-readable)."""
    path = Path(weights_dir) / MANIFEST
    atomic_write_text(path, json.dumps(manifest, indent=1) + "\n", overwrite=overwrite)
    os.chmod(path, 0o644)


def update_manifest(weights_dir: Path, **blocks: Any) -> dict[str, Any]:
    """Set top-level ``blocks`` in the manifest of ``weights_dir`` (created when absent); the
    rest is kept. Returns the new manifest."""
    manifest = load_manifest(weights_dir) or {}
    manifest.update(blocks)
    write_manifest(weights_dir, manifest)
    return manifest


def record_asset(path: Path, key: str, **extra: Any) -> dict[str, Any]:
    """List the file ``path`` as the asset ``key`` (file, sha256, bytes, ``extra``) in the
    manifest of its directory; returns the block."""
    path = Path(path)
    data = path.read_bytes()
    block = {"file": path.name, "sha256": sha256_hex(data), "bytes": len(data), **extra}
    update_manifest(path.parent, **{key: block})
    return block
