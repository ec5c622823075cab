"""Secondary-structure files: BPSEQ, CT and dot-bracket FASTA readers/writers, and ``--ss``.

Readers return :class:`SsEntry` (id, sequence, pair table [L]); a malformed file raises
:class:`~rnapredict.errors.SecondaryStructureError` naming file, line and position.
:func:`read_ss_file` detects the format and, because a bad ``--ss`` file makes the whole
invocation unusable, raises :class:`~rnapredict.errors.InputError` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnapredict.errors import InputError, RecordError, SecondaryStructureError
from rnapredict.io.atomic import atomic_write_text
from rnapredict.io.fasta import is_structure_line, iter_fasta
from rnapredict.io.secondary import check_pairs, parse_dot_bracket, to_dot_bracket
from rnapredict.io.textio import display_name, iter_lines


@dataclass(frozen=True)
class SsEntry:
    """One secondary structure from a file.

    Attributes:
        id: record id it belongs to.
        seq: [L] sequence as written in the file (upper case, T→U), or None if the file has
            none (structure-only dot-bracket FASTA).
        pairs: [L] int64 pair table (0-based partner, -1 unpaired).
        source: file it came from.
        line: 1-based line where the entry starts.
        rows: [L] 1-based line of each residue (BPSEQ/CT row, FASTA sequence line); empty
            when unknown.
    """

    id: str
    seq: str | None
    pairs: np.ndarray
    source: str
    line: int = 1
    rows: tuple[int, ...] = ()

    def line_of(self, position: int) -> int:
        """File line of 1-based residue ``position`` (the entry's first line if unknown)."""
        return self.rows[position - 1] if 0 < position <= len(self.rows) else self.line

    @property
    def dot_bracket(self) -> str:
        return to_dot_bracket(self.pairs)


def _int(tok: str, what: str, **where: str | int | None) -> int:
    try:
        return int(tok)
    except ValueError:
        raise SecondaryStructureError(
            f"expected an integer {what}, found {tok[:20]!r}",
            **where,  # type: ignore[arg-type]
        ) from None


def _table(
    n: int, partner: list[int], lines: list[int], *, file: str, record: str | None
) -> np.ndarray:
    """Pair table from 1-based partner columns (0 = unpaired), validated with line numbers."""
    pairs = np.asarray(partner, dtype=np.int64) - 1
    for i, j in enumerate(pairs.tolist()):
        if not -1 <= j < n:
            raise SecondaryStructureError(
                f"partner {j + 1} out of range 0..{n}",
                file=file,
                record=record,
                line=lines[i],
                position=i + 1,
            )
    try:
        return check_pairs(pairs, file=file, record=record)
    except SecondaryStructureError as err:
        err.line = lines[(err.position or 1) - 1]
        raise SecondaryStructureError(
            err.message, file=file, record=record, line=err.line, position=err.position
        ) from None


#: File extensions dropped from a ``Filename:`` header or a file name to get a record id;
#: anything else after a dot is part of the id (``NR_003286.2``, ``1EHZ.A``).
_ID_EXTENSIONS = (".bpseq", ".bps", ".bp", ".ct", ".dbn", ".db", ".txt", ".gz")


def id_from_filename(name: str) -> str:
    """Record id named by a file name: its last path component without structure-file
    extensions (``dir/tRNA.bpseq.gz`` → ``tRNA``; ``NR_003286.2`` stays as it is)."""
    rec_id = Path(name).name
    while (ext := Path(rec_id).suffix.lower()) in _ID_EXTENSIONS and ext != rec_id.lower():
        rec_id = rec_id[: -len(ext)]
    return rec_id


def _norm_base(b: str) -> str:
    return b.upper().replace("T", "U")


def _data_row(
    idx_tok: str, base_tok: str, partner_tok: str, expected: int, **where: str | int | None
) -> tuple[str, int]:
    """Check one BPSEQ/CT row (index, base, 1-based partner); return (base, partner)."""
    idx = _int(idx_tok, "index", **where)
    if idx != expected:
        raise SecondaryStructureError(f"index {idx} out of order (expected {expected})", **where)
    if len(base_tok) != 1:
        raise SecondaryStructureError(
            f"base must be one letter, found {base_tok[:20]!r}", position=idx, **where
        )
    partner = _int(partner_tok, "partner", **where)
    return _norm_base(base_tok), partner


# ------------------------------------------------------------------------------ BPSEQ
def parse_bpseq(lines: Iterable[tuple[int, str]], source: str, default_id: str) -> SsEntry:
    """One BPSEQ entry (``index base partner`` per line, 1-based, 0 = unpaired).

    Header lines before the data (``#``-comments, ``Filename: x``) are skipped;
    ``Filename:`` gives the id, else ``default_id``.
    """
    rec_id, seq, partner, where = default_id, [], [], []
    first = 0
    for lineno, line in lines:
        toks = line.split()
        if not toks:
            continue
        if not seq and not toks[0].lstrip("-").isdigit():
            if line.startswith("Filename:") and len(toks) > 1:
                rec_id = id_from_filename(toks[1])
            continue
        first = first or lineno
        if len(toks) != 3:
            raise SecondaryStructureError(
                f"BPSEQ line needs 3 columns (index base partner), found {len(toks)}",
                file=source,
                line=lineno,
            )
        base, j = _data_row(*toks, len(seq) + 1, file=source, record=None, line=lineno)
        seq.append(base)
        partner.append(j)
        where.append(lineno)
    if not seq:
        raise SecondaryStructureError("no BPSEQ data lines", file=source)
    pairs = _table(len(seq), partner, where, file=source, record=rec_id)
    return SsEntry(rec_id, "".join(seq), pairs, source, first, tuple(where))


def read_bpseq(path: str | Path) -> SsEntry:
    """Read a BPSEQ file (one structure; id from ``Filename:`` or the file name)."""
    name = display_name(path)
    return parse_bpseq(iter_lines(path), name, id_from_filename(name))


def bpseq_text(seq: str, pairs: np.ndarray, *, title: str | None = None) -> str:
    """BPSEQ text for ``seq`` [L] and ``pairs`` [L] (optional ``Filename:`` header)."""
    pairs = check_pairs(pairs)
    if len(seq) != len(pairs):
        raise SecondaryStructureError(f"sequence length {len(seq)} != structure {len(pairs)}")
    head = [f"Filename: {title}"] if title else []
    rows = [
        f"{i + 1} {b} {j + 1}" for i, (b, j) in enumerate(zip(seq, pairs.tolist(), strict=True))
    ]
    return "\n".join(head + rows) + "\n"


def write_bpseq(
    path: str | Path,
    seq: str,
    pairs: np.ndarray,
    *,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a BPSEQ file atomically (never clobbers unless ``overwrite``)."""
    return atomic_write_text(path, bpseq_text(seq, pairs, title=title), overwrite=overwrite)


# ------------------------------------------------------------------------------ CT
#: An energy before a CT title: RNAstructure/ViennaRNA ``ENERGY = -21.3``, mfold
#: ``dG = -21.3 [initially -22.0]``.
_CT_ENERGY = re.compile(r"^(?:ENERGY|dG)\s*=\s*\S+\s*(?:\[[^\]]*\]\s*)?", re.IGNORECASE)


def parse_ct(lines: Iterable[tuple[int, str]], source: str, default_id: str) -> list[SsEntry]:
    """All entries of a CT file (header ``N title``, then N rows ``i base i-1 i+1 partner n``)."""
    out: list[SsEntry] = []
    it = iter(lines)
    for lineno, line in it:
        toks = line.split()
        if not toks or line.lstrip().startswith("#"):
            continue
        n = _int(toks[0], "residue count in the CT header", file=source, line=lineno)
        if n < 1:
            raise SecondaryStructureError(f"CT header gives {n} residues", file=source, line=lineno)
        title = _CT_ENERGY.sub("", line.split(None, 1)[1].strip()) if len(toks) > 1 else ""
        rec_id = title.split()[0] if title.split() else f"{default_id}_{len(out) + 1}"
        seq, partner, where = [], [], []
        while len(seq) < n:
            nxt = next(it, None)
            if nxt is None:
                raise SecondaryStructureError(
                    f"file ends after {len(seq)} of {n} CT rows",
                    file=source,
                    record=rec_id,
                    line=lineno,
                )
            row_line, row = nxt
            t = row.split()
            if not t:
                continue
            if len(t) < 5:
                raise SecondaryStructureError(
                    f"CT row needs 6 columns, found {len(t)}",
                    file=source,
                    record=rec_id,
                    line=row_line,
                )
            base, j = _data_row(
                t[0], t[1], t[4], len(seq) + 1, file=source, record=rec_id, line=row_line
            )
            seq.append(base)
            partner.append(j)
            where.append(row_line)
        pairs = _table(n, partner, where, file=source, record=rec_id)
        out.append(SsEntry(rec_id, "".join(seq), pairs, source, lineno, tuple(where)))
    if not out:
        raise SecondaryStructureError("no CT entries", file=source)
    return out


def read_ct(path: str | Path) -> list[SsEntry]:
    """Read every structure of a CT file (id: first word of each header's title)."""
    name = display_name(path)
    return parse_ct(iter_lines(path), name, Path(name).stem)


def ct_text(seq: str, pairs: np.ndarray, *, title: str = "") -> str:
    """CT text (one entry) for ``seq`` [L] and ``pairs`` [L]."""
    pairs = check_pairs(pairs)
    n = len(seq)
    if n != len(pairs):
        raise SecondaryStructureError(f"sequence length {n} != structure {len(pairs)}")
    rows = [f"{n:5d}  {title}".rstrip()]
    rows += [
        f"{i + 1:5d} {b} {i:5d} {(i + 2) % (n + 1):5d} {j + 1:5d} {i + 1:5d}"
        for i, (b, j) in enumerate(zip(seq, pairs.tolist(), strict=True))
    ]
    return "\n".join(rows) + "\n"


def write_ct(
    path: str | Path, seq: str, pairs: np.ndarray, *, title: str = "", overwrite: bool = False
) -> Path:
    """Write a one-entry CT file atomically."""
    return atomic_write_text(path, ct_text(seq, pairs, title=title), overwrite=overwrite)


# ------------------------------------------------------------------------------ dot-bracket FASTA
def parse_dot_bracket_fasta(lines: Iterable[tuple[int, str]], source: str) -> list[SsEntry]:
    """Entries of a dot-bracket FASTA (``>id``, optional sequence, structure line)."""
    out: list[SsEntry] = []
    for e in iter_fasta(lines, source):
        if e.error is not None:
            raise SecondaryStructureError(
                e.error.message, file=source, record=e.error.record, line=e.error.line
            )
        seq: str | None = e.sequence
        ss, ss_line = e.structure, e.structure_line
        if ss is None and is_structure_line(e.sequence):  # structure-only record
            seq, ss, ss_line = None, e.sequence, e.line + 1
        if ss is None:
            raise SecondaryStructureError(
                "record has no dot-bracket structure line", file=source, record=e.id, line=e.line
            )
        pairs = parse_dot_bracket(ss, file=source, record=e.id, line=ss_line)
        if seq is not None and len(seq) != len(ss):
            raise SecondaryStructureError(
                f"structure length {len(ss)} != sequence length {len(seq)}",
                file=source,
                record=e.id,
                line=ss_line,
                position=min(len(ss), len(seq)) + 1,
            )
        rows = () if seq is None else tuple(e.line_of(p) for p in range(1, len(seq) + 1))
        seq = None if seq is None else _norm_base(seq)
        out.append(SsEntry(e.id, seq, pairs, source, e.line, rows))
    return out


def dot_bracket_fasta_text(entries: Iterable[tuple[str, str, str]]) -> str:
    """Dot-bracket FASTA text from ``(id, sequence, dot-bracket)`` triples.

    Raises:
        SecondaryStructureError: a structure that is not valid dot-bracket or whose length
            differs from its sequence (position of the problem).
    """
    out = []
    for rec, seq, ss in entries:
        parse_dot_bracket(ss, record=rec)
        if len(seq) != len(ss):
            raise SecondaryStructureError(
                f"structure length {len(ss)} != sequence length {len(seq)}",
                record=rec,
                position=min(len(ss), len(seq)) + 1,
            )
        out.append(f">{rec}\n{seq}\n{ss}\n")
    return "".join(out)


def write_dot_bracket_fasta(
    path: str | Path, entries: Iterable[tuple[str, str, str]], *, overwrite: bool = False
) -> Path:
    """Write ``(id, sequence, dot-bracket)`` triples as dot-bracket FASTA, atomically."""
    return atomic_write_text(path, dot_bracket_fasta_text(entries), overwrite=overwrite)


# ------------------------------------------------------------------------------ --ss FILE
SS_FORMATS = ("dot-bracket", "bpseq", "ct")


def detect_ss_format(lines: Sequence[tuple[int, str]], name: str) -> str:
    """``dot-bracket``, ``bpseq`` or ``ct`` from the content of a file."""
    content = [line.split() for _, line in lines if line.strip() and not line.startswith("#")]
    if not content:
        raise InputError("secondary-structure file is empty", file=name)
    if content[0][0].startswith(">"):
        return "dot-bracket"
    k = next((k for k, t in enumerate(content) if t[0].isdigit()), None)
    if k is not None:
        head = content[k]
        row = content[k + 1] if k + 1 < len(content) else []
        if len(row) >= 5 and row[0] == "1":
            return "ct"
        if len(head) == 3 and head[0] == "1" and head[2].lstrip("-").isdigit():
            return "bpseq"
    raise InputError(
        "not a secondary-structure file (expected dot-bracket FASTA, BPSEQ or CT)", file=name
    )


def read_ss_entries(path: str | Path) -> dict[str, SsEntry]:
    """All structures of a ``--ss`` file by record id (format detected from the content).

    Raises:
        InputError: missing/unreadable file, unknown format, a malformed entry, duplicate id.
    """
    name = display_name(path)
    lines = list(iter_lines(path))
    fmt = detect_ss_format(lines, name)
    try:
        if fmt == "dot-bracket":
            entries = parse_dot_bracket_fasta(lines, name)
        elif fmt == "bpseq":
            entries = [parse_bpseq(lines, name, id_from_filename(name))]
        else:
            entries = parse_ct(lines, name, Path(name).stem)
    except RecordError as err:  # one bad entry makes the --ss file unusable
        raise InputError(
            f"bad {fmt} file: {err.message}",
            file=err.file,
            record=err.record,
            line=err.line,
            position=err.position,
        ) from None
    out: dict[str, SsEntry] = {}
    for e in entries:
        if e.id in out:
            raise InputError(
                f"duplicate id {e.id!r} in secondary-structure file", file=name, line=e.line
            )
        out[e.id] = e
    return out


def read_ss_file(path: str | Path) -> dict[str, str]:
    """``--ss FILE``: dot-bracket per record id, from dot-bracket FASTA, BPSEQ or CT."""
    return {k: e.dot_bracket for k, e in read_ss_entries(path).items()}
