"""Chemical probing files (``fold --shape`` / ``--dms``): reactivities per record id.

Formats (detected from the content):

- **two-column** ``.shape`` (RNAstructure / ViennaRNA): ``position reactivity`` per line,
  1-based; an optional middle column with the nucleotide (``position base reactivity``) is
  accepted. Missing positions, values ≤ −500 (RNAstructure's −999) and ``nan`` mean no data.
  A file without headers holds one record whose id is the file name without its suffix;
  ``>id`` header lines split a file into several records.
- **directory**: every ``<id>.shape`` / ``.dms`` / ``.txt`` / ``.rdat`` file in it (not
  recursive), each read as above.
- **RDAT** (first line ``RDAT_VERSION``), read with ``rdat-kit``: one record per construct
  ``NAME``, the first data row, ``SEQPOS`` minus ``OFFSET`` as 1-based positions.

A file that cannot be used at all (missing, empty, no record, two records with one id) raises
:class:`~rnapredict.errors.InputError` (exit 2). A bad value inside one record (non-numeric,
duplicate position, position out of range for the record's sequence) fails that record alone:
the entry keeps the :class:`~rnapredict.errors.RecordError` and :func:`reactivities_for`
raises it, naming file, record and line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnapredict.errors import InputError, RecordError
from rnapredict.io.names import safe_name
from rnapredict.io.textio import iter_lines

#: Values at or below this mean "no data" (RNAstructure writes −999).
MISSING_AT_OR_BELOW = -500.0
KINDS = ("shape", "dms")
DIR_SUFFIXES = (".shape", ".dms", ".txt", ".rdat")


@dataclass(frozen=True)
class Reactivities:
    """Reactivities of one record, matched to its sequence.

    Attributes:
        kind: ``shape`` or ``dms``.
        values: [L] reactivity per residue (normalized, unitless), None where there is no data.
        source: the file they came from.
    """

    kind: str
    values: tuple[float | None, ...]
    source: str = "<memory>"

    def array(self) -> np.ndarray:
        """[L] float64, NaN where there is no data."""
        return np.array([np.nan if v is None else v for v in self.values], dtype=np.float64)

    @property
    def n_measured(self) -> int:
        return sum(v is not None for v in self.values)


@dataclass(frozen=True)
class ProbingEntry:
    """One record's data as read from a file, before matching to a sequence.

    Attributes:
        id: record id.
        values: 1-based position → reactivity (positions without data left out).
        lines: 1-based position → file line it was read from (for messages).
        source: file name; line: line of the header (or 1).
        max_position: largest position written in the file, with or without data.
        error: a bad value in this record (it then fails alone), or None.
    """

    id: str
    values: dict[int, float]
    lines: dict[int, int]
    source: str
    line: int = 1
    max_position: int = 0
    max_line: int = 1
    error: RecordError | None = field(default=None, compare=False)


def _value(tok: str, where: dict) -> float | None:
    try:
        v = float(tok)
    except ValueError:
        raise RecordError(f"reactivity {tok[:20]!r} is not a number", **where) from None
    if math.isnan(v) or v <= MISSING_AT_OR_BELOW:
        return None
    if math.isinf(v):
        raise RecordError(f"reactivity {tok!r} is not finite", **where)
    return v


class _Builder:
    """Accumulates one record's rows; keeps the first bad row as the record's error."""

    def __init__(self, rid: str, source: str, line: int) -> None:
        self.id, self.source, self.line = rid, source, line
        self.values: dict[int, float] = {}
        self.lines: dict[int, int] = {}
        self.seen: dict[int, int] = {}
        self.max_position = 0
        self.max_line = line
        self.error: RecordError | None = None

    def row(self, lineno: int, toks: list[str]) -> None:
        if self.error is not None:
            return
        where = {"file": self.source, "record": self.id, "line": lineno}
        try:
            if len(toks) not in (2, 3):
                raise RecordError(
                    f"expected 'position reactivity' (2 or 3 columns), found {len(toks)}", **where
                )
            try:
                pos = int(toks[0])
            except ValueError:
                raise RecordError(f"position {toks[0][:20]!r} is not an integer", **where) from None
            if pos < 1:
                raise RecordError(f"position {pos} out of range (positions start at 1)", **where)
            if pos in self.seen:
                raise RecordError(
                    f"duplicate position {pos} (also on line {self.seen[pos]})",
                    position=pos,
                    **where,
                )
            self.seen[pos] = lineno
            value = _value(toks[-1], {**where, "position": pos})
        except RecordError as err:
            self.error = err
            return
        if pos > self.max_position:
            self.max_position, self.max_line = pos, lineno
        if value is not None:
            self.values[pos] = value
            self.lines[pos] = lineno

    def build(self) -> ProbingEntry:
        return ProbingEntry(
            self.id,
            self.values,
            self.lines,
            self.source,
            self.line,
            self.max_position,
            self.max_line,
            self.error,
        )


def parse_shape(
    lines: Iterable[tuple[int, str]], source: str, default_id: str
) -> list[ProbingEntry]:
    """Entries of a two-column reactivity text (one record, or several with ``>id`` headers).

    Raises:
        InputError: a header without an id, or data before the first header of a file
            that has headers (the records cannot be told apart).
    """
    out: list[_Builder] = []
    current: _Builder | None = None
    headerless: _Builder | None = None
    for lineno, line in lines:
        text = line.strip()
        if not text or text.startswith(("#", ";")):
            continue
        if text.startswith(">"):
            rid = text[1:].split()[0] if text[1:].split() else ""
            if not rid:
                raise InputError("header has no record id", file=source, line=lineno)
            if headerless is not None:
                raise InputError(
                    "data lines before the first '>id' header", file=source, line=headerless.line
                )
            current = _Builder(rid, source, lineno)
            out.append(current)
            continue
        if current is None:
            current = headerless = _Builder(default_id, source, lineno)
            out.append(current)
        current.row(lineno, text.split())
    return [b.build() for b in out]


def _rdat_line_of(lines: Sequence[str], name: str) -> int:
    for k, line in enumerate(lines, 1):
        toks = line.split(None, 1)
        if toks and toks[0].rstrip(":") == "NAME" and len(toks) > 1 and toks[1].strip() == name:
            return k
    return 1


def parse_rdat(path: Path, source: str) -> list[ProbingEntry]:
    """Entries of an RDAT file via ``rdat-kit`` (one per construct, first data row).

    Raises:
        InputError: rdat-kit cannot read the file (its message is kept).
    """
    import rdat_kit  # imported here: only RDAT inputs need it

    rdat = rdat_kit.RDATFile()
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            rdat.load(fh)
    except Exception as exc:  # noqa: BLE001  rdat-kit raises bare built-ins on bad input
        raise InputError(
            f"not a readable RDAT file ({type(exc).__name__}: {exc})", file=source
        ) from None
    text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    out: list[ProbingEntry] = []
    for name, construct in rdat.constructs.items():
        line = _rdat_line_of(text, name)
        b = _Builder(name, source, line)
        rows = [d.values for d in getattr(construct, "data", []) if len(d.values)]
        if not rows:
            b.error = RecordError(
                "RDAT construct has no data row", file=source, record=name, line=line
            )
            out.append(b.build())
            continue
        offset = int(getattr(construct, "offset", 0) or 0)
        seqpos = list(construct.seqpos) or list(range(1 + offset, len(rows[0]) + 1 + offset))
        if len(seqpos) != len(rows[0]):
            b.error = RecordError(
                f"RDAT has {len(seqpos)} SEQPOS but {len(rows[0])} values",
                file=source,
                record=name,
                line=line,
            )
        else:
            for p, v in zip(seqpos, rows[0], strict=True):
                b.row(line, [str(int(p) - offset), repr(float(v))])
        out.append(b.build())
    return out


def _read_file(path: Path) -> list[ProbingEntry]:
    source = str(path)
    lines = list(iter_lines(path))
    first = next((ln for _, ln in lines if ln.strip()), "")
    if first.lstrip().upper().startswith(("RDAT_VERSION", "VERSION")):
        return parse_rdat(path, source)
    stem = path.name
    for suffix in (".gz", *DIR_SUFFIXES):
        stem = stem.removesuffix(suffix)
    return parse_shape(lines, source, stem)


def read_probing(path: str | Path) -> dict[str, ProbingEntry]:
    """All records of a ``--shape`` / ``--dms`` file or directory, by record id.

    Raises:
        InputError: missing/unreadable input, no records, a malformed header, an RDAT file
            rdat-kit cannot read, or the same id twice.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in DIR_SUFFIXES
        )
        if not files:
            raise InputError(f"directory has no {'/'.join(DIR_SUFFIXES)} files", file=str(path))
    else:
        files = [path]
    out: dict[str, ProbingEntry] = {}
    for f in files:
        for e in _read_file(f):
            if e.id in out:
                raise InputError(
                    f"record id {e.id!r} has data twice (also in {out[e.id].source})",
                    file=e.source,
                    line=e.line,
                )
            out[e.id] = e
    if not out:
        raise InputError("no reactivity data", file=str(path))
    return out


