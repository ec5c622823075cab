"""Ideal RNA nucleotide geometry: bond lengths, bond angles, base templates, A-form torsions.

Sources (values rounded to 0.001 Å / 0.1°):

- Sugar–phosphate bonds and angles: Parkinson, Vojtechovsky, Clowney, Brünger & Berman (1996),
  "New parameters for the refinement of nucleic acid-containing structures", Acta Cryst. D52,
  57–64 — the RNA (ribose, C3′-endo) set used by the CCP4/PHENIX/MolProbity restraint
  libraries. Checked against medians of 1ehz/1gid/6g90 C3′-endo residues (all within 0.02 Å
  and 1.5°).
- Bases: the standard-reference-frame coordinates of Olson et al. (2001) J. Mol. Biol. 313,
  229–237 (3DNA ``Atomic_?.pdb``), which carry the Clowney et al. (1996) / Gelbin et al. (1996)
  base geometry including the glycosidic C1′ position. U is the T template without C7.
- A-form torsions: A-RNA fibre model (Arnott et al. 1972), as tabulated by Saenger (1984),
  refined (all within 3.5°) so that with our ideal geometry and the Olson base pair the strand
  and its dyad image form a regular duplex: 2.81 Å rise, 32.7° twist (11.0 bp/turn).

The builder (``nerf.py``) places every atom from three earlier atoms with (bond, angle,
torsion); branch atoms use an "improper" torsion chosen so that *both* angles at the branch
point are ideal (:func:`branch_torsion`). The ribose ring is closed exactly in distance
(C1′–O4′) and its pucker is driven by δ (see ``nerf.py``).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from rnapredict.io.structure import BASE_ATOMS, NUCLEOTIDE_ATOMS

__all__ = ["BASE_ATOMS", "NUCLEOTIDE_ATOMS"]

#: Residue types with an atom table; ``N`` is backbone + sugar only (no base atoms).
RESIDUE_TYPES = "ACGUN"
#: Slot layout per residue type: NUCLEOTIDE_ATOMS order; A = max atoms per residue.
N_SLOTS = max(len(v) for v in NUCLEOTIDE_ATOMS.values())  # 23 (G)
#: Backbone + sugar slots (the first 12 slots of every residue type).
BASE_ATOMS_ORDER = NUCLEOTIDE_ATOMS["N"]
#: Torsion order of the torsion tensors ([..., L, T], T = 8, radians). ``pucker`` is the offset
#: of ν3 (C2'-C3'-C4'-O4') from the δ-driven ideal ring (0 = ideal ribose for that δ).
TORSION_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "chi", "pucker")
N_TORSIONS = len(TORSION_NAMES)

# ------------------------------------------------------------------------- bonds (Å)
BOND: dict[tuple[str, str], float] = {
    ("O3'", "P"): 1.607,  # inter-residue O3'(i-1)-P(i)
    ("P", "OP1"): 1.485,
    ("P", "OP2"): 1.485,
    ("P", "O5'"): 1.593,
    ("O5'", "C5'"): 1.420,
    ("C5'", "C4'"): 1.508,
    ("C4'", "O4'"): 1.451,
    ("C4'", "C3'"): 1.523,
    ("C3'", "O3'"): 1.417,
    ("C3'", "C2'"): 1.523,
    ("C2'", "O2'"): 1.413,
    ("C2'", "C1'"): 1.528,
    ("C1'", "O4'"): 1.414,
}

# ------------------------------------------------------------------------- angles (degrees)
ANGLE: dict[tuple[str, str, str], float] = {
    ("C3'", "O3'", "P"): 119.7,  # inter-residue
    ("O3'", "P", "O5'"): 104.0,  # inter-residue
    ("O3'", "P", "OP1"): 108.3,
    ("O3'", "P", "OP2"): 108.3,
    ("O5'", "P", "OP1"): 108.1,
    ("O5'", "P", "OP2"): 108.1,
    ("P", "O5'", "C5'"): 120.9,
    ("O5'", "C5'", "C4'"): 110.7,
    ("C5'", "C4'", "C3'"): 115.2,
    ("C5'", "C4'", "O4'"): 109.4,
    ("C3'", "C4'", "O4'"): 104.5,
    ("C4'", "C3'", "O3'"): 111.0,
    ("C4'", "C3'", "C2'"): 102.6,
    ("C2'", "C3'", "O3'"): 113.3,
    ("C3'", "C2'", "C1'"): 101.5,
    ("C3'", "C2'", "O2'"): 110.6,
    ("C1'", "C2'", "O2'"): 108.6,
    ("C2'", "C1'", "O4'"): 107.6,
    ("C1'", "O4'", "C4'"): 109.9,
    ("O4'", "C1'", "N"): 108.2,  # N = N9 (purines) / N1 (pyrimidines)
    ("C2'", "C1'", "N"): 113.0,
}

#: C2'-endo (south) values of the angles that follow the ribose pucker (Parkinson et al. 1996
#: C2'-endo set; checked against medians of C2'-endo residues of 1ehz/1gid/6g90). Between
#: the puckers the builder blends north and south with :func:`south_weight` of δ.
ANGLE_SOUTH: dict[tuple[str, str, str], float] = {
    ("C3'", "C4'", "O4'"): 106.0,
    ("C2'", "C3'", "O3'"): 109.8,
    ("C2'", "C1'", "O4'"): 106.0,
}
#: δ (degrees) where the blend is half way, and its width.
PUCKER_MID_DEG, PUCKER_WIDTH_DEG = 115.0, 8.0

#: Terms spanning residues i -> i+1: first atom(s) in residue i, the rest in residue i+1.
LINK_BOND = {("O3'", "P"): 1}  # O3'(i)-P(i+1)
LINK_ANGLE = {
    ("C3'", "O3'", "P"): 2,  # value = number of leading atoms in residue i
    ("O3'", "P", "O5'"): 1,
    ("O3'", "P", "OP1"): 1,
    ("O3'", "P", "OP2"): 1,
}

# Reference ("hint") values of each branch torsion in native RNA, degrees: they only pick
# the chirality (which of the two roots of branch_torsion); measured on 1ehz.
BRANCH_HINT: dict[str, float] = {
    "OP1": 114.0,
    "OP2": -115.0,
    "O4'": 121.0,  # the pucker-dependent O4' and C2' branches use the + root (nerf._branch)
    "C2'": 120.0,
    "O2'": -116.0,
    "N": -122.0,
}

# ------------------------------------------------------------------------- bases
#: Olson et al. (2001) standard reference frame coordinates (Å), incl. C1'.
_BASE_XYZ: dict[str, dict[str, tuple[float, float, float]]] = {
    "A": {
        "C1'": (-2.479, 5.346, 0.0), "N9": (-1.291, 4.498, 0.0), "C8": (0.024, 4.897, 0.0),
        "N7": (0.877, 3.902, 0.0), "C5": (0.071, 2.771, 0.0), "C6": (0.369, 1.398, 0.0),
        "N6": (1.611, 0.909, 0.0), "N1": (-0.668, 0.532, 0.0), "C2": (-1.912, 1.023, 0.0),
        "N3": (-2.320, 2.290, 0.0), "C4": (-1.267, 3.124, 0.0),
    },
    "G": {
        "C1'": (-2.477, 5.399, 0.0), "N9": (-1.289, 4.551, 0.0), "C8": (0.023, 4.962, 0.0),
        "N7": (0.870, 3.969, 0.0), "C5": (0.071, 2.833, 0.0), "C6": (0.424, 1.460, 0.0),
        "O6": (1.554, 0.955, 0.0), "N1": (-0.700, 0.641, 0.0), "C2": (-1.999, 1.087, 0.0),
        "N2": (-2.949, 0.139, -0.001), "N3": (-2.342, 2.364, 0.001), "C4": (-1.265, 3.177, 0.0),
    },
    "C": {
        "C1'": (-2.477, 5.402, 0.0), "N1": (-1.287, 4.523, 0.0), "C2": (-1.477, 3.143, 0.0),
        "O2": (-2.623, 2.684, 0.001), "N3": (-0.385, 2.335, 0.0), "C4": (0.849, 2.855, 0.0),
        "N4": (1.883, 2.020, 0.001), "C5": (1.065, 4.271, 0.0), "C6": (-0.038, 5.062, 0.0),
    },
    "U": {
        "C1'": (-2.481, 5.354, 0.0), "N1": (-1.284, 4.500, 0.0), "C2": (-1.462, 3.135, 0.0),
        "O2": (-2.562, 2.608, 0.0), "N3": (-0.298, 2.407, 0.0), "C4": (0.994, 2.897, 0.0),
        "O4": (1.944, 2.119, 0.0), "C5": (1.106, 4.338, 0.0), "C6": (-0.024, 5.057, 0.0),
    },
}  # fmt: skip

#: Glycosidic nitrogen and the base atom defining χ (O4'-C1'-N-X) per residue type.
GLYCOSIDIC: dict[str, tuple[str, str]] = {
    "A": ("N9", "C4"), "G": ("N9", "C4"), "C": ("N1", "C2"), "U": ("N1", "C2"),
}  # fmt: skip

#: A-form torsions (degrees), order TORSION_NAMES.
AFORM_TORSIONS_DEG: tuple[float, ...] = (-67.34, 174.55, 53.86, 82.24, -157.92, -70.0, -162.73, 0.0)
#: δ of the C2'-endo sugar (degrees), for tests and loops.
DELTA_C2ENDO_DEG = 145.0


def base_template(base: str) -> dict[str, np.ndarray]:
    """Olson standard-frame coordinates {atom: [3]} of base ``base`` (with C1'), Å."""
    return {k: np.asarray(v, dtype=np.float64) for k, v in _BASE_XYZ[base].items()}


def slot_index(base: str) -> dict[str, int]:
    """{atom name: slot} for residue type ``base`` (slots follow NUCLEOTIDE_ATOMS order)."""
    return {a: k for k, a in enumerate(NUCLEOTIDE_ATOMS[base])}


@cache
def slot_mask_table() -> np.ndarray:
    """[5, A] bool: which slots exist for each residue type in RESIDUE_TYPES order."""
    out = np.zeros((len(RESIDUE_TYPES), N_SLOTS), dtype=bool)
    for r, b in enumerate(RESIDUE_TYPES):
        out[r, : len(NUCLEOTIDE_ATOMS[b])] = True
    return out


def residue_types(seq: str) -> np.ndarray:
    """[L] int index into RESIDUE_TYPES (anything not ACGU -> N)."""
    lut = {b: i for i, b in enumerate(RESIDUE_TYPES)}
    return np.fromiter((lut.get(c, 4) for c in seq.upper()), dtype=np.int64, count=len(seq))


def south_weight(delta_rad: float) -> float:
    """Blend weight of the south (C2'-endo) angle set for δ in radians: 0 north .. 1 south."""
    z = (math.degrees(delta_rad) - PUCKER_MID_DEG) / PUCKER_WIDTH_DEG
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def pucker_angle(a: str, b: str, c: str, delta_rad: float, north: float | None = None) -> float:
    """Ideal angle a–b–c (degrees) at sugar pucker δ (radians), blended north/south.

    ``north``: the value to use for angles that do not depend on the pucker (default: table).
    """
    key = (a, b, c) if (a, b, c) in ANGLE_SOUTH else (c, b, a)
    if key not in ANGLE_SOUTH:
        return angle(a, b, c) if north is None else north
    north = angle(a, b, c)
    w = south_weight(delta_rad)
    return (1 - w) * north + w * ANGLE_SOUTH[key]


def bond(a: str, b: str) -> float:
    """Ideal bond length a–b (Å), either order; C1'-N from the base templates."""
    if (a, b) in BOND:
        return BOND[(a, b)]
    return BOND[(b, a)]


def angle(a: str, b: str, c: str) -> float:
    """Ideal bond angle a–b–c in degrees (either direction)."""
    if (a, b, c) in ANGLE:
        return ANGLE[(a, b, c)]
    return ANGLE[(c, b, a)]


def glycosidic_geometry(base: str) -> tuple[float, float]:
    """(C1'–N bond Å, C1'–N–X angle degrees) of the base template (X = C4 or C2)."""
    t = base_template(base)
    n, x = GLYCOSIDIC[base]
    u, v = t["C1'"] - t[n], t[x] - t[n]
    cos = float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
    return float(np.linalg.norm(u)), math.degrees(math.acos(cos))


def branch_torsion(theta0: float, theta1: float, theta2: float, hint: float) -> float:
    """NeRF torsion (degrees) placing a branch atom D on centre C with two ideal angles.

    D is placed from (A, B, C) with angle B–C–D = ``theta1`` and torsion A–B–C–D; A and B are
    both bonded to C with angle A–C–B = ``theta0``. Returns the torsion that makes angle
    A–C–D = ``theta2``; of the two mirror solutions the one nearer ``hint`` (chirality).
    """
    t0, t1, t2 = (math.radians(x) for x in (theta0, theta1, theta2))
    # Local NeRF frame at C: x = unit(C - B), A at angle t0 from -x in the +y half-plane, so
    # unit(A - C) = [-cos t0, sin t0, 0]; D = [-cos t1, sin t1 cos phi, sin t1 sin phi].
    c = (math.cos(t2) - math.cos(t0) * math.cos(t1)) / (math.sin(t0) * math.sin(t1))
    c = max(-1.0, min(1.0, c))
    roots = [math.degrees(math.acos(c)), -math.degrees(math.acos(c))]
    return min(roots, key=lambda r: abs((r - hint + 180.0) % 360.0 - 180.0))


def n_base_atoms(base: str) -> int:
    """Number of base heavy atoms of residue type ``base`` (0 for N)."""
    return len(BASE_ATOMS[base])


@cache
def ideal_geometry(base: str) -> tuple[tuple, tuple]:
    """The ideal set of one residue type, for validation.

    Returns:
        bonds: ((atom a, atom b, length Å), ...) within the residue;
        angles: ((atom a, centre, atom c, degrees), ...) within the residue.
        Sugar–phosphate values from the tables above, base values from the base template.
    """
    glyco = GLYCOSIDIC.get(base, (None, None))[0]
    names = set(NUCLEOTIDE_ATOMS[base])

    def real(a: str) -> str | None:
        return glyco if a == "N" else a

    bonds = [(a, b, v) for (a, b), v in BOND.items() if (a, b) not in LINK_BOND]
    angles = []
    for (a, b, c), v in ANGLE.items():
        if (a, b, c) in LINK_ANGLE:
            continue
        ra, rb, rc = real(a), real(b), real(c)
        if ra in names and rb in names and rc in names:
            angles.append((ra, rb, rc, v))
    if glyco is not None:
        t = base_template(base)
        keys = list(t)
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                d = float(np.linalg.norm(t[a] - t[b]))
                if d < 1.75:
                    bonds.append((a, b, d))
        nbr: dict[str, list[str]] = {k: [] for k in keys}
        for a, b, _ in bonds:
            if a in nbr and b in nbr:
                nbr[a].append(b)
                nbr[b].append(a)
        for centre, ns in nbr.items():
            if centre == "C1'":
                continue
            for i, a in enumerate(ns):
                for c in ns[i + 1 :]:
                    u, v = t[a] - t[centre], t[c] - t[centre]
                    cos = float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
                    angles.append((a, centre, c, math.degrees(math.acos(cos))))
    return tuple(bonds), tuple(angles)
