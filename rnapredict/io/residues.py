"""Residue naming in structure files: v2 → v3 atom names, and the parent nucleotide of a
residue (modified nucleotides map to their parent base, unknown nucleotide-like ones to ``N``).
"""

from __future__ import annotations

import gemmi

_V2_TO_V3 = {"O1P": "OP1", "O2P": "OP2", "O3P": "OP3"}


def v3_atom_name(name: str) -> str:
    """PDB v3 name of a nucleotide atom written in the old v2 style (``C1*`` → ``C1'``,
    ``O1P`` → ``OP1``); v3 names pass through unchanged."""
    name = name.replace("*", "'")
    return _V2_TO_V3.get(name, name)


def _base_from_atoms(names: set[str]) -> str:
    """Parent base of a modified nucleotide from its base atoms (purine: N9; A: N6, G: O6)."""
    if "N9" in names:
        return "G" if "O6" in names else "A" if "N6" in names else "N"
    if "N1" in names and "C6" in names:
        return "C" if "N4" in names else "U" if "O4" in names else "N"
    return "N"


def parent_base(res: gemmi.Residue) -> str | None:
    """One-letter parent nucleotide of an RNA residue (``N`` if unknown), or None if not RNA."""
    info = gemmi.find_tabulated_residue(res.name)
    if info is not None and info.kind == gemmi.ResidueKind.RNA:
        code = info.one_letter_code.upper()
        return code if code in "ACGU" else "N"
    if info is not None and info.kind in (gemmi.ResidueKind.DNA, gemmi.ResidueKind.AA):
        return None
    # Modified nucleotides gemmi does not classify (YYG, 5MC, ...): a ribose with its 2'-O.
    names = {v3_atom_name(a.name) for a in res}
    if not {"C1'", "C4'", "O2'"} <= names:
        return None
    code = info.one_letter_code.upper() if info is not None else ""
    if len(code) == 1 and code in "ACGU":
        return code
    return _base_from_atoms(names)
