"""Clashscore: heavy-atom pairs overlapping by more than 0.4 Å, per 1,000 atoms.

MolProbity-style: two atoms clash when ``r_vdw(a) + r_vdw(b) - d > 0.4 Å``. Pairs at most three
bonds apart (1-2, 1-3, 1-4) are not clashes, within a residue and across the O3'(i)–P(i+1)
link. Inter-residue pairs come from gemmi's neighbour search (C++); intra-residue pairs from a
per-residue-type table of non-excluded pairs, vectorized over residues, so the cost is O(N).

Heavy atoms only (models here have no hydrogens), with Bondi van der Waals radii (gemmi's
table: C 1.70, N 1.55, O 1.52, P 1.80 Å). Polar N/O pairs get a hydrogen-bond allowance so
ordinary base-pair and 2'-OH hydrogen bonds (N/O···N/O ≥ 2.5 Å) are not counted, in the
spirit of probe's H-bond treatment.
"""

from __future__ import annotations

from dataclasses import dataclass

import gemmi
import numpy as np

from rnapredict.io.structure import RnaStructure
from rnapredict.score.topology import (
    MAX_EXCLUDED_BONDS,
    graph_distances,
    is_template_only,
    residue_bonds,
)


@dataclass(frozen=True)
class ClashConfig:
    """Clash criteria.

    Attributes:
        overlap: minimum van der Waals overlap (Å) that counts as a clash.
        hbond_allowance: extra overlap (Å) allowed between two polar atoms (N/O), which may be
            hydrogen bonded.
        link_max: O3'(i)–P(i+1) distance (Å) under which consecutive residues of a chain are
            treated as covalently linked (a stretched bond in a model is not a chain break).
        n_worst: how many of the worst overlaps to list in the report.
    """

    overlap: float = 0.4
    hbond_allowance: float = 0.6
    link_max: float = 4.0
    n_worst: int = 10


@dataclass(frozen=True)
class Clash:
    """One clashing pair: atom labels ``chain:resname:number[icode]:atom``, distance and overlap
    (Å)."""

    atom1: str
    atom2: str
    distance: float
    overlap: float


@dataclass(frozen=True)
class ClashReport:
    """Clashscore of one model.

    Attributes:
        score: clashes per 1,000 heavy atoms.
        n_clashes: number of clashing pairs.
        n_atoms: number of heavy atoms with coordinates.
        worst: the largest overlaps, worst first.
    """

    score: float
    n_clashes: int
    n_atoms: int
    worst: tuple[Clash, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "clashscore": self.score,
            "n_clashes": self.n_clashes,
            "n_atoms": self.n_atoms,
            "worst": [c.__dict__ for c in self.worst],
        }


_POLAR = ("N", "O")


def _vdw_radii(elements: list[str]) -> np.ndarray:
    table: dict[str, float] = {}
    out = np.empty(len(elements))
    for k, e in enumerate(elements):
        if e not in table:
            table[e] = float(gemmi.Element(e).vdw_r) if gemmi.Element(e).vdw_r > 0 else 1.7
        out[k] = table[e]
    return out


