"""Line-by-line reading of text inputs: plain files, gzip (detected by magic bytes), ``-`` stdin.

Everything that makes a file unusable as text (missing, a directory, unreadable, another
compression format, binary data, a corrupt gzip stream) becomes an
:class:`~rnapredict.errors.InputError` naming the file (and line where known). Bytes that are
not UTF-8 are decoded as U+FFFD so the parsers report them as illegal characters with a
position instead of crashing.
"""

from __future__ import annotations

import gzip
import io
import sys
import unicodedata
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from rnapredict.errors import InputError

STDIN = "-"
STDIN_NAME = "<stdin>"


def printable(text: str) -> str:
    """``text`` with control / non-printable characters escaped (``\\x1b``, ``\\t``, ...).

    Used wherever an untrusted id or message goes into a line-oriented file or a terminal.
    """
    out = []
    for ch in text:
        if ch.isprintable() and unicodedata.category(ch)[0] != "C":
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


_OTHER_COMPRESSION = {
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
    b"PK\x03\x04": "zip",
    b"\x28\xb5\x2f\xfd": "zstd",
}


def display_name(path: str | Path) -> str:
    """Name of an input as it appears in messages (``<stdin>`` for ``-``)."""
    return STDIN_NAME if str(path) == STDIN else str(path)


def _open_binary(path: str | Path) -> tuple[BinaryIO, bool]:
    """Open ``path`` (or stdin) for binary reading; returns (stream, should_close)."""
    if str(path) == STDIN:
        return sys.stdin.buffer, False
    p = Path(path)
    try:
        return open(p, "rb"), True  # noqa: SIM115 (closed by the caller)
    except FileNotFoundError:
        raise InputError("no such file", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", file=str(path)) from None
    except PermissionError:
        raise InputError("permission denied", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}", file=str(path)) from None


def _text_stream(raw: BinaryIO, name: str) -> io.TextIOWrapper:
    buf = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    head = buf.peek(8)[:8]
    for magic, kind in _OTHER_COMPRESSION.items():
        if head.startswith(magic):
            raise InputError(f"{kind}-compressed input is not supported (use gzip)", file=name)
    stream: BinaryIO = buf
    if head[:2] == b"\x1f\x8b":
        stream = io.BufferedReader(gzip.GzipFile(fileobj=buf, mode="rb"))  # type: ignore[arg-type]
    return io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None)


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line number (1-based), line without its end-of-line)`` of a text input.

    A generator all the way: memory is one line. ``.gz`` is recognised by content, not name.

    Raises:
        InputError: missing/unreadable file, directory, unsupported compression, binary
            data (NUL bytes) or a corrupt/truncated gzip stream.
    """
    name = display_name(path)
    raw, should_close = _open_binary(path)
    text: io.TextIOWrapper | None = None
    lineno = 0
    try:
        try:
            text = _text_stream(raw, name)
            for lineno, line in enumerate(text, 1):  # noqa: B007 (lineno used in except)
                if "\x00" in line:
                    raise InputError(
                        "binary data (NUL byte): not a text file", file=name, line=lineno
                    )
                if lineno == 1 and line.startswith("\ufeff"):
                    line = line[1:]
                yield lineno, line.rstrip("\r\n")
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise InputError(
                f"corrupt or truncated gzip data ({exc})", file=name, line=lineno + 1
            ) from None
        except OSError as exc:
            raise InputError(f"read error: {exc}", file=name, line=lineno + 1) from None
    finally:
        if text is not None and not should_close:
            text.detach()  # leave stdin open
        elif text is not None:
            text.close()
        if should_close:
            raw.close()
