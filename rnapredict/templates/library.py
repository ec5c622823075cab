"""The template structure library: one ``.npz`` (``allow_pickle=False``) with a version field.

Arrays (N chains, T residues in all):

- ``version``: [] int, :data:`LIBRARY_VERSION`;
- ``entry``: [N] str, PDB id (upper case); ``chain``: [N] str, chain name as deposited;
- ``date``: [N] str ``YYYY-MM-DD`` release date, ``""`` when unknown;
- ``seq``: [T] uint8 ASCII ``ACGUN``, all chains' sequences concatenated;
- ``offsets``: [N + 1] int64, chain i owns residues ``offsets[i]:offsets[i+1]``;
- ``c1``: [T, 3] float32 C1′ coordinates (Å), NaN where the residue has no C1′.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnapredict.errors import InputError
from rnapredict.io.atomic import atomic_write_bytes
from rnapredict.prior.cutoff import entry_ids

LIBRARY_VERSION = 1
#: The shipped default library (train split of ../shared/data; see weights/MODEL_CARD.md).
SHIPPED_NAME = "templates.npz"


@dataclass(frozen=True)
class TemplateChain:
    """One chain to store: ``c1`` [L, 3] Å (NaN rows for residues without C1′)."""

    entry: str
    chain: str
    seq: str
    date: str
    c1: np.ndarray

    @property
    def id(self) -> str:
        return f"{self.entry}_{self.chain}"


@dataclass(frozen=True, eq=False)
class TemplateLibrary:
    """An indexed set of RNA chains (see the module docstring for the arrays)."""

    entry: np.ndarray
    chain: np.ndarray
    date: np.ndarray
    seq: np.ndarray
    offsets: np.ndarray
    c1: np.ndarray
    source: str = "<memory>"

    def __len__(self) -> int:
        return len(self.entry)

    def chain_id(self, i: int) -> str:
        """``ENTRY_CHAIN`` (the ``target_id`` convention of ../shared/data/c1)."""
        return f"{self.entry[i]}_{self.chain[i]}"

    def sequence(self, i: int) -> str:
        return self.seq[self.offsets[i] : self.offsets[i + 1]].tobytes().decode("ascii")

    def coords(self, i: int) -> np.ndarray:
        """[L_i, 3] C1′ (Å) of chain i, NaN where missing."""
        return self.c1[self.offsets[i] : self.offsets[i + 1]]

    @functools.cached_property
    def ids_upper(self) -> np.ndarray:
        """[N] ``ENTRY_CHAIN`` upper-cased, for the "never the query itself" rule."""
        return np.char.upper(np.char.add(np.char.add(self.entry.astype(str), "_"), self.chain))

    @functools.cached_property
    def entry_ids(self) -> np.ndarray:
        """[N] PDB entry of each chain as :func:`rnapredict.prior.cutoff.entry_id` reads it
        (``""`` for names that are not PDB ids), for the self-exclusion rule."""
        return entry_ids(self.entry)

    @classmethod
    def from_chains(cls, chains: list[TemplateChain], source: str = "<memory>") -> TemplateLibrary:
        """Library of ``chains`` in the given order (ids must be unique)."""
        lengths = [len(c.seq) for c in chains]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        seq = np.frombuffer("".join(c.seq for c in chains).encode("ascii"), dtype=np.uint8)
        c1 = (
            np.concatenate([np.asarray(c.c1, dtype=np.float32).reshape(-1, 3) for c in chains])
            if chains
            else np.zeros((0, 3), np.float32)
        )
        return cls(
            entry=np.array([c.entry.upper() for c in chains], dtype=str).reshape(-1),
            chain=np.array([c.chain for c in chains], dtype=str).reshape(-1),
            date=np.array([c.date for c in chains], dtype="<U10").reshape(-1),
            seq=seq.copy(),
            offsets=offsets,
            c1=c1,
            source=source,
        )

    def to_bytes(self) -> bytes:
        """The ``.npz`` bytes; deterministic (fixed zip timestamps), so same chains → same hash."""
        arrays = {
            "version": np.array(LIBRARY_VERSION, dtype=np.int64),
            "entry": self.entry.astype(str),
            "chain": self.chain.astype(str),
            "date": self.date.astype("<U10"),
            "seq": self.seq,
            "offsets": self.offsets,
            "c1": self.c1.astype(np.float32),
        }
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w") as fh:
                    np.lib.format.write_array(fh, np.asarray(arr), allow_pickle=False)
        return buf.getvalue()

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write atomically (temp + rename); an existing file needs ``overwrite``."""
        return atomic_write_bytes(path, self.to_bytes(), overwrite=overwrite)


