"""Restraint tables of the all-atom clean-up (:mod:`rnapredict.geometry.cleanup`).

Everything here is topology: which atom pairs are held at which distance, which pairs are
excluded from the repulsion, which atoms hydrogen-bond in a predicted base pair. Targets come
from the ideal nucleotide of :mod:`rnapredict.geometry.ideal` (the A-form template that
``from_c1`` places), so a clean-up never moves a model away from ideal covalent geometry:

- every bond (1–2) and bond angle (as its 1–3 distance), within a residue and across the
  O3′(i)–P(i+1) link;
- every pair within the base plus its C1′ (a rigid, planar base) and within the sugar ring
  with its substituents and the glycosidic N (pucker and the chirality of C1′–C4′ kept);
- backbone torsions and χ stay free: they are what the clean-up turns to resolve clashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from rnapredict.geometry import ideal
from rnapredict.io.structure import NUCLEOTIDE_ATOMS
from rnapredict.score.topology import MAX_EXCLUDED_BONDS, TEMPLATE_BONDS, graph_distances

#: Bondi van der Waals radii (Å), as in :mod:`rnapredict.score.clash`.
VDW = {"C": 1.70, "N": 1.55, "O": 1.52, "P": 1.80}
_SUGAR = ("C1'", "C2'", "C3'", "C4'", "O4'", "O2'", "O3'", "C5'")
#: Watson–Crick / wobble hydrogen bonds (donor/acceptor atom of i, of j) per pair type.
HBONDS: dict[str, tuple[tuple[str, str], ...]] = {
    "GC": (("N1", "N3"), ("N2", "O2"), ("O6", "N4")),
    "AU": (("N1", "N3"), ("N6", "O4")),
    "GU": (("N1", "O2"), ("O6", "N3")),
}
#: Weight of a bond (1–2) term relative to the other distance terms (angles, rigid groups).
BOND_WEIGHT = 10.0
#: C1′–C1′ distances (Å) of a base pair that the clean-up completes with hydrogen bonds
#: (ideal Watson–Crick: 10.4–10.7 Å).
PAIR_C1_RANGE = (7.0, 15.0)
#: Donor–acceptor distance of a base-pair hydrogen bond (Å).
HBOND_A = 2.95


@cache
def template_atoms() -> np.ndarray:
    """[5 types, A, 3] ideal nucleotide of each residue type (interior, paired; Å)."""
    from rnapredict.geometry.trace_frames import frame_templates

    return frame_templates()["own"][1, 1].numpy()


@cache
def _type_tables(t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Intra-residue restraint pairs [K, 2], targets [K] Å, weights [K], graph distances
    [A, A]."""
    base = ideal.RESIDUE_TYPES[t]
    names = NUCLEOTIDE_ATOMS[base]
    pos = {a: k for k, a in enumerate(names)}
    bonds = [(pos[a], pos[b]) for a, b in TEMPLATE_BONDS[base] if a in pos and b in pos]
    bonds = np.array(bonds, np.int64)
    n = ideal.N_SLOTS
    graph = np.full((n, n), 99, np.int64)
    graph[: len(names), : len(names)] = graph_distances(len(names), bonds)
    keep = (graph >= 1) & (graph <= 2)
    groups = []
    if base != "N":
        glyco = ideal.GLYCOSIDIC[base][0]
        groups.append([pos["C1'"]] + [pos[a] for a in names[len(ideal.BASE_ATOMS_ORDER) :]])
        groups.append([pos[a] for a in _SUGAR] + [pos[glyco]])
    else:
        groups.append([pos[a] for a in _SUGAR])
    for g in groups:
        keep[np.ix_(g, g)] = True
    np.fill_diagonal(keep, False)
    pairs = np.argwhere(np.triu(keep))
    xyz = template_atoms()[t]
    target = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)
    weight = np.where(graph[pairs[:, 0], pairs[:, 1]] == 1, BOND_WEIGHT, 1.0)
    return pairs, target, weight, graph


