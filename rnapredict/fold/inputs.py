"""Re-readable record streams for the two-pass batch (plan, then fold).

Files are simply read twice. Standard input can only be read once, so it is spooled to a
temporary file first (disk, not memory: constant memory in the number of records); messages and
outputs still name it ``<stdin>``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from rnapredict.errors import RecordError, RnapredictError
from rnapredict.io.inputs import check_inputs, iter_records
from rnapredict.io.records import Record
from rnapredict.io.textio import STDIN, STDIN_NAME

#: One item of the stream: a valid record, or the error of a record that fails alone.
Item = Record | RecordError
#: A callable giving a fresh iterator over the input stream (the batch reads it twice).
RecordSource = Callable[[], Iterable[Item]]


def _spool_stdin() -> Path:
    fd, tmp = tempfile.mkstemp(prefix="rnapredict-stdin-", suffix=".fa")
    with os.fdopen(fd, "wb") as fh:
        shutil.copyfileobj(sys.stdin.buffer, fh, 1 << 20)
    return Path(tmp)


def _rename_source(item: Item, spool: str) -> Item:
    if isinstance(item, Record):
        if item.source == spool:
            return Record(item.id, item.seq, item.ss, STDIN_NAME, item.description, item.index)
        return item
    if item.file == spool:
        item.file = STDIN_NAME
    return item


@contextlib.contextmanager
def input_source(
    inputs: Sequence[str | Path], ss_file: Path | None = None
) -> Iterator[RecordSource]:
    """A :data:`RecordSource` over FASTA ``inputs`` (``-``: stdin), checked as a whole first.

    Raises:
        InputError: missing/unreadable/non-FASTA input, stdin twice, bad ``--ss`` file (exit 2).
    """
    paths = [str(p) for p in inputs]
    spool: Path | None = None
    try:
        if STDIN in paths and paths.count(STDIN) == 1:
            spool = _spool_stdin()
            paths = [str(spool) if p == STDIN else p for p in paths]
        try:
            check_inputs(paths, ss_file)
        except RnapredictError as err:
            if spool is not None and err.file == str(spool):
                err.file = STDIN_NAME
            raise
        if spool is None:
            yield lambda: iter_records(paths, ss_file)
        else:
            name = str(spool)

            def source() -> Iterator[Item]:
                try:
                    for item in iter_records(paths, ss_file):
                        yield _rename_source(item, name)
                except RnapredictError as err:
                    if err.file == name:
                        err.file = STDIN_NAME
                    raise

            yield source
    finally:
        if spool is not None:
            with contextlib.suppress(FileNotFoundError):
                spool.unlink()
