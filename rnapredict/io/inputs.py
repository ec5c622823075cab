"""The front door of ``fold``: FASTA inputs → validated :class:`Record` s, streamed.

- :func:`check_inputs` — call before any folding: missing/unreadable files, non-FASTA text,
  stdin named twice and a bad ``--ss`` file raise :class:`~rnapredict.errors.InputError`
  (exit 2) without reading more than the first line of each input.
- :func:`iter_records` — a generator over all inputs in order (plain, ``.gz``, ``-``); each
  item is a :class:`Record` or, for a record that fails alone, a
  :class:`~rnapredict.errors.RecordError` to report before going on (exit 3 at the end).
  Memory is constant in the number of records apart from the set of ids seen.

Sequence policy (DESIGN.md): case-insensitive, ``T`` → ``U``, ``N`` allowed; other IUPAC
codes and any other character are errors naming file, record and 1-based position.
Failed records carry ``err.index`` (0-based ordinal in the stream, for ``--shard``) and
``err.safe_name`` (its output directory name, None when the record has no directory of its
own: no id, or a duplicate/colliding id whose directory belongs to an earlier record).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from rnapredict.errors import InputError, RecordError, SecondaryStructureError
from rnapredict.io.fasta import FastaEntry, iter_fasta
from rnapredict.io.names import name_key, safe_name
from rnapredict.io.probing import ProbingSet
from rnapredict.io.records import Record
from rnapredict.io.secondary import normalize_dot_bracket
from rnapredict.io.ssfiles import SsEntry, read_ss_entries
from rnapredict.io.textio import STDIN, display_name, iter_lines

_ILLEGAL = re.compile(r"[^ACGUN]")
IUPAC_AMBIGUOUS = frozenset("RYKMSWBDHV")
_NUCLEOTIDES = frozenset("ACGTUN")
#: Said when a bad "structure line" holds nucleotide letters: most likely a gapped sequence
#: line (alignment FASTA), which reads as dot-bracket with letter pseudoknots.
_GAPS_HINT = (
    "if this line is sequence, gaps ('-', '.') are not allowed: remove them "
    "(letters in a structure line are pseudoknot brackets)"
)


def normalize_sequence(
    raw: str, *, file: str | None = None, record: str | None = None, entry: FastaEntry | None = None
) -> str:
    """Upper-case ``raw`` with T→U and check the alphabet ``ACGUN``.

    Raises:
        RecordError: first illegal character, with its 1-based position (and line if
            ``entry`` is given).
    """
    seq = raw.upper().replace("T", "U")
    bad = _ILLEGAL.search(seq)
    if bad is None:
        return seq
    pos = bad.start() + 1
    ch = raw[bad.start()]
    if ch.upper() in IUPAC_AMBIGUOUS:
        why = f"ambiguous IUPAC code {ch!r} is not supported (allowed: A C G U/T N)"
    else:
        why = f"illegal character {ch!r} in sequence (allowed: A C G U/T N)"
    line = entry.line_of(pos) if entry is not None else None
    raise RecordError(why, file=file, record=record, line=line, position=pos)


def check_inputs(paths: Sequence[str | Path], ss_file: Path | None = None) -> dict[str, SsEntry]:
    """Whole-input checks before any folding; returns the parsed ``--ss`` entries ({} if none).

    Raises:
        InputError: no inputs, stdin given twice, a missing/unreadable/binary/empty file,
            a file whose first non-blank line is not a FASTA header, a bad ``--ss`` file.
    """
    if not paths:
        raise InputError("no input files given")
    if sum(str(p) == STDIN for p in paths) > 1:
        raise InputError("'-' (stdin) given more than once")
    for p in paths:
        if str(p) != STDIN:
            _sniff_fasta(p)
    return {} if ss_file is None else read_ss_entries(ss_file)


def _sniff_fasta(path: str | Path, sniff_chars: int = 65536) -> None:
    """Read the start of a file: it must be text whose first non-blank line is a header."""
    lines = iter_lines(path)
    first = False
    seen = 0
    try:
        for lineno, line in lines:
            if not first and line.strip():
                if not line.startswith((">", ";", "#")):
                    raise InputError(
                        f"not FASTA: expected a '>' header line, found {line.strip()[:40]!r}",
                        file=str(path),
                        line=lineno,
                    )
                first = True
            seen += len(line) + 1
            if first and seen >= sniff_chars:
                break
    finally:
        lines.close()
    if not first:
        raise InputError("no FASTA records (empty input)", file=str(path))


def _structure_for(entry: FastaEntry, seq: str, ss_entry: SsEntry | None) -> str | None:
    """Validated, normalized dot-bracket for a record (inline line and/or ``--ss``)."""
    where = {"file": entry.source, "record": entry.id}
    inline: str | None = None
    if entry.structure is not None:
        ss = entry.structure
        try:
            if len(ss) != len(seq):
                raise SecondaryStructureError(
                    f"structure line has length {len(ss)} but the sequence has {len(seq)}",
                    line=entry.structure_line,
                    position=min(len(ss), len(seq)) + 1,
                    **where,
                )
            inline = normalize_dot_bracket(ss, line=entry.structure_line, **where)
        except SecondaryStructureError as err:
            if _NUCLEOTIDES.isdisjoint(ss.upper()):
                raise
            err.message += f"; {_GAPS_HINT}"
            raise
    if ss_entry is None:
        return inline
    where = {"file": ss_entry.source, "record": entry.id}
    if len(ss_entry.pairs) != len(seq):
        raise SecondaryStructureError(
            f"--ss structure has length {len(ss_entry.pairs)} but the sequence has {len(seq)}",
            line=ss_entry.line,
            **where,
        )
    if ss_entry.seq is not None:
        for k, (a, b) in enumerate(zip(ss_entry.seq, seq, strict=True)):
            if a != b and "N" not in (a, b):
                raise SecondaryStructureError(
                    f"--ss sequence has {a!r} where the input has {b!r}",
                    line=ss_entry.line_of(k + 1),
                    position=k + 1,
                    **where,
                )
    given = ss_entry.dot_bracket
    if inline is not None and inline != given:
        pos = next(k for k, (a, b) in enumerate(zip(inline, given, strict=True)) if a != b) + 1
        raise SecondaryStructureError(
            "the structure line and the --ss structure disagree", position=pos, **where
        )
    return given


def records_from_entries(
    entries: Iterable[FastaEntry],
    ss: dict[str, SsEntry] | None = None,
    seen: dict[str, str] | None = None,
    start_index: int = 0,
    probing: ProbingSet | None = None,
) -> Iterator[Record | RecordError]:
    """Validate raw entries into records (see module docstring); a generator.

    Args:
        entries: raw FASTA entries, e.g. from :func:`rnapredict.io.fasta.iter_fasta`.
        ss: ``--ss`` structures by id.
        seen: safe-name key → original id of records already seen (updated in place; shared
            across files so duplicates between files are found).
        start_index: ordinal of the first entry in the whole stream.
        probing: ``--shape`` / ``--dms`` reactivities by id (bad data fail their record).
    """
    ss = ss or {}
    seen = {} if seen is None else seen
    for index, entry in enumerate(entries, start_index):
        dup = _register(entry, seen)
        if dup is not None:
            dup.index = index
            dup.length = len(entry.sequence) if entry.sequence else None
            yield dup  # safe_name stays None: the directory belongs to the earlier record
            continue
        err = entry.error
        record: Record | None = None
        if err is None:
            try:
                record = _to_record(entry, ss.get(entry.id), index, probing)
            except RecordError as exc:
                err = exc
        if record is not None:
            yield record
            continue
        assert err is not None
        err.index = index
        err.safe_name = safe_name(entry.id) if entry.id else None
        err.length = len(entry.sequence) if entry.sequence else None
        yield err


class DuplicateRecordError(RecordError):
    """A duplicate id, or an id mapping to the same output name as an earlier one.

    ``safe_name`` is None: the output directory belongs to the earlier record.
    """


def _key(record_id: str) -> str:
    return name_key(safe_name(record_id))


def _register(entry: FastaEntry, seen: dict[str, str]) -> RecordError | None:
    if not entry.id:
        return None  # entry.error already says "header has no record id"
    key = _key(entry.id)
    first = seen.get(key)
    if first is None:
        seen[key] = entry.id
        return None
    where = {"file": entry.source, "record": entry.id, "line": entry.line}
    if first == entry.id:
        return DuplicateRecordError(
            f"duplicate record id {entry.id!r} (an earlier record has it)", **where
        )
    a, b = safe_name(first), safe_name(entry.id)
    same = f"the same output name {b!r}" if a == b else f"output names {a!r} and {b!r}"
    case = "" if a == b else " (equal on case-insensitive file systems)"
    return DuplicateRecordError(f"ids {first!r} and {entry.id!r} map to {same}{case}", **where)


def _to_record(
    entry: FastaEntry, ss_entry: SsEntry | None, index: int, probing: ProbingSet | None = None
) -> Record:
    if not entry.sequence:
        raise RecordError(
            "empty record (no sequence)", file=entry.source, record=entry.id, line=entry.line
        )
    seq = normalize_sequence(entry.sequence, file=entry.source, record=entry.id, entry=entry)
    return Record(
        id=entry.id,
        seq=seq,
        ss=_structure_for(entry, seq, ss_entry),
        source=entry.source,
        description=entry.description,
        index=index,
        probing=None if probing is None else probing.for_record(entry.id, len(seq), seq),
    )


def iter_records(
    paths: Sequence[str | Path], ss_file: Path | None = None, probing: ProbingSet | None = None
) -> Iterator[Record | RecordError]:
    """Stream validated records from FASTA inputs (files, ``.gz``, ``-`` for stdin).

    Yields :class:`Record` or, for a record that fails alone, :class:`RecordError`.

    Raises:
        InputError: a whole input is unusable (missing/unreadable, not FASTA, empty, corrupt
            gzip) or the ``--ss`` file is bad. Call :func:`check_inputs` first to catch most
            of these before any work starts.
    """
    ss = {} if ss_file is None else read_ss_entries(ss_file)
    seen: dict[str, str] = {}
    index = 0
    for path in paths:
        source = display_name(path)
        for item in records_from_entries(
            iter_fasta(iter_lines(path), source), ss, seen, start_index=index, probing=probing
        ):
            index += 1
            yield item