@cache
def _link_depth() -> np.ndarray:
    """[5, A, 2] bonds from each slot to its residue's O3′ (0) and P (1)."""
    out = np.full((len(ideal.RESIDUE_TYPES), ideal.N_SLOTS, 2), 99, np.int64)
    o3, p = ideal.slot_index("A")["O3'"], ideal.slot_index("A")["P"]
    for t in range(len(ideal.RESIDUE_TYPES)):
        graph = _type_tables(t)[3]
        out[t, :, 0], out[t, :, 1] = graph[o3], graph[p]
    return out


@cache
def _link_terms() -> tuple[tuple[int, int, float], ...]:
    """Link restraints (slot in residue i, slot in residue i+1, target Å): bond and angles."""
    s = ideal.slot_index("A")
    b, a = ideal.bond, ideal.angle

    def d13(x: str, y: str, z: str) -> float:
        p, q = b(x, y), b(y, z)
        return float(np.sqrt(p * p + q * q - 2 * p * q * np.cos(np.radians(a(x, y, z)))))

    return (
        (s["O3'"], s["P"], b("O3'", "P")),
        (s["C3'"], s["P"], d13("C3'", "O3'", "P")),
        (s["O3'"], s["O5'"], d13("O3'", "P", "O5'")),
        (s["O3'"], s["OP1"], d13("O3'", "P", "OP1")),
        (s["O3'"], s["OP2"], d13("O3'", "P", "OP2")),
    )


#: Cross-pair distances of an ideal Watson–Crick pair up to this length (Å) are restrained:
#: they hold the two bases coplanar and in register, as the base-pair annotator expects.
PAIR_TEMPLATE_MAX = 6.0


@cache
def _pair_template(a: str, b: str) -> tuple[tuple[int, int, float], ...]:
    """(base slot of a, base slot of b, ideal distance Å) across a Watson–Crick pair a–b;
    empty for other pairs (G–U: hydrogen bonds only)."""
    from rnapredict.geometry.helix import aform_duplex

    if {"A": "U", "U": "A", "G": "C", "C": "G"}.get(a) != b:
        return ()
    atoms, _, partner = aform_duplex(a)
    first = len(ideal.BASE_ATOMS_ORDER)  # base atoms only (C1′ follows the trace)
    xa = atoms[0].numpy()
    xb = atoms[int(partner[0])].numpy()
    na, nb = len(NUCLEOTIDE_ATOMS[a]), len(NUCLEOTIDE_ATOMS[b])
    out = []
    for i in range(first, na):
        for j in range(first, nb):
            d = float(np.linalg.norm(xa[i] - xb[j]))
            if d <= PAIR_TEMPLATE_MAX:
                out.append((i, j, d))
    return tuple(out)


@cache
def _slot_radii() -> tuple[np.ndarray, np.ndarray]:
    """[5, A] van der Waals radius (Å, 0 where absent) and [5, A] polar flag of each slot."""
    radius = np.zeros((len(ideal.RESIDUE_TYPES), ideal.N_SLOTS))
    polar = np.zeros((len(ideal.RESIDUE_TYPES), ideal.N_SLOTS), bool)
    for t, base in enumerate(ideal.RESIDUE_TYPES):
        for k, a in enumerate(NUCLEOTIDE_ATOMS[base]):
            radius[t, k], polar[t, k] = VDW[a[0]], a[0] in "NO"
    return radius, polar


