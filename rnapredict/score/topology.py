"""Covalent topology of RNA residues: template bonds, bond-graph distances, backbone links.

Used by the clash check to leave out pairs that are close because they are bonded (1-2),
share a bonded neighbour (1-3) or are the ends of a torsion (1-4), within a residue and across
the O3'(i)–P(i+1) link, as MolProbity's clashscore does.
"""

from __future__ import annotations

from functools import lru_cache

import gemmi
import numpy as np

_BACKBONE_BONDS = (
    ("P", "OP1"), ("P", "OP2"), ("P", "OP3"), ("P", "O5'"), ("O5'", "C5'"), ("C5'", "C4'"),
    ("C4'", "O4'"), ("C4'", "C3'"), ("C3'", "O3'"), ("C3'", "C2'"), ("C2'", "O2'"),
    ("C2'", "C1'"), ("C1'", "O4'"),
)  # fmt: skip
_PURINE = (
    ("C1'", "N9"), ("N9", "C8"), ("C8", "N7"), ("N7", "C5"), ("C5", "C6"), ("C6", "N1"),
    ("N1", "C2"), ("C2", "N3"), ("N3", "C4"), ("C4", "C5"), ("C4", "N9"),
)  # fmt: skip
_PYRIMIDINE = (
    ("C1'", "N1"), ("N1", "C2"), ("C2", "O2"), ("C2", "N3"), ("N3", "C4"), ("C4", "C5"),
    ("C5", "C6"), ("C6", "N1"),
)  # fmt: skip

#: Heavy-atom bonds of the standard nucleotides (PDB v3 names).
TEMPLATE_BONDS: dict[str, tuple[tuple[str, str], ...]] = {
    "A": _BACKBONE_BONDS + _PURINE + (("C6", "N6"),),
    "G": _BACKBONE_BONDS + _PURINE + (("C6", "O6"), ("C2", "N2")),
    "C": _BACKBONE_BONDS + _PYRIMIDINE + (("C4", "N4"),),
    "U": _BACKBONE_BONDS + _PYRIMIDINE + (("C4", "O4"),),
    "N": _BACKBONE_BONDS,
}

#: Pairs at most this many bonds apart are never clashes (1-2, 1-3, 1-4).
MAX_EXCLUDED_BONDS = 3
_FAR = 99


def _covalent_r(element: str) -> float:
    return float(gemmi.Element(element).covalent_r)


@lru_cache(maxsize=4096)
def _template_graph(base: str, names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Template bonds of one residue type as index pairs into ``names``."""
    pos = {n: k for k, n in enumerate(names)}
    bonds = TEMPLATE_BONDS.get(base, _BACKBONE_BONDS)
    return tuple((pos[a], pos[b]) for a, b in bonds if a in pos and b in pos)


def is_template_only(base: str, names: tuple[str, ...]) -> bool:
    """All atoms of the residue are known to the template of ``base`` (no distance bonds)."""
    known = {a for pair in TEMPLATE_BONDS.get(base, _BACKBONE_BONDS) for a in pair}
    return all(n in known for n in names)


def residue_bonds(
    base: str, names: tuple[str, ...], elements: tuple[str, ...], xyz: np.ndarray
) -> np.ndarray:
    """Bonds of one residue: template bonds, plus distance-based bonds for atoms the template
    does not know (modified nucleotides).

    Args:
        base: parent nucleotide (``A C G U N``).
        names: [n] atom names; elements: [n] element symbols.
        xyz: [n, 3] coordinates (Å).

    Returns:
        [b, 2] int index pairs into ``names``.
    """
    bonds = list(_template_graph(base, names))
    known = {a for pair in TEMPLATE_BONDS.get(base, _BACKBONE_BONDS) for a in pair}
    unknown = [k for k, n in enumerate(names) if n not in known]
    if unknown:
        cov = np.array([_covalent_r(e) for e in elements])
        d = np.linalg.norm(xyz[unknown][:, None, :] - xyz[None, :, :], axis=-1)  # [u, n]
        near = d < 1.2 * (cov[unknown][:, None] + cov[None, :])
        for row, k in enumerate(unknown):
            for j in np.nonzero(near[row])[0]:
                if j != k:
                    bonds.append((min(k, int(j)), max(k, int(j))))
    if not bonds:
        return np.zeros((0, 2), np.int64)
    return np.unique(np.asarray(bonds, dtype=np.int64), axis=0)


def graph_distances(n: int, bonds: np.ndarray, cap: int = MAX_EXCLUDED_BONDS + 1) -> np.ndarray:
    """All-pairs bond counts within one residue (breadth-first, capped).

    Args:
        n: number of atoms; bonds: [b, 2] index pairs.
        cap: distances above ``cap`` are reported as a large number.

    Returns:
        [n, n] int bond-graph distances (0 on the diagonal, large where > cap or unconnected).
    """
    adj = np.zeros((n, n), dtype=bool)
    if len(bonds):
        adj[bonds[:, 0], bonds[:, 1]] = True
        adj[bonds[:, 1], bonds[:, 0]] = True
    dist = np.full((n, n), _FAR, dtype=np.int64)
    np.fill_diagonal(dist, 0)
    reach = np.eye(n, dtype=bool)
    for step in range(1, cap + 1):
        reach_next = reach | ((reach.astype(np.int64) @ adj.astype(np.int64)) > 0)
        dist[reach_next & ~reach] = step
        reach = reach_next
    return dist
