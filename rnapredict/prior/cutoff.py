"""Which experimental structures a fold may use: one release-date cutoff, one self-exclusion.

Both template chains (:mod:`rnapredict.templates`) and motif-library instances
(:mod:`rnapredict.prior.library`) carry a PDB entry and a release date; :class:`StructureCutoff`
decides for both, so ``fold --cutoff DATE`` bounds every experimental structure a fold starts
from, and a record named after a PDB entry never sees any chain of that entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rnapredict.errors import InputError

# A PDB id (digit + 3 alphanumerics) at the start of a name, alone or followed by a chain
# separator: 1EVV, 1evv_A, 1EVV.A, 1EVV:A, 1EVV|A, 1EVV_1|Chain (RCSB FASTA headers).
_ENTRY = re.compile(r"([0-9][a-z0-9]{3})(?:$|[_.:|])")
_EXTENDED = re.compile(r"pdb_0000([0-9][a-z0-9]{3})(?:$|[_.:|])")  # wwPDB extended ids


def entry_id(name: str | None) -> str | None:
    """The PDB entry (upper case) a record or chain id names, or None.

    ``1EVV``, ``1evv_A``, ``1EVV.A``, ``1EVV:A``, ``pdb|1EVV|A``, ``PDB:1EVV`` and
    ``pdb_00001evv_A`` all name ``1EVV``; ``tRNA-Phe`` or ``1EVVX`` name none.
    """
    if not name:
        return None
    text = name.strip().lower()
    for prefix in ("pdb|", "pdb:", "pdb_", "pdb-"):
        if text.startswith(prefix) and not text.startswith("pdb_0000"):
            text = text[len(prefix) :]
            break
    m = _EXTENDED.match(text) or _ENTRY.match(text)
    return m.group(1).upper() if m else None


def parse_cutoff(text: str | None) -> str | None:
    """``YYYY-MM-DD`` (validated) or None for ``None`` / ``""``."""
    if text is None or text == "":
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise InputError(f"--cutoff {text!r}: expected a date YYYY-MM-DD") from None


@dataclass(frozen=True)
class StructureCutoff:
    """The experimental structures one record's fold may use.

    Attributes:
        date: ``YYYY-MM-DD``; structures released on or after it, or undated, are not used
            (None: any date).
        entry: PDB entry (upper case) of the query; none of its chains is used (None: the
            record id names no entry).
    """

    date: str | None = None
    entry: str | None = None

    @classmethod
    def for_record(cls, date: str | None, record_id: str | None) -> StructureCutoff:
        """The cutoff ``date`` (validated) and the entry ``record_id`` names."""
        return cls(parse_cutoff(date), entry_id(record_id))

    @property
    def active(self) -> bool:
        """True when something is excluded."""
        return self.date is not None or self.entry is not None

    def allowed(self, entries: np.ndarray, dates: np.ndarray) -> np.ndarray:
        """[N] bool: structures that may be used.

        Args:
            entries: [N] str, entries as :func:`entry_ids` gives them (``""``: none).
            dates: [N] str, release dates ``YYYY-MM-DD`` (``""``: unknown).
        """
        ok = np.ones(len(entries), dtype=bool)
        if self.entry is not None:
            ok &= np.asarray(entries, dtype=str).reshape(-1) != self.entry
        if self.date is not None:
            d = np.asarray(dates, dtype=str).reshape(-1)
            ok &= (d != "") & (d < self.date)  # ISO dates compare as strings
        return ok


def entry_ids(names: Iterable[str]) -> np.ndarray:
    """[N] str: :func:`entry_id` of each name, ``""`` where it names no entry."""
    return np.array([entry_id(str(n)) or "" for n in names], dtype=str).reshape(-1)
