"""``OUT/summary.tsv``: one row per record, merged atomically as records complete.

The file is rewritten through a temp file + rename, so a reader (or a killed run) only ever sees
a whole file. Rows are keyed by (original id, stream index) and kept sorted by stream index, so
several shards writing into the same ``OUT`` (a SLURM array) merge into the same table the
unsharded run writes; the read-merge-write happens under an advisory lock on the ``OUT``
directory. Rewrites are throttled (at most one per ``interval`` seconds plus one at the end) so a
10,000-record batch of fast records does not spend its time rewriting the table; the per-record
``confidence.json`` / ``error.txt`` files are the ground truth and ``--resume`` restores any row
a killed run had not flushed yet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import heapq
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from rnapredict.io.atomic import TMP_PREFIX, atomic_open
from rnapredict.io.textio import printable

SUMMARY = "summary.tsv"


@dataclass(frozen=True)
class SummaryRow:
    """One ``summary.tsv`` row.

    Attributes:
        id: original record id (non-printable characters escaped).
        length: sequence length (nt) as written, or -1 when unknown (written as ``-``).
        status: ``ok`` or ``failed``.
        mean_plddt: mean pLDDT (0–100) of the best model, or None.
        time_s: wall seconds spent on the record (fold + relax + writes).
        name: output directory name under ``OUT`` (``-`` when none was written).
        index: 0-based position of the record in the input stream.
        ptm: pTM-like score of the best model (0–1), or None.
        relax: ``-`` (not asked), ``ok``, or ``failed k/N`` (models left unrelaxed).
        error: one-line error message for a failed record, else ``-``.
        templates: ``ENTRY_CHAIN`` ids of the templates that seeded models (comma-separated,
            rank order of first use), ``-`` when none.
    """

    id: str
    length: int
    status: str
    mean_plddt: float | None
    time_s: float
    name: str
    index: int
    ptm: float | None = None
    relax: str = "-"
    error: str = "-"
    templates: str = "-"

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.index)

    def to_line(self) -> str:
        cells = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or (f.name == "length" and value < 0):  # unknown
                cells.append("-")
            elif isinstance(value, float):
                cells.append(f"{value:.2f}" if value == value else "nan")
            else:
                cells.append(printable(str(value)) or "-")
        return "\t".join(cells) + "\n"

    @classmethod
    def from_cells(cls, header: list[str], cells: list[str]) -> SummaryRow:
        by_name = dict(zip(header, cells, strict=False))

        def opt_float(key: str) -> float | None:
            v = by_name.get(key, "-")
            return None if v in ("-", "") else float(v)

        return cls(
            id=by_name.get("id", "-"),
            length=int(v) if (v := by_name.get("length", "-")).lstrip("-").isdigit() else -1,
            status=by_name.get("status", "-"),
            mean_plddt=opt_float("mean_plddt"),
            time_s=opt_float("time_s") or 0.0,
            name=by_name.get("name", "-"),
            index=int(by_name.get("index", "-1") or -1),
            ptm=opt_float("ptm"),
            relax=by_name.get("relax", "-"),
            error=by_name.get("error", "-"),
            templates=by_name.get("templates", "-"),
        )


HEADER = [f.name for f in fields(SummaryRow)]
HEADER_LINE = "\t".join(HEADER) + "\n"


def read_summary(path: Path) -> Iterator[SummaryRow]:
    """Rows of a ``summary.tsv`` (streamed); nothing if the file does not exist."""
    try:
        fh = open(path, encoding="utf-8")
    except FileNotFoundError:
        return
    with fh:
        header: list[str] | None = None
        for line in fh:
            cells = line.rstrip("\n").split("\t")
            if header is None:
                header = cells
                continue
            if len(cells) >= 2:
                yield SummaryRow.from_cells(header, cells)


def _merge_sorted(
    existing: Iterable[SummaryRow], pending: list[SummaryRow]
) -> Iterator[SummaryRow]:
    """Existing rows (minus those ``pending`` replaces) and ``pending``, ordered by index.

    A pending row replaces the row of the same (id, index) and any row naming the same output
    directory: a directory holds one record's outputs, so after a rerun of a reordered or
    edited input (``--overwrite``, ``--resume``) the old row of that directory is stale. Rows
    without a directory (``-``: duplicate ids) are matched by (id, index) only.
    """
    replaced = {r.key for r in pending}
    dirs = {r.name for r in pending if r.name != "-"}
    kept = (r for r in existing if r.key not in replaced and r.name not in dirs)
    return heapq.merge(kept, sorted(pending, key=lambda r: r.index), key=lambda r: r.index)


def write_summary(path: Path, rows: Iterable[SummaryRow]) -> Path:
    """Write ``rows`` as a complete ``summary.tsv`` atomically (temp + rename)."""
    with atomic_open(path, "w", overwrite=True) as fh:
        fh.write(HEADER_LINE)
        for row in rows:
            fh.write(row.to_line())
    return path


@contextlib.contextmanager
def _dir_lock(directory: Path) -> Iterator[bool]:
    """Exclusive advisory lock on ``directory`` (True if held; False where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = True
        except OSError:
            held = False
        yield held
    finally:
        os.close(fd)  # closing releases the lock


def merge_into(path: Path, pending: list[SummaryRow]) -> None:
    """Merge ``pending`` rows into the ``summary.tsv`` at ``path`` under the directory lock."""
    if not pending:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with _dir_lock(path.parent) as held:
        if held:  # no other writer is mid-write: its temp files are stale
            for p in path.parent.glob(f"{TMP_PREFIX}*.tsv"):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
        write_summary(path, _merge_sorted(read_summary(path), pending))


def merge_summaries(inputs: Iterable[Path], out: Path) -> int:
    """Merge several ``summary.tsv`` files (e.g. one per shard directory) into ``out``.

    Each row's ``name`` (its record directory) is rewritten relative to ``out``'s directory, so
    ``dirname(out)/name`` still points at the record. A record present in several inputs keeps
    its last row. Returns the row count.
    """
    out = Path(out)
    base = out.parent.resolve()
    rows: dict[tuple[str, int], SummaryRow] = {}
    for p in inputs:
        p = Path(p)
        for r in read_summary(p):
            if r.name != "-":
                rel = os.path.relpath(p.parent.resolve() / r.name, base)
                r = dataclasses.replace(r, name=rel)
            rows[r.key] = r
    write_summary(out, sorted(rows.values(), key=lambda r: r.index))
    return len(rows)


def ensure_summary(path: Path) -> None:
    """Create an empty (header-only) ``summary.tsv`` if none exists, e.g. for an empty shard."""
    if not path.exists():
        with _dir_lock(path.parent):
            if not path.exists():
                write_summary(path, [])


class SummaryWriter:
    """Collects rows and merges them into ``summary.tsv`` at most every ``interval`` seconds."""

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self._pending: list[SummaryRow] = []
        self._last = 0.0

    def add(self, row: SummaryRow) -> None:
        self._pending.append(row)
        self.flush(force=False)

    def flush(self, force: bool = True) -> None:
        if not self._pending:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        merge_into(self.path, self._pending)
        self._pending = []
        self._last = time.monotonic()
