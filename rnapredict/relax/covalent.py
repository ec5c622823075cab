"""Covalent-geometry check of a relaxed model: no bond may be broken or badly stretched.

A minimiser can pull a threaded residue through its neighbour and stretch a bond (an O3′–P
link of 3.4 Å was seen); such a model must never be reported ``ok``. Bonds are the standard
nucleotide bonds (:data:`rnapredict.score.topology.TEMPLATE_BONDS`) and the O3′(i)–P(i+1)
links of residues that were linked in the input; ideal lengths from
:mod:`rnapredict.geometry.ideal`.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from rnapredict.geometry import ideal
from rnapredict.io.structure import RnaStructure

#: A bond this far (Å) from its ideal length is broken (relaxed bonds: < 0.05 Å).
BOND_TOLERANCE = 0.15
#: Consecutive residues whose input O3′–P is shorter than this (Å) are linked.
LINK_MAX = 2.5


@cache
def _ideal_bonds(base: str) -> dict[tuple[str, str], float]:
    bonds, _ = ideal.ideal_geometry(base)
    return {(a, b): d for a, b, d in bonds}


def linked_residues(model: RnaStructure, link_max: float = LINK_MAX) -> np.ndarray:
    """[L-1] bool: residue i's O3′ is within ``link_max`` Å of P(i+1), same chain."""
    n = model.n_residues
    if n < 2:
        return np.zeros(0, bool)
    o3, has_o3 = model.atom_coords("O3'")
    p, has_p = model.atom_coords("P")
    same = np.array([model.chain_ids[i] == model.chain_ids[i + 1] for i in range(n - 1)])
    d = np.linalg.norm(np.nan_to_num(o3[:-1]) - np.nan_to_num(p[1:]), axis=1)
    return same & has_o3[:-1] & has_p[1:] & (d < link_max)


def bond_deviations(model: RnaStructure, linked: np.ndarray) -> dict[str, tuple[float, float]]:
    """Every bond of ``model``: {label: (|length - ideal| Å, length Å)}.

    Labels name atoms and residue numbers, e.g. ``O3'(57)–P(58)``, ``C1'–N9(12)``.
    Args:
        model: the model (heavy atoms; hydrogens are ignored).
        linked: [L-1] bool, O3′(i)–P(i+1) links to include (e.g. those of the input).
    """
    out: dict[str, tuple[float, float]] = {}
    labels = [f"{model.res_ids[i]}{model.ins_codes[i]}" for i in range(model.n_residues)]
    starts = model.residue_starts()
    for i in range(model.n_residues):
        base = model.seq[i] if model.seq[i] in "ACGU" else "N"
        names = model.atom_names[starts[i] : starts[i + 1]]
        pos = {a: starts[i] + k for k, a in enumerate(names)}
        for (a, b), d0 in _ideal_bonds(base).items():
            if a in pos and b in pos:
                d = float(np.linalg.norm(model.coords[pos[a]] - model.coords[pos[b]]))
                out[f"{a}–{b}({labels[i]})"] = (abs(d - d0), d)
    o3, _ = model.atom_coords("O3'")
    p, _ = model.atom_coords("P")
    d0 = ideal.bond("O3'", "P")
    for i in np.flatnonzero(linked):
        d = float(np.linalg.norm(o3[i] - p[i + 1]))
        out[f"O3'({labels[i]})–P({labels[i + 1]})"] = (abs(d - d0), d)
    return out


def broken_bonds(
    before: RnaStructure, after: RnaStructure, tolerance: float = BOND_TOLERANCE
) -> list[str]:
    """Bonds that relaxation broke: in ``after`` more than ``tolerance`` Å off ideal and
    worse than in ``before`` (by > 0.05 Å); links are those of ``before`` between standard
    residues (N and modified residues are frozen, outside the force field, and their
    neighbours are chain ends there). Worst first, as texts like
    ``O3'(57)–P(58) 3.42 Å (input 1.62 Å)``."""
    standard = np.array([name.strip() in ("A", "C", "G", "U") for name in before.res_names])
    linked = linked_residues(before) & standard[:-1] & standard[1:]
    ref = bond_deviations(before, linked)
    bad = []
    for key, (dev, d) in bond_deviations(after, linked).items():
        dev0, d0 = ref.get(key, (0.0, float("nan")))
        if not (dev <= tolerance or dev <= dev0 + 0.05):
            bad.append((dev, f"{key} {d:.2f} Å (input {d0:.2f} Å)"))
    return [text for _, text in sorted(bad, key=lambda t: -t[0])]