def _intra_pairs(model: RnaStructure, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate intra-residue pairs (more than three bonds apart) and per-atom bond counts to
    the residue's O3' and P.

    Returns:
        pairs: [K, 2] global atom indices; link_dist: [N, 2] bonds from each atom to its
        residue's O3' (col 0) and P (col 1), large where absent.
    """
    n = model.n_atoms
    link_dist = np.full((n, 2), 99, dtype=np.int64)
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for i in range(model.n_residues):
        names = tuple(model.atom_names[starts[i] : starts[i + 1]])
        groups.setdefault((model.seq[i], names), []).append(i)
    pairs: list[np.ndarray] = []
    for (base, names), residues in groups.items():
        elements = tuple(model.elements[starts[residues[0]] : starts[residues[0] + 1]])
        # Template-only residues share one topology; others get distance-based bonds each.
        shared = is_template_only(base, names)
        dist = far = None
        for i in residues:
            if dist is None or not shared:
                xyz = model.coords[starts[i] : starts[i + 1]]
                dist = graph_distances(len(names), residue_bonds(base, names, elements, xyz))
                far = np.argwhere(np.triu(dist > MAX_EXCLUDED_BONDS, k=1))
            pairs.append(far + starts[i])
            for col, anchor in ((0, "O3'"), (1, "P")):
                if anchor in names:
                    link_dist[starts[i] : starts[i + 1], col] = dist[names.index(anchor)]
    flat = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)
    return flat.astype(np.int64), link_dist


def _inter_pairs(model: RnaStructure, cutoff_radius: np.ndarray, max_cut: float) -> np.ndarray:
    """Inter-residue atom pairs closer than the sum of their ``cutoff_radius`` (gemmi search).

    Returns [K, 2] global atom indices (i < j).
    """
    st = gemmi.Structure()
    gm = gemmi.Model(1)
    starts = model.residue_starts()
    chain: gemmi.Chain | None = None
    for i in range(model.n_residues):
        if chain is None or chain.name != model.chain_ids[i]:
            if chain is not None:
                gm.add_chain(chain, unique_name=True)
            chain = gemmi.Chain(model.chain_ids[i] or "A")
        res = gemmi.Residue()
        res.name = model.res_names[i]
        res.seqid = gemmi.SeqId(int(model.res_ids[i]), model.ins_codes[i] or " ")
        for k in range(starts[i], starts[i + 1]):
            at = gemmi.Atom()
            at.name = model.atom_names[k]
            at.element = gemmi.Element(model.elements[k])
            at.pos = gemmi.Position(*model.coords[k])
            at.serial = k
            res.add_atom(at)
        chain.add_residue(res)
    if chain is not None:
        gm.add_chain(chain, unique_name=True)
    st.add_model(gm)
    st.setup_entities()
    ns = gemmi.NeighborSearch(st[0], st.cell, max(max_cut, 1.0)).populate()
    cs = gemmi.ContactSearch(max_cut)
    cs.ignore = gemmi.ContactSearch.Ignore.SameResidue
    cs.setup_atomic_radii(1.0, 0.0)
    for e in set(model.elements):
        el = gemmi.Element(e)
        cs.set_radius(el, float(cutoff_radius[model.elements.index(e)]))
    found = cs.find_contacts(ns)
    out = np.array([(r.partner1.atom.serial, r.partner2.atom.serial) for r in found], np.int64)
    if len(out) == 0:
        return np.zeros((0, 2), np.int64)
    return np.sort(out, axis=1)


def clashscore(model: RnaStructure, config: ClashConfig | None = None) -> ClashReport:
    """MolProbity-style clashscore of one model (heavy atoms).

    Args:
        model: the structure; hydrogens and atoms with non-finite coordinates are ignored.
        config: clash criteria (default :class:`ClashConfig`).

    Returns:
        :class:`ClashReport` with clashes per 1,000 atoms and the worst overlaps.
    """
    cfg = config or ClashConfig()
    keep = np.array([e not in ("H", "D") for e in model.elements], bool)
    keep &= np.isfinite(model.coords).all(axis=1)
    heavy = model.select_atoms(keep)
    n_atoms = heavy.n_atoms
    if n_atoms == 0:
        return ClashReport(0.0, 0, 0, ())
    pairs, d, overlap = clashing_pairs(heavy, cfg)
    n_clashes = len(pairs)
    order = np.argsort(-overlap, kind="stable")[: cfg.n_worst]
    labels = heavy.residue_labels()

    def label(k: int) -> str:
        return f"{labels[heavy.atom_res[k]]}:{heavy.atom_names[k]}"

    worst = tuple(
        Clash(label(int(pairs[k, 0])), label(int(pairs[k, 1])), float(d[k]), float(overlap[k]))
        for k in order
    )
    return ClashReport(1000.0 * n_clashes / n_atoms, n_clashes, n_atoms, worst)


def clashing_pairs(
    heavy: RnaStructure, cfg: ClashConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clashes of :func:`clashscore` in a model of heavy atoms with finite coordinates:
    atom pairs [K, 2], their distances [K] (Å) and overlaps [K] (Å), in candidate order."""
    radius = _vdw_radii(heavy.elements)
    polar = np.array([e in _POLAR for e in heavy.elements], bool)
    starts = heavy.residue_starts()

    intra, link_dist = _intra_pairs(heavy, starts)
    # Per-element search radius: a pair is a candidate when d < r_a + r_b - overlap.
    cut_r = radius - cfg.overlap / 2
    inter = _inter_pairs(heavy, cut_r, 2 * float(cut_r.max()))

    if len(inter):
        ra, rb = heavy.atom_res[inter[:, 0]], heavy.atom_res[inter[:, 1]]
        lo = np.where(ra < rb, inter[:, 0], inter[:, 1])
        hi = np.where(ra < rb, inter[:, 1], inter[:, 0])
        res_lo, res_hi = heavy.atom_res[lo], heavy.atom_res[hi]
        linked = _linked_residues(heavy, starts, cfg.link_max)
        adjacent = (res_hi == res_lo + 1) & linked[np.minimum(res_lo, len(linked) - 1)]
        bonds_apart = link_dist[lo, 0] + 1 + link_dist[hi, 1]
        inter = np.stack([lo, hi], axis=1)[~(adjacent & (bonds_apart <= MAX_EXCLUDED_BONDS))]
    pairs = np.concatenate([intra, inter]) if len(inter) else intra
    pairs = pairs.reshape(-1, 2)
    d = np.linalg.norm(heavy.coords[pairs[:, 0]] - heavy.coords[pairs[:, 1]], axis=1)
    allowed = cfg.overlap + np.where(
        polar[pairs[:, 0]] & polar[pairs[:, 1]], cfg.hbond_allowance, 0.0
    )
    overlap = radius[pairs[:, 0]] + radius[pairs[:, 1]] - d
    hit = overlap > allowed
    return pairs[hit], d[hit], overlap[hit]


def _linked_residues(model: RnaStructure, starts: np.ndarray, link_max: float) -> np.ndarray:
    """[max(L-1, 1)] bool: residue i is covalently linked to i+1 (same chain, O3'–P close)."""
    n = model.n_residues
    if n < 2:
        return np.zeros(1, bool)
    o3, has_o3 = model.atom_coords("O3'")
    p, has_p = model.atom_coords("P")
    same_chain = np.array(
        [model.chain_ids[i] == model.chain_ids[i + 1] for i in range(n - 1)], bool
    )
    ok = same_chain & has_o3[:-1] & has_p[1:]
    d = np.linalg.norm(np.nan_to_num(o3[:-1]) - np.nan_to_num(p[1:]), axis=1)
    return ok & (d < link_max)