@dataclass(frozen=True)
class Restraints:
    """Flattened restraint tables of one sequence (atoms indexed ``residue * A + slot``).

    Attributes:
        pairs: [K, 2] atom pairs held at ``target`` [K] Å (bonds, angles, rigid groups, links,
            base-pair hydrogen bonds); ``weight`` [K] relative weight of each.
        radius: [L*A] van der Waals radius of each slot (Å; 0 for absent slots).
        polar: [L*A] bool, N/O atoms (hydrogen-bond allowance in the repulsion).
        present: [L*A] bool, slots the residue type has.
        types: [L] residue type index.
        linked: [L-1] bool, links closed by the restraints (no chain break).
    """

    pairs: torch.Tensor
    target: torch.Tensor
    weight: torch.Tensor
    radius: torch.Tensor
    polar: torch.Tensor
    present: torch.Tensor
    types: np.ndarray
    linked: np.ndarray

    def excluded(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[P] bool: atom pairs (flat indices, any order) at most three bonds apart."""
        n = ideal.N_SLOTS
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        rl, rh, sl, sh = lo // n, hi // n, lo % n, hi % n
        out = np.zeros(len(a), bool)
        same = rl == rh
        graph = np.stack([_type_tables(t)[3] for t in range(len(ideal.RESIDUE_TYPES))])
        out[same] = graph[self.types[rl[same]], sl[same], sh[same]] <= MAX_EXCLUDED_BONDS
        if len(self.linked) == 0:  # one residue: no links
            return out
        adj = (rh == rl + 1) & self.linked[np.minimum(rl, len(self.linked) - 1)]
        depth = _link_depth()
        apart = depth[self.types[rl[adj]], sl[adj], 0] + 1 + depth[self.types[rh[adj]], sh[adj], 1]
        out[adj] = apart <= MAX_EXCLUDED_BONDS
        return out


def build_restraints(
    seq: str,
    partner: np.ndarray,
    linked: np.ndarray,
    hbond_weight: float = 1.0,
    c1: np.ndarray | None = None,
) -> Restraints:
    """Restraint tables for a sequence.

    Args:
        seq: L residue letters (anything but ACGU is ``N``).
        partner: [L] base-pair partner index, -1 if unpaired.
        linked: [L-1] bool, consecutive residues joined by an O3′–P bond.
        hbond_weight: weight of the base-pair hydrogen-bond distances (angles have 1).
        c1: [L, 3] C1′ of the model (Å): pairs whose C1′ atoms are outside
            ``PAIR_C1_RANGE`` get no hydrogen bonds (they cannot form without moving the
            trace); None: every pair gets them.
    """
    n_slots = ideal.N_SLOTS
    types = ideal.residue_types(seq)
    pairs, target, weight = [], [], []
    for t in np.unique(types):
        res = np.flatnonzero(types == t)
        p, d, w, _ = _type_tables(int(t))
        pairs.append((res[:, None, None] * n_slots + p[None]).reshape(-1, 2))
        target.append(np.tile(d, len(res)))
        weight.append(np.tile(w, len(res)))
    link_res = np.flatnonzero(linked)
    for k, (si, sj, d) in enumerate(_link_terms()):
        pairs.append(np.stack([link_res * n_slots + si, (link_res + 1) * n_slots + sj], 1))
        target.append(np.full(len(link_res), d))
        weight.append(np.full(len(link_res), BOND_WEIGHT if k == 0 else 1.0))
    letters = "".join(c if c in "ACGU" else "N" for c in seq.upper())
    for i, j in enumerate(np.asarray(partner)):
        if j <= i:
            continue
        if c1 is not None:
            gap = float(np.linalg.norm(c1[i] - c1[j]))
            if not PAIR_C1_RANGE[0] <= gap <= PAIR_C1_RANGE[1]:
                continue
        a, b = letters[i], letters[j]
        template = _pair_template(a, b)
        if template:
            arr = np.array(template)
            pairs.append(np.stack([i * n_slots + arr[:, 0], j * n_slots + arr[:, 1]], 1))
            target.append(arr[:, 2])
            weight.append(np.full(len(arr), hbond_weight))
            continue
        key, flip = (a + b, False) if a + b in HBONDS else (b + a, True)
        for x, y in HBONDS.get(key, ()):
            x_res, y_res = (j, i) if flip else (i, j)
            ix = x_res * n_slots + ideal.slot_index(letters[x_res])[x]
            iy = y_res * n_slots + ideal.slot_index(letters[y_res])[y]
            pairs.append(np.array([[ix, iy]]))
            target.append(np.array([HBOND_A]))
            weight.append(np.array([hbond_weight]))
    mask = ideal.slot_mask_table()[types].reshape(-1)
    radius_t, polar_t = _slot_radii()
    radius, polar = radius_t[types].reshape(-1), polar_t[types].reshape(-1)
    return Restraints(
        pairs=torch.from_numpy(np.concatenate(pairs).astype(np.int64)),
        target=torch.from_numpy(np.concatenate(target)),
        weight=torch.from_numpy(np.concatenate(weight)),
        radius=torch.from_numpy(radius),
        polar=torch.from_numpy(polar),
        present=torch.from_numpy(mask),
        types=types,
        linked=np.asarray(linked, bool),
    )
