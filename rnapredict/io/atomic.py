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

from rnapredict.errors import InputError, OutputExistsError

TMP_PREFIX = ".rnapredict-tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: Path, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` if ``path`` exists and ``overwrite`` is false."""
    if path.exists() and not overwrite:
        raise OutputExistsError("output exists; pass --overwrite to replace it", file=str(path))


def _dir_problem(out_dir: Path) -> tuple[str, str] | None:
    """Why ``out_dir`` cannot be (made into) a writable directory: (kind, detail), or None.

    Probes with a temp file in ``out_dir``, or in its nearest existing ancestor when it does
    not exist yet (nothing is created). kind: ``file`` (a path component is a regular file) or
    ``unwritable``.
    """
    probe = out_dir
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return "file", (
            "exists and is not a directory" if probe == out_dir else f"is under a file ({probe})"
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        where = "" if probe == out_dir else f" (cannot create it in {probe})"
        return "unwritable", f"{where}: {exc.strerror or exc}"
    return None


def check_output_dir(out_dir: Path) -> None:
    """Pre-flight: ``out_dir`` is (or can be created as) a writable directory; nothing is
    created, so a later usage error leaves no trace.

    Raises:
        InputError: a path component is a regular file, or the directory is not writable.
    """
    problem = _dir_problem(out_dir)
    if problem is None:
        return
    kind, detail = problem
    if kind == "file":
        raise InputError(f"output path {detail}; choose another -o", file=str(out_dir))
    raise InputError(f"output directory is not writable{detail}", file=str(out_dir))


def check_output_file(path: Path, overwrite: bool) -> None:
    """Pre-flight for one output file (before any work): not a directory, not an existing file
    without ``overwrite``, and its directory writable or creatable.

    Raises:
        InputError, OutputExistsError: naming ``path`` (never a temp file).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("output path is a directory; name a file with -o", file=str(path))
    check_writable(path, overwrite)
    problem = _dir_problem(path.parent)
    if problem is None:
        return
    kind, detail = problem
    where = f"its directory {path.parent}"
    if kind == "file":
        raise InputError(f"cannot write it: {where} {detail}; choose another -o", file=str(path))
    raise InputError(f"cannot write it: {where} is not writable{detail}", file=str(path))


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
