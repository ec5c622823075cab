"""Streaming FASTA tokenizer: lines → raw entries (header, sequence text, optional structure).

This layer only splits the text into records; it does not judge the alphabet (that is
:mod:`rnapredict.io.inputs`). A record is::

    >id optional description
    SEQUENCE LINES (wrapped or not; whitespace inside is ignored)
    STRUCTURE LINES (optional dot-bracket, same length; an RNAfold energy "(-3.40)" is dropped)

A line belongs to the structure if it has no sequence letter outside the dot-bracket alphabet,
contains at least one of ``.()[]{}<>`` and follows at least one sequence line. A structure line
may open with a pseudoknot bracket ``>`` (PDB-derived structures do: ``>..((..))..<``): a
``>`` line made only of ``.()[]{}<>`` is the record's structure instead of a new header when
it is exactly as long as the sequence, or continues a structure already begun without making
it longer than the sequence (a record may still be named ``..``).

Whole-input problems (text before the first ``>``, no record at all) raise
:class:`~rnapredict.errors.InputError`; per-record layout problems (no id, sequence after the
structure) are attached to the entry as a :class:`~rnapredict.errors.RecordError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rnapredict.errors import InputError, RecordError

#: Characters a structure line may hold (brackets, unpaired marks, pseudoknot letters).
SS_ALPHABET = frozenset(".()[]{}<>-_,:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SS_MARKS = frozenset(".()[]{}<>")
_ENERGY = re.compile(r"\s+[(\[]\s*[-+]?\d+(?:\.\d*)?\s*[)\]]\s*$")


@dataclass(frozen=True)
class FastaEntry:
    """One raw FASTA record, not yet validated.

    Attributes:
        id: first word of the header ("" if the header has none).
        description: rest of the header.
        source: input name (``<stdin>`` for ``-``).
        line: 1-based line number of the header.
        sequence: sequence text with whitespace removed, as written (case kept).
        seq_line_starts: ``(offset, line)`` per sequence line: residue ``offset`` (0-based)
            starts on file line ``line``; used to name the line of a bad character.
        structure: structure text (whitespace and energy removed), or None.
        structure_line: line of the first structure line, or None.
        error: a layout problem of this record (it then fails alone), or None.
    """

    id: str
    description: str
    source: str
    line: int
    sequence: str
    seq_line_starts: tuple[tuple[int, int], ...]
    structure: str | None
    structure_line: int | None
    error: RecordError | None = None

    def line_of(self, position: int) -> int:
        """File line holding 1-based sequence ``position``."""
        found = self.line
        for offset, line in self.seq_line_starts:
            if offset >= position:
                break
            found = line
        return found


def _continues_structure(current: _Builder | None, line: str) -> bool:
    """Whether a line starting with ``>`` is the current record's structure, not a header."""
    if current is None or not current.n_seq or current.error is not None:
        return False
    text = "".join(_ENERGY.sub("", line).split())
    if len(text) < 2 or not _SS_MARKS.issuperset(text) or not set(text) - {">"}:
        return False
    if current.ss_line is None:  # a whole structure on one line: exactly the sequence's length
        return len(text) == current.n_seq
    return sum(map(len, current.ss_parts)) + len(text) <= current.n_seq  # a wrapped structure


def is_structure_line(text: str) -> bool:
    """Whether a (whitespace-free) line reads as dot-bracket rather than sequence."""
    return bool(text) and not _SS_MARKS.isdisjoint(text) and SS_ALPHABET.issuperset(text)


class _Builder:
    def __init__(self, header: str, source: str, line: int) -> None:
        words = header[1:].strip().split(None, 1)
        self.id = words[0] if words else ""
        self.description = words[1] if len(words) > 1 else ""
        self.source = source
        self.line = line
        self.seq_parts: list[str] = []
        self.starts: list[tuple[int, int]] = []
        self.n_seq = 0
        self.ss_parts: list[str] = []
        self.ss_line: int | None = None
        self.error: RecordError | None = None
        if not self.id:
            self._fail("header has no record id", line)

    def _fail(self, message: str, line: int) -> None:
        if self.error is None:
            self.error = RecordError(message, file=self.source, record=self.id or None, line=line)

    def add(self, lineno: int, raw: str) -> None:
        if raw.isalpha() and self.ss_line is None:  # fast path: a plain sequence line
            self._add_seq(lineno, raw)
            return
        stripped = _ENERGY.sub("", raw) if self.n_seq and ")" in raw else raw
        text = "".join(stripped.split())
        if not text:
            return
        if self.n_seq and is_structure_line(text):
            if self.ss_line is None:
                self.ss_line = lineno
            self.ss_parts.append(text)
            return
        if self.ss_line is not None:
            self._fail(
                f"sequence text after the structure line (structure starts on line {self.ss_line})",
                lineno,
            )
            return
        self._add_seq(lineno, "".join(raw.split()))

    def _add_seq(self, lineno: int, text: str) -> None:
        self.starts.append((self.n_seq, lineno))
        self.seq_parts.append(text)
        self.n_seq += len(text)

    def build(self) -> FastaEntry:
        return FastaEntry(
            id=self.id,
            description=self.description,
            source=self.source,
            line=self.line,
            sequence="".join(self.seq_parts),
            seq_line_starts=tuple(self.starts),
            structure="".join(self.ss_parts) if self.ss_line is not None else None,
            structure_line=self.ss_line,
            error=self.error,
        )


def iter_fasta(lines: Iterable[tuple[int, str]], source: str) -> Iterator[FastaEntry]:
    """Split numbered lines of one input into raw FASTA entries, lazily.

    Args:
        lines: ``(line number, text)`` pairs, e.g. from :func:`rnapredict.io.textio.iter_lines`.
        source: input name for messages.
    Raises:
        InputError: non-blank text before the first header (not FASTA), or no record at all.
    """
    current: _Builder | None = None
    seen_any = False
    for lineno, line in lines:
        if line.startswith(">") and _continues_structure(current, line):
            current.add(lineno, line)
        elif line.startswith(">"):
            if current is not None:
                yield current.build()
            current = _Builder(line, source, lineno)
            seen_any = True
        elif current is None:
            if line.strip() and not line.startswith((";", "#")):
                shown = line.strip()[:40]
                raise InputError(
                    f"not FASTA: expected a '>' header line, found {shown!r}",
                    file=source,
                    line=lineno,
                )
        else:
            current.add(lineno, line)
    if current is not None:
        yield current.build()
    if not seen_any:
        raise InputError("no FASTA records (empty input)", file=source)
