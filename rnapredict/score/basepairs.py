"""Base-pair and stacking annotation from 3D coordinates (Leontis–Westhof classes).

A base pair is at least two hydrogen bonds between the same pair of base edges (Watson–Crick
``W``, Hoogsteen ``H``, sugar ``S``; the 2'-OH counts for the sugar edge): donor–acceptor
distance ≤ 4 Å and the bond roughly in both base planes (50–130° to each base normal).
Cis/trans comes from the C1'–N–N–C1' torsion (glycosidic N). Canonical pairs are cWW A–U, G–C and G–U (wobble). Stacking: base centres ≤ 6 Å apart, normals within 35°, and the
centre–centre vector within 45° of a normal. Criteria follow those of RNApolis' annotator
(tzok/rnapolis-py), written anew here so the CLI carries no heavy dependency; see the tests for
agreement on experimental structures.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from rnapredict.io.secondary import to_dot_bracket
from rnapredict.io.structure import RnaStructure
from rnapredict.score.neighbors import point_pairs

HBOND_MAX = 4.0
HBOND_ANGLE = (50.0, 130.0)
STACK_MAX = 6.0
STACK_NORMALS = 35.0
STACK_VECTOR = 45.0

#: Base ring atoms used for centres and plane normals.
RING_ATOMS: dict[str, tuple[str, ...]] = {
    "A": ("N9", "C8", "N7", "C5", "C6", "N1", "C2", "N3", "C4"),
    "G": ("N9", "C8", "N7", "C5", "C6", "N1", "C2", "N3", "C4"),
    "C": ("N1", "C2", "N3", "C4", "C5", "C6"),
    "U": ("N1", "C2", "N3", "C4", "C5", "C6"),
}
#: atom → (is donor, is acceptor, edges)
_POLAR: dict[str, dict[str, tuple[bool, bool, str]]] = {
    "A": {"N6": (True, False, "WH"), "N1": (False, True, "W"), "N3": (False, True, "S"),
          "N7": (False, True, "H")},
    "G": {"N1": (True, False, "W"), "N2": (True, False, "WS"), "O6": (False, True, "WH"),
          "N3": (False, True, "S"), "N7": (False, True, "H")},
    "C": {"N4": (True, False, "WH"), "N3": (False, True, "W"), "O2": (False, True, "WS")},
    "U": {"N3": (True, False, "W"), "O4": (False, True, "WH"), "O2": (False, True, "WS")},
}  # fmt: skip
_O2P = (True, True, "S")
_CANONICAL = {("A", "U"), ("U", "A"), ("G", "C"), ("C", "G"), ("G", "U"), ("U", "G")}


@dataclass(frozen=True)
class BasePair:
    """One base pair between residues ``i < j`` (0-based indices into the model).

    Attributes:
        lw: Leontis–Westhof class, e.g. ``cWW``, ``tHS`` (edge of i first).
        canonical: cWW A–U, G–C or G–U.
        n_hbonds: hydrogen bonds supporting it.
    """

    i: int
    j: int
    lw: str
    canonical: bool
    n_hbonds: int


@dataclass(frozen=True)
class Stacking:
    """Two stacked bases, residues ``i < j``."""

    i: int
    j: int


@dataclass(frozen=True)
class Interactions:
    """Base pairs and stackings of one model."""

    pairs: tuple[BasePair, ...]
    stackings: tuple[Stacking, ...]


def base_frames(model: RnaStructure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Base centres and plane normals.

    Returns:
        centre: [L, 3] (Å, NaN without a base); normal: [L, 3] unit vectors (NaN without a base);
        c1: [L, 3] C1' coordinates (NaN where missing).
    """
    n = model.n_residues
    centre = np.full((n, 3), np.nan)
    normal = np.full((n, 3), np.nan)
    starts = model.residue_starts()
    rings = np.full((n, 9, 3), np.nan)
    for i in range(n):
        want = RING_ATOMS.get(model.seq[i])
        if want is None:
            continue
        names = model.atom_names[starts[i] : starts[i + 1]]
        for k, a in enumerate(want):
            if a in names:
                rings[i, k] = model.coords[starts[i] + names.index(a)]
    count = np.isfinite(rings[:, :, 0]).sum(axis=1)
    ok = count >= 3
    mean = np.nanmean(np.where(ok[:, None, None], rings, 0.0), axis=1)
    centred = np.nan_to_num(rings - mean[:, None, :])
    cov = np.einsum("lki,lkj->lij", centred, centred)
    _, vecs = np.linalg.eigh(cov[ok])
    centre[ok] = mean[ok]
    normal[ok] = vecs[:, :, 0]
    c1, _ = model.atom_coords("C1'")
    return centre, normal, c1


def glycosidic_n(model: RnaStructure) -> np.ndarray:
    """[L, 3] glycosidic nitrogen (N9 of purines, N1 of pyrimidines; NaN where missing)."""
    n9, _ = model.atom_coords("N9")
    n1, _ = model.atom_coords("N1")
    purine = np.array([b in "AG" for b in model.seq], bool)
    return np.where(purine[:, None], n9, n1)


def _angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    nu = np.linalg.norm(u, axis=-1)
    nv = np.linalg.norm(v, axis=-1)
    c = np.einsum("...i,...i->...", u, v) / np.maximum(nu * nv, 1e-12)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def _polar_atoms(model: RnaStructure) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """Donor/acceptor atoms: coordinates [P, 3], residue index [P], (donor, acceptor, edges)."""
    idx: list[int] = []
    info: list[tuple[bool, bool, str]] = []
    for k, (name, r) in enumerate(zip(model.atom_names, model.atom_res, strict=True)):
        table = _POLAR.get(model.seq[r])
        if table is None:
            continue
        entry = _O2P if name == "O2'" else table.get(name)
        if entry is not None:
            idx.append(k)
            info.append(entry)
    sel = np.asarray(idx, dtype=np.int64)
    return model.coords[sel].reshape(-1, 3), model.atom_res[sel], info