def lookup(entries: dict[str, ProbingEntry], record_id: str) -> ProbingEntry | None:
    """The entry of ``record_id``: by exact id, else by its file-safe name (directory files)."""
    e = entries.get(record_id)
    if e is None:
        e = entries.get(safe_name(record_id))
    return e


def reactivities_for(entry: ProbingEntry, kind: str, length: int) -> Reactivities:
    """Match an entry to a record of ``length`` nt.

    Raises:
        RecordError: a bad value in the entry, or a position beyond the sequence (with the
            file, record, line and position).
    """
    if entry.error is not None:
        raise entry.error
    if entry.max_position > length:
        raise RecordError(
            f"position {entry.max_position} out of range: the sequence has {length} nt",
            file=entry.source,
            record=entry.id,
            line=entry.max_line,
            position=entry.max_position,
        )
    values = tuple(entry.values.get(i) for i in range(1, length + 1))
    return Reactivities(kind, values, entry.source)


@dataclass(frozen=True)
class ProbingSet:
    """The ``--shape`` or ``--dms`` input of a run: its records by id.

    Attributes:
        kind: ``shape`` or ``dms``; source: the file or directory given.
    """

    kind: str
    entries: dict[str, ProbingEntry]
    source: str

    def for_record(self, record_id: str, length: int) -> Reactivities | None:
        """The reactivities of a record of ``length`` nt, or None if the input has none.

        Raises:
            RecordError: the record's data are bad (see :func:`reactivities_for`).
        """
        entry = lookup(self.entries, record_id)
        if entry is None:
            return None
        return reactivities_for(entry, self.kind, length)


def read_probing_set(path: str | Path, kind: str) -> ProbingSet:
    """Read a ``--shape`` / ``--dms`` file or directory (see :func:`read_probing`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown probing kind {kind!r}")
    return ProbingSet(kind, read_probing(path), str(path))


def shape_text(values: Sequence[float | None]) -> str:
    """Two-column ``.shape`` text (1-based; positions without data left out)."""
    return "".join(f"{i}\t{v:.4f}\n" for i, v in enumerate(values, 1) if v is not None)
