"""Chemical probing files (``fold --shape`` / ``--dms``): reactivities per record id.

Formats (detected from the content):

- **columns** ``.shape`` (RNAstructure / ViennaRNA): ``position reactivity`` per line, 1-based.
  Three columns are told apart by the middle one: a base letter means ``position base
  reactivity``, a number ``position reactivity stderr`` (what reactivity pipelines write).
  Four columns are a ShapeMapper 2 ``.map`` file: ``position reactivity stderr base`` (only
  the reactivity is used). Missing positions, values ≤ −500 (−999) and ``nan`` mean no data.
  A file without headers holds one record whose id is the file name without its suffix
  (and without ShapeMapper's ``_profile``); ``>id`` header lines split a file into records.
- **ShapeMapper 2 profile** (``*_profile.txt``: a tab-separated table whose header names
  ``Nucleotide`` and ``Norm_profile``): the normalised reactivity column, found by its name.
- **directory**: every ``<id>.shape`` / ``.dms`` / ``.map`` / ``.txt`` / ``.rdat`` file in it
  (not recursive), each read as above.
- **RDAT** (first line ``RDAT_VERSION``), read with ``rdat-kit``: one record per construct
  ``NAME``, the first data row, ``SEQPOS`` minus ``OFFSET`` as 1-based positions.

A base column (3-column with letters, ``.map``, the profile's ``Sequence``, RDAT's
``SEQUENCE``) is checked against the record's sequence: a mismatch fails the record, naming
the position (the data belong to another sequence or are shifted).

A file that cannot be used at all (missing, empty, no record, two records with one id) raises
:class:`~rnapredict.errors.InputError` (exit 2). A bad value inside one record (non-numeric,
duplicate position, position out of range for the record's sequence) fails that record alone:
the entry keeps the :class:`~rnapredict.errors.RecordError` and :func:`reactivities_for`
raises it, naming file, record and line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnapredict.errors import InputError, RecordError
from rnapredict.io.names import safe_name
from rnapredict.io.probing_tables import (
    ProbingEntry,
    is_profile,
    parse_profile,
    parse_rdat,
    parse_shape,
)
from rnapredict.io.textio import iter_lines

KINDS = ("shape", "dms")
DIR_SUFFIXES = (".shape", ".dms", ".map", ".txt", ".rdat")


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


def _read_file(path: Path) -> list[ProbingEntry]:
    source = str(path)
    lines = list(iter_lines(path))
    first = next((ln for _, ln in lines if ln.strip()), "")
    if first.lstrip().upper().startswith(("RDAT_VERSION", "VERSION")):
        return parse_rdat(path, source)
    stem = path.name
    for suffix in (".gz", *DIR_SUFFIXES, "_profile"):
        stem = stem.removesuffix(suffix)
    if is_profile(first):
        return parse_profile(lines, source, stem)
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


def _same_base(a: str, b: str) -> bool:
    a, b = a.replace("T", "U"), b.upper().replace("T", "U")
    return a == b or "N" in (a, b)


def reactivities_for(
    entry: ProbingEntry, kind: str, length: int, seq: str | None = None
) -> Reactivities:
    """Match an entry to a record of ``length`` nt (sequence ``seq``: checked against the
    entry's base column, if it has one).

    Raises:
        RecordError: a bad value in the entry, a position beyond the sequence, or a base that
            differs from the record's (with the file, record, line and position).
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
    if seq is not None and entry.bases:
        bad = next(
            (
                p
                for p, b in sorted(entry.bases.items())
                if p > len(seq) or not _same_base(b, seq[p - 1])
            ),
            None,
        )
        if bad is not None:
            theirs = "".join(entry.bases[p] for p in sorted(entry.bases))
            got = (
                f"the record has {seq[bad - 1]!r}"
                if bad <= len(seq)
                else f"the record has {len(seq)} nt"
            )
            raise RecordError(
                f"the data's sequence differs from the record's at position {bad}: the data "
                f"have {entry.bases[bad]!r}, {got} (data sequence {theirs[:30]}"
                f"{'...' if len(theirs) > 30 else ''}); the data belong to another sequence",
                file=entry.source,
                record=entry.id,
                line=entry.lines.get(bad, entry.line),
                position=bad,
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

    def for_record(
        self, record_id: str, length: int, seq: str | None = None
    ) -> Reactivities | None:
        """The reactivities of a record of ``length`` nt (sequence ``seq``), or None if the
        input has none.

        Raises:
            RecordError: the record's data are bad (see :func:`reactivities_for`).
        """
        entry = lookup(self.entries, record_id)
        if entry is None:
            return None
        return reactivities_for(entry, self.kind, length, seq)


def read_probing_set(path: str | Path, kind: str) -> ProbingSet:
    """Read a ``--shape`` / ``--dms`` file or directory (see :func:`read_probing`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown probing kind {kind!r}")
    return ProbingSet(kind, read_probing(path), str(path))


def shape_text(values: Sequence[float | None]) -> str:
    """Two-column ``.shape`` text (1-based; positions without data left out)."""
    return "".join(f"{i}\t{v:.4f}\n" for i, v in enumerate(values, 1) if v is not None)
