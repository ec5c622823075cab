"""``allatom/``: chain rows (``chains.csv``), entry files, and the residues of a chain with a
C1′ atom (the nucleotides ``chains.csv`` counts)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from rnapredict.data.split import in_split
from rnapredict.io.structure import RnaStructure


def allatom_rows(data_dir: Path, split: str | None = None) -> list[dict[str, str]]:
    """Rows of ``allatom/chains.csv`` in file order: those of ``split``, or every row (None);
    empty when the data set has no ``allatom/``."""
    table = Path(data_dir) / "allatom" / "chains.csv"
    if not table.exists():
        return []
    with table.open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if split is None or in_split(r, split)]


def entry_path(data_dir: Path, entry: str) -> Path:
    """The all-atom file of one PDB entry."""
    return Path(data_dir) / "allatom" / f"{entry}.pdb.gz"


def read_entry(data_dir: Path, entry: str) -> RnaStructure:
    """The first model of one entry, all chains (:func:`rnapredict.io.pdbio.read_structure`)."""
    from rnapredict.io.pdbio import read_structure

    return read_structure(entry_path(data_dir, entry))


def chain_with_c1(model: RnaStructure, chain: str) -> RnaStructure:
    """The residues of ``chain`` that have a C1′ atom, in file order (``chains.csv`` counts
    these nucleotides)."""
    sub = model.select_residues([i for i, c in enumerate(model.chain_ids) if c == chain])
    _, present = sub.atom_coords("C1'")
    return sub.select_residues(np.flatnonzero(present))
