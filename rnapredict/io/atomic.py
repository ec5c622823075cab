"""Atomic file writes: temp file in the same directory, then ``os.replace``.

A reader never sees a partial file at a final path, and an existing file is never clobbered
unless the caller says so.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from rnapredict.errors import OutputExistsError

TMP_PREFIX = ".rnapredict-tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: Path, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` if ``path`` exists and ``overwrite`` is false."""
    if path.exists() and not overwrite:
        raise OutputExistsError("output exists; pass --overwrite to replace it", file=str(path))


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str], mode: str = "w", overwrite: bool = False
) -> Iterator[IO]:
    """Open a temp file beside ``path``; on clean exit fsync and rename it onto ``path``.

    On an exception the temp file is removed and ``path`` is untouched.
    """
    path = Path(path)
    check_writable(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        text_kw = {} if "b" in mode else {"encoding": "utf-8"}  # never the locale's codec
        with os.fdopen(fd, mode, **text_kw) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if not overwrite and path.exists():  # appeared while we were writing
            raise OutputExistsError("output appeared while writing; not replaced", file=str(path))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get normal permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str, overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    with atomic_open(path, "w", overwrite=overwrite) as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with atomic_open(path, "wb", overwrite=overwrite) as fh:
        fh.write(data)
    return Path(path)


def remove_stale_temps(directory: Path) -> int:
    """Delete temp files left by a killed run in ``directory`` (recursively); return the count."""
    n = 0
    for p in directory.rglob(f"{TMP_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            n += 1
    return n
