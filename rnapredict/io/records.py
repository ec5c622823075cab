"""The unit of work: one input RNA record."""

from __future__ import annotations

from dataclasses import dataclass

from rnapredict.io.probing import Reactivities


@dataclass(frozen=True)
class Record:
    """One validated input record.

    Attributes:
        id: the original id (first word of the FASTA header), as the user wrote it.
        seq: normalized sequence, upper case, alphabet ``ACGUN`` (T already mapped to U).
        ss: dot-bracket secondary structure of the same length, or None (predict one).
        source: the file the record came from (``<stdin>`` for ``-``).
        description: rest of the header line after the id.
        index: 0-based ordinal of the record in the whole input stream.
        probing: chemical probing reactivities (``--shape`` / ``--dms``) or None.
    """

    id: str
    seq: str
    ss: str | None = None
    source: str = "<memory>"
    description: str = ""
    index: int = 0
    probing: Reactivities | None = None

    def __len__(self) -> int:
        return len(self.seq)
