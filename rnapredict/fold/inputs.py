"""Re-readable record streams for the two-pass batch (plan, then fold).

Files are simply read twice. Standard input can only be read once, so it is spooled to a
temporary file first (disk, not memory: constant memory in the number of records); messages and
outputs still name it ``<stdin>``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from rnapredict.errors import InputError, RecordError, RnapredictError
from rnapredict.io.inputs import check_inputs, iter_records
from rnapredict.io.probing import ProbingSet, lookup, read_probing_set
from rnapredict.io.records import Record
from rnapredict.io.textio import STDIN, STDIN_NAME, printable

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
            return dataclasses.replace(item, source=STDIN_NAME)
        return item
    if item.file == spool:
        item.file = STDIN_NAME
    return item


def _matching(records: Iterable[Item], probing: ProbingSet) -> Iterator[Item]:
    """Pass ``records`` through; at the end, a probing input matching no record id is an
    :class:`InputError` (raised in the planning pass, before any folding)."""
    matched = False
    for item in records:
        rid = item.id if isinstance(item, Record) else item.record
        matched = matched or (rid is not None and lookup(probing.entries, rid) is not None)
        yield item
    if not matched:
        ids = ", ".join(sorted(probing.entries)[:3])
        raise InputError(
            f"no record id of the input matches the --{probing.kind} data (ids there: {ids})",
            file=probing.source,
        )


class ProbingMatches:
    """Which ``--shape`` / ``--dms`` ids the records of a pass matched, to warn about the data
    left unused (as ``--ss`` warns about records it lacks)."""

    def __init__(self, probing: tuple[str, Path] | None) -> None:
        self.data = None if probing is None else read_probing_set(probing[1], probing[0])
        self.matched: set[str] = set()

    def see(self, record_id: str | None) -> None:
        """Note a record id of the input."""
        if self.data is not None and record_id is not None:
            entry = lookup(self.data.entries, record_id)
            if entry is not None:
                self.matched.add(entry.id)

    def warnings(self) -> list[str]:
        """One warning naming the data ids that match no record, when others did match
        (none matching is an error of :func:`input_source`)."""
        if self.data is None or not self.matched:
            return []
        unused = [i for i in self.data.entries if i not in self.matched]
        if not unused:
            return []
        shown = ", ".join(f"'{printable(i)}'" for i in unused[:5])
        more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
        return [
            f"{self.data.source}: --{self.data.kind} data for {len(unused)} id(s) matching no "
            f"record, not used: {shown}{more}"
        ]


@contextlib.contextmanager
def input_source(
    inputs: Sequence[str | Path],
    ss_file: Path | None = None,
    probing: tuple[str, Path] | None = None,
) -> Iterator[RecordSource]:
    """A :data:`RecordSource` over FASTA ``inputs`` (``-``: stdin), checked as a whole first.

    Args:
        probing: ``(kind, file or directory)`` of ``--shape`` / ``--dms`` data, or None.

    Raises:
        InputError: missing/unreadable/non-FASTA input, stdin twice, bad ``--ss`` file, a
            probing input that is unreadable or matches no record id (exit 2).
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
        data = None if probing is None else read_probing_set(probing[1], probing[0])

        def records() -> Iterator[Item]:
            items = iter_records(paths, ss_file, data)
            return items if data is None else _matching(items, data)

        if spool is None:
            yield records
        else:
            name = str(spool)

            def source() -> Iterator[Item]:
                try:
                    for item in records():
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