def _torsion(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray) -> np.ndarray:
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    b1n = b1 / np.maximum(np.linalg.norm(b1, axis=-1, keepdims=True), 1e-12)
    v = b0 - np.sum(b0 * b1n, axis=-1, keepdims=True) * b1n
    w = b2 - np.sum(b2 * b1n, axis=-1, keepdims=True) * b1n
    x = np.sum(v * w, axis=-1)
    y = np.sum(np.cross(b1n, v) * w, axis=-1)
    return np.degrees(np.arctan2(y, x))


def annotate_base_pairs(model: RnaStructure) -> list[BasePair]:
    """Base pairs of ``model`` (Leontis–Westhof classes), sorted by (i, j).

    Args:
        model: one RNA model; residues without base atoms are skipped.

    Returns:
        list of :class:`BasePair`, each residue edge used at most once.
    """
    centre, normal, c1 = base_frames(model)
    xyz, res, info = _polar_atoms(model)
    pairs, _ = point_pairs(xyz, HBOND_MAX + 1e-9)
    if len(pairs) == 0:
        return []
    a, b = pairs[:, 0], pairs[:, 1]
    ra, rb = res[a], res[b]
    don = np.array([t[0] for t in info], bool)
    acc = np.array([t[1] for t in info], bool)
    ok = (ra != rb) & ((don[a] & acc[b]) | (acc[a] & don[b]))
    ok &= np.isfinite(normal[ra, 0]) & np.isfinite(normal[rb, 0])
    vec = xyz[b] - xyz[a]
    for r in (ra, rb):
        ang = _angle_deg(normal[r], vec)
        ok &= (ang > HBOND_ANGLE[0]) & (ang < HBOND_ANGLE[1])
    a, b, ra, rb = a[ok], b[ok], ra[ok], rb[ok]
    if len(a) == 0:
        return []
    gn = glycosidic_n(model)
    tors = _torsion(c1[ra], gn[ra], gn[rb], c1[rb])
    labels: list[tuple[int, int, str, str, str]] = []
    for k in range(len(a)):
        if not np.isfinite(tors[k]):
            continue
        ct = "c" if abs(tors[k]) < 90.0 else "t"
        ia, ib, ea, eb = int(ra[k]), int(rb[k]), info[a[k]][2], info[b[k]][2]
        if ia > ib:
            ia, ib, ea, eb = ib, ia, eb, ea
        labels.extend((ia, ib, ct, x, y) for x in ea for y in eb)
    occupied: set[tuple[int, str]] = set()
    found: list[BasePair] = []
    # Most-supported interpretation first; ties broken by W edges (canonical pairs) first.
    ranked = sorted(
        Counter(labels).items(),
        key=lambda kv: (-kv[1], kv[0][3] != "W" or kv[0][4] != "W", kv[0]),
    )
    for (i, j, ct, ei, ej), count in ranked:
        if count < 2 or (i, ei) in occupied or (j, ej) in occupied:
            continue
        occupied.update({(i, ei), (j, ej)})
        lw = f"{ct}{ei}{ej}"
        canonical = lw == "cWW" and (model.seq[i], model.seq[j]) in _CANONICAL
        found.append(BasePair(i, j, lw, canonical, count))
    return sorted(found, key=lambda p: (p.i, p.j))


def annotate_stacking(model: RnaStructure) -> list[Stacking]:
    """Stacked base pairs of ``model``, sorted by (i, j)."""
    centre, normal, _ = base_frames(model)
    pairs, _ = point_pairs(centre, STACK_MAX)
    if len(pairs) == 0:
        return []
    i, j = pairs[:, 0], pairs[:, 1]
    ang = _angle_deg(normal[i], normal[j])
    ok = np.minimum(ang, 180.0 - ang) <= STACK_NORMALS
    vec = centre[j] - centre[i]
    vi = _angle_deg(vec, normal[i])
    vj = _angle_deg(vec, normal[j])
    tilt = np.minimum(np.minimum(vi, 180.0 - vi), np.minimum(vj, 180.0 - vj))
    ok &= tilt <= STACK_VECTOR
    return [Stacking(int(x), int(y)) for x, y in pairs[ok]]


def annotate(model: RnaStructure) -> Interactions:
    """Base pairs and stackings of ``model``."""
    return Interactions(tuple(annotate_base_pairs(model)), tuple(annotate_stacking(model)))


def canonical_pair_table(model: RnaStructure, pairs: list[BasePair] | None = None) -> np.ndarray:
    """[L] partner index of each residue in a canonical pair (WC or G–U), -1 if unpaired.

    A residue in several canonical pairs keeps the one with most hydrogen bonds.
    """
    if pairs is None:
        pairs = annotate_base_pairs(model)
    table = np.full(model.n_residues, -1, dtype=np.int64)
    for p in sorted(pairs, key=lambda p: (-p.n_hbonds, p.i, p.j)):
        if p.canonical and table[p.i] < 0 and table[p.j] < 0:
            table[p.i], table[p.j] = p.j, p.i
    return table


def structure_dot_bracket(model: RnaStructure) -> str:
    """Dot-bracket of the canonical base pairs (WC and G–U) found in 3D, pseudoknots as
    ``[] {} <>``, one character per residue of ``model``."""
    return to_dot_bracket(canonical_pair_table(model))