#: What a template library is, for messages about files that are not one.
EXPECTED = "expected a .npz template library written by 'rnapredict templates build'"


def _what_is(head: bytes) -> str:
    """A short description of a file from its first bytes (for 'not a template library')."""
    if not head:
        return "an empty file"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip file"
    if head.startswith((b"\x93NUMPY", b"\x80")):
        return "a single NumPy array or pickle" if head.startswith(b"\x80") else "a .npy array"
    text = head.decode("utf-8", errors="replace").lstrip()
    if text.startswith(">"):
        return "a FASTA file (it starts with '>')"
    if text.startswith(("data_", "HEADER", "ATOM", "HETATM", "CRYST1", "MODEL")):
        return "a structure file (PDB/mmCIF); build a library from it with 'templates build'"
    if b"\x00" not in head:
        return f"a text file starting {text.splitlines()[0][:40]!r}" if text else "a text file"
    return "a binary file that is not a zip (.npz) archive"


def _read(path: Path) -> TemplateLibrary:
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise InputError(f"cannot read template library: {exc.strerror}", file=str(path)) from None
    if not head.startswith(b"PK"):  # .npz is a zip archive; np.load would talk of pickles
        raise InputError(
            f"not a template library: found {_what_is(head)}; {EXPECTED}", file=str(path)
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(
            f"not a template library: a zip archive numpy cannot read ({exc}); {EXPECTED}",
            file=str(path),
        ) from None
    need = ("version", "entry", "chain", "date", "seq", "offsets", "c1")
    missing = [k for k in need if k not in arrays]
    if missing:
        raise InputError(
            f"not a template library: found a .npz without {', '.join(missing)}; {EXPECTED}",
            file=str(path),
        )
    if int(arrays["version"]) != LIBRARY_VERSION:
        raise InputError(
            f"template library version {int(arrays['version'])}, this rnapredict reads "
            f"{LIBRARY_VERSION}; rebuild it with 'rnapredict templates build'",
            file=str(path),
        )
    n, t = len(arrays["entry"]), len(arrays["seq"])
    off = arrays["offsets"]
    if (
        len(off) != n + 1
        or off[0] != 0
        or off[-1] != t
        or arrays["c1"].shape != (t, 3)
        or np.any(np.diff(off) < 0)
    ):
        raise InputError("template library arrays are inconsistent", file=str(path))
    return TemplateLibrary(
        entry=arrays["entry"],
        chain=arrays["chain"],
        date=arrays["date"],
        seq=arrays["seq"],
        offsets=off.astype(np.int64),
        c1=arrays["c1"].astype(np.float32, copy=False),
        source=str(path),
    )


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, size: int, sha256: str | None) -> TemplateLibrary:
    if sha256 is not None:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if digest != sha256:
            raise InputError(f"sha256 {digest} does not match the manifest", file=path)
    return _read(Path(path))


def load_library(path: str | os.PathLike[str], sha256: str | None = None) -> TemplateLibrary:
    """Read a library (cached per process by path, mtime and size).

    Args:
        sha256: expected hex digest of the file (the shipped one's is in the manifest).

    Raises:
        InputError: missing file, hash mismatch, not a library, wrong version, inconsistent
            arrays.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        raise InputError("template library not found", file=str(p)) from None
    return _cached(str(p.resolve()), st.st_mtime_ns, st.st_size, sha256)


def shipped_library_path() -> Path:
    """The default library beside the shipped weights (``$RNAPREDICT_WEIGHTS`` honoured)."""
    from rnapredict.engine.weights import default_weights_dir

    return default_weights_dir() / SHIPPED_NAME


def _shipped_sha256(weights_dir: Path) -> str | None:
    """The ``templates.sha256`` entry of the weights manifest, if any."""
    try:
        manifest = json.loads((weights_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    entry = manifest.get("templates") if isinstance(manifest, dict) else None
    return entry.get("sha256") if isinstance(entry, dict) else None


def resolve_library(spec: str | None) -> TemplateLibrary | None:
    """``none``/None → no templates; ``default`` → the shipped library, verified against the
    manifest's sha256 (None when the weights directory has none, e.g. custom weights); else a
    path (an error when missing)."""
    if spec is None or spec.lower() == "none":
        return None
    if spec.lower() == "default":
        path = shipped_library_path()
        if not path.is_file():
            return None
        return load_library(path, _shipped_sha256(path.parent))
    return load_library(spec)
