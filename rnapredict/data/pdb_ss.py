"""``secondary/pdb_dot_bracket.csv``: secondary structures annotated from PDB entries, and
their alignment onto a chain of the data set."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple


class PdbSS(NamedTuple):
    """One annotated chain: sequence and dot-bracket with ``-`` at unmodelled residues."""

    seq: str
    ss: str
    release_date: str


def pdb_ss_table(data_dir: Path) -> dict[str, PdbSS]:
    """pdb_chain (lower case) → its PDB-derived annotation (empty when the file is absent)."""
    path = Path(data_dir) / "secondary" / "pdb_dot_bracket.csv"
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {
            r["pdb_chain"].lower(): PdbSS(r["sequence"], r["dot_bracket"], r["release_date"])
            for r in csv.DictReader(fh)
        }


def native_ss(
    row: Mapping[str, str],
    seq: str,
    table: Mapping[str, PdbSS],
    before: str | None = None,
) -> str | None:
    """The PDB-derived dot-bracket [L] of a ``c1/`` chain, if one fits its sequence.

    First the row's own ``dot_bracket_pdb`` (when its length is L), else the
    ``pdb_dot_bracket.csv`` entry of its ``target_id`` with the unmodelled (``-``) columns
    dropped, when what is left is ``seq`` (case-insensitive) and the entry was released before
    ``before`` (None: any date).
    """
    own = row.get("dot_bracket_pdb")
    if own and len(own) == len(seq):
        return own
    hit = table.get(row["target_id"].lower())
    if hit is None or (before is not None and hit.release_date >= before):
        return None
    keep = [k for k, ch in enumerate(hit.seq) if ch != "-"]
    if "".join(hit.seq[k] for k in keep).upper() != seq.upper():
        return None
    return "".join(hit.ss[k] for k in keep)
