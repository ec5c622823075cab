"""How much of each nucleotide a structure carries: decides which metrics can be computed.

A C1′-only (or otherwise coarse) model has a TM-score, RMSD, GDT-TS and lDDT over its
representative atom, but no bases to annotate base pairs (INF), no heavy atoms to clash
(clashscore) and nothing to superpose atom by atom (all-heavy-atom RMSD). Those metrics are
reported as NA (None) rather than as a misleading 0 when the structure carries less than a
fraction of the standard heavy atoms of its nucleotides (PDB v3 names, OP3 not counted; ``N``
residues count their backbone only).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from rnapredict.io.structure import BASE_ATOMS, NUCLEOTIDE_ATOMS, RnaStructure

Part = Literal["all", "base"]


def atom_fraction(s: RnaStructure, residues: np.ndarray | None = None, part: Part = "all") -> float:
    """Fraction of the standard heavy atoms present (finite coordinates) in ``residues``.

    Args:
        s: the structure.
        residues: [K] residue indices to count (default: all residues).
        part: ``all`` heavy atoms of the nucleotide, or its ``base`` atoms only.

    Returns:
        present / expected over the residues, in [0, 1]; 0.0 when nothing is expected (no
        residues, or only ``N`` residues with ``part="base"``).
    """
    table = NUCLEOTIDE_ATOMS if part == "all" else BASE_ATOMS
    starts = s.residue_starts()
    finite = np.isfinite(s.coords).all(axis=1)
    index = range(s.n_residues) if residues is None else np.asarray(residues).tolist()
    expected = present = 0
    for i in index:
        want = table.get(s.seq[i], table["N"])
        if not want:
            continue
        have = {s.atom_names[k] for k in range(starts[i], starts[i + 1]) if finite[k]}
        expected += len(want)
        present += sum(1 for a in want if a in have)
    return present / expected if expected else 0.0


def too_few_atoms(
    what: str,
    s: RnaStructure,
    minimum: float,
    residues: np.ndarray | None = None,
    part: Part = "all",
) -> str | None:
    """Why a metric is NA (one phrase naming ``what`` and the fraction), or None if enough.

    ``what`` is ``"model"`` or ``"reference"``; see :func:`atom_fraction` for the arguments.
    """
    frac = atom_fraction(s, residues, part)
    if frac >= minimum:
        return None
    kind = "base atoms" if part == "base" else "heavy atoms"
    where = " in its matched residues" if residues is not None else ""
    return f"the {what} has {100 * frac:.0f}% of the standard {kind}{where}"
