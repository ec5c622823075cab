"""Reactivity file layouts read into :class:`ProbingEntry` (one per record): column
``.shape`` / ShapeMapper ``.map`` text, ShapeMapper 2 ``_profile.txt`` tables and RDAT.
:mod:`rnapredict.io.probing` picks the parser and matches entries to records."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rnapredict.errors import InputError, RecordError

#: Values at or below this mean "no data" (RNAstructure writes −999).
MISSING_AT_OR_BELOW = -500.0
#: ShapeMapper 2 profile columns: position, the normalised reactivity, the base.
PROFILE_COLUMNS = ("Nucleotide", "Norm_profile", "Sequence")


@dataclass(frozen=True)
class ProbingEntry:
    """One record's data as read from a file, before matching to a sequence.

    Attributes:
        id: record id.
        values: 1-based position → reactivity (positions without data left out).
        lines: 1-based position → file line it was read from, with or without data (messages).
        source: file name; line: line of the header (or 1).
        max_position: largest position written in the file, with or without data.
        error: a bad value in this record (it then fails alone), or None.
        bases: 1-based position → base letter the file gives there (checked against the
            record's sequence); empty when the file has no base column.
    """

    id: str
    values: dict[int, float]
    lines: dict[int, int]
    source: str
    line: int = 1
    max_position: int = 0
    max_line: int = 1
    error: RecordError | None = field(default=None, compare=False)
    bases: dict[int, str] = field(default_factory=dict)


def _is_base(tok: str) -> bool:
    return len(tok) == 1 and tok.isalpha()


def _layout(toks: list[str], where: dict) -> tuple[str, str, str | None]:
    """``(position, reactivity, base or None)`` tokens of one data line (the 2-, 3- and
    4-column layouts of :mod:`rnapredict.io.probing`)."""
    if len(toks) == 2:
        return toks[0], toks[1], None
    if len(toks) == 3:
        return (toks[0], toks[2], toks[1]) if _is_base(toks[1]) else (toks[0], toks[1], None)
    if len(toks) == 4 and _is_base(toks[3]):
        return toks[0], toks[1], toks[3]
    raise RecordError(
        "expected 'position reactivity', 'position base reactivity', 'position reactivity "
        f"stderr' or ShapeMapper's 'position reactivity stderr base'; found {len(toks)} columns"
        + (f" ending in {toks[3][:20]!r}" if len(toks) == 4 else ""),
        **where,
    )


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


class EntryBuilder:
    """Accumulates one record's rows; keeps the first bad row as the record's error."""

    def __init__(self, rid: str, source: str, line: int) -> None:
        self.id, self.source, self.line = rid, source, line
        self.values: dict[int, float] = {}
        self.lines: dict[int, int] = {}
        self.seen: dict[int, int] = {}
        self.max_position = 0
        self.max_line = line
        self.error: RecordError | None = None
        self.bases: dict[int, str] = {}

    def row(self, lineno: int, toks: list[str]) -> None:
        """One data line in any of the column layouts."""
        if self.error is not None:
            return
        try:
            pos, value, base = _layout(
                toks, {"file": self.source, "record": self.id, "line": lineno}
            )
        except RecordError as err:
            self.error = err
            return
        self.add(lineno, pos, value, base)

    def add(self, lineno: int, pos_tok: str, value_tok: str, base: str | None = None) -> None:
        """One position: its reactivity (``-999``/``nan``: no data) and base letter if given."""
        if self.error is not None:
            return
        where = {"file": self.source, "record": self.id, "line": lineno}
        try:
            try:
                pos = int(pos_tok)
            except ValueError:
                raise RecordError(f"position {pos_tok[:20]!r} is not an integer", **where) from None
            if pos < 1:
                raise RecordError(f"position {pos} out of range (positions start at 1)", **where)
            if pos in self.seen:
                raise RecordError(
                    f"duplicate position {pos} (also on line {self.seen[pos]})",
                    position=pos,
                    **where,
                )
            self.seen[pos] = lineno
            value = _value(value_tok, {**where, "position": pos})
        except RecordError as err:
            self.error = err
            return
        self.lines[pos] = lineno
        if base is not None:
            self.bases[pos] = base.upper()
        if pos > self.max_position:
            self.max_position, self.max_line = pos, lineno
        if value is not None:
            self.values[pos] = value

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
            self.bases,
        )


def parse_shape(
    lines: Iterable[tuple[int, str]], source: str, default_id: str
) -> list[ProbingEntry]:
    """Entries of a two-column reactivity text (one record, or several with ``>id`` headers).

    Raises:
        InputError: a header without an id, or data before the first header of a file
            that has headers (the records cannot be told apart).
    """
    out: list[EntryBuilder] = []
    current: EntryBuilder | None = None
    headerless: EntryBuilder | None = None
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
            current = EntryBuilder(rid, source, lineno)
            out.append(current)
            continue
        if current is None:
            current = headerless = EntryBuilder(default_id, source, lineno)
            out.append(current)
        current.row(lineno, text.split())
    return [b.build() for b in out]


def parse_profile(
    lines: Sequence[tuple[int, str]], source: str, default_id: str
) -> list[ProbingEntry]:
    """The one entry of a ShapeMapper 2 ``_profile.txt`` table: positions from
    ``Nucleotide``, reactivities from ``Norm_profile`` (``nan``: no data), bases from
    ``Sequence``; columns found by their header names.

    Raises:
        InputError: the header lacks ``Nucleotide`` or ``Norm_profile``.
    """
    rows = [(k, ln.split()) for k, ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    head_line, header = rows[0]
    missing = [c for c in PROFILE_COLUMNS[:2] if c not in header]
    if missing:
        raise InputError(
            f"ShapeMapper profile without a {' or '.join(missing)} column "
            f"(header: {' '.join(header)[:80]})",
            file=source,
            line=head_line,
        )
    col = {name: header.index(name) for name in PROFILE_COLUMNS if name in header}
    b = EntryBuilder(default_id, source, head_line)
    for lineno, toks in rows[1:]:
        if len(toks) != len(header):
            b.error = b.error or RecordError(
                f"{len(toks)} columns where the header has {len(header)}",
                file=source,
                record=default_id,
                line=lineno,
            )
            break
        base = toks[col["Sequence"]] if "Sequence" in col else None
        b.add(lineno, toks[col["Nucleotide"]], toks[col["Norm_profile"]], base)
    return [b.build()]


def is_profile(first: str) -> bool:
    return "Nucleotide" in first.split()


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
        b = EntryBuilder(name, source, line)
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
                b.add(line, str(int(p) - offset), repr(float(v)))
        # SEQUENCE starts at position 1 (SEQPOS - OFFSET); checked against the record
        b.bases = {k: c.upper() for k, c in enumerate(getattr(construct, "sequence", "") or "", 1)}
        out.append(b.build())
    return out
