"""Pseudoknot and kissing-loop instances: mined from native chains, placed at fold time.

A pseudoknot stem (a run of stacked pseudoknotted pairs ``(a0 + m, b1 - m)``) joins two
loop strands of the nested helix graph (:mod:`rnapredict.prior.helixgraph`):

- ``nested`` (H-type): one strand's loop is an ancestor of (or is) the other's, e.g. a
  hairpin loop pairing with the strand 3′ of its stem. The *anchor* is the deeper loop.
- ``kissing``: the loops lie in sibling subtrees (two hairpin loops, tRNA D/T loops). The
  anchor is the 5′ loop; the other loop's subtree moves as a rigid body.

An instance stores, in the anchor loop's frame (:func:`rnapredict.prior.motifs.loop_frame`),
the C1′ path of both strands (flanking paired residues included) and, for kissing loops,
the other loop's frame. At fold time a matching instance puts the two strands (and the
kissing subtree) where the native had them relative to the anchor stem, so partners sit at
native pair distance and the stems take the native relative orientation; strands of a
different length are mapped piecewise (flank → pseudoknot strand → flank).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnapredict.prior.helixgraph import HelixGraph, loop_tree
from rnapredict.prior.motifs import apply, loop_frame, strand_bounds

#: Worst stem-end fit (Å) of an anchor or kissing loop frame for an instance to be kept.
MAX_FIT_RMSD = 2.0
#: Longest C1′ step (Å) inside a mined strand (longer: a chain break).
MAX_STEP = 12.0
#: C1′–C1′ range (Å) of a mined pseudoknot pair (outside: the SS does not fit the 3D).
PAIR_RANGE = (8.5, 12.5)
CASES = ("nested", "kissing")


@dataclass(frozen=True)
class PkConfig:
    """Matching of a query pseudoknot stem to instances.

    Attributes:
        max_pair_diff: largest difference in pseudoknot pairs (fraction of the query's,
            at least 1).
        max_len_frac: largest total strand-length difference, fraction of the query's total
            (at least :attr:`min_len_slack` nt).
        min_len_slack: see :attr:`max_len_frac`.
        seq_weight: score gained at full identity of the pseudoknot strands.
        temperature: softmax temperature when sampling alternatives.
        min_pairs: sites with fewer pseudoknotted pairs are left to the pull (a lone
            tertiary pair does not fix the relative geometry).
    """

    max_pair_diff: float = 0.34
    max_len_frac: float = 0.4
    min_len_slack: int = 4
    seq_weight: float = 3.0
    temperature: float = 1.0
    min_pairs: int = 2


@dataclass(frozen=True)
class PkSite:
    """One pseudoknot stem of a helix graph, as the library keys it.

    Attributes:
        case: ``nested`` or ``kissing``.
        anchor5: the anchor loop holds the 5′ strand ``a`` (else the 3′ strand ``b``).
        pairs: number of pseudoknotted pairs n.
        anchor, other: loop indices; strands: (anchor strand, other strand) residue lists
            with their flanking paired residues; offsets: first pseudoknot residue's
            position in each strand (0 = first unpaired residue).
        seq: pseudoknot strands ``a&b``.
    """

    case: str
    anchor5: bool
    pairs: int
    anchor: int
    other: int
    strands: tuple[tuple[int, ...], tuple[int, ...]]
    offsets: tuple[int, int]
    seq: str

    @property
    def lengths(self) -> tuple[int, int]:
        """Unpaired residues of the anchor and the other strand."""
        return len(self.strands[0]) - 2, len(self.strands[1]) - 2

    def paired(self) -> np.ndarray:
        """[2n] residues of the pseudoknot pairs."""
        return np.array(
            [s[1 + o + m] for s, o in zip(self.strands, self.offsets, strict=True)
             for m in range(self.pairs)], dtype=np.int64
        )  # fmt: skip


@dataclass(frozen=True)
class PkInstance:
    """Key, provenance and geometry of one mined pseudoknot stem.

    Attributes:
        case, anchor5, pairs, lengths, offsets, seq: as :class:`PkSite`.
        id: ``PDB_CHAIN``; residues: 1-based span; release_date: ``YYYY-MM-DD``.
        transform: [4, 4] other loop's frame in the anchor frame (identity when nested).
        points: ([k_a + 2, 3], [k_o + 2, 3]) C1′ (Å) of the two strands in the anchor frame.
    """

    case: str
    anchor5: bool
    pairs: int
    lengths: tuple[int, int]
    offsets: tuple[int, int]
    seq: str
    id: str
    residues: tuple[int, int]
    release_date: str
    transform: np.ndarray
    points: tuple[np.ndarray, np.ndarray]

    def info(self) -> dict[str, object]:
        pdb, _, chain = self.id.partition("_")
        return {
            "type": f"pseudoknot-{self.case}",
            "pdb": pdb,
            "chain": chain,
            "residues": f"{self.residues[0]}-{self.residues[1]}",
            "release_date": self.release_date,
        }


def pk_stems(pairs: tuple[tuple[int, int], ...]) -> list[tuple[int, int, int]]:
    """Runs ``(a0, b1, n)`` of stacked pairs ``(a0 + m, b1 - m)``, m < n, from sorted pairs."""
    runs: list[tuple[int, int, int]] = []
    for i, j in sorted(pairs):
        if runs and runs[-1][0] + runs[-1][2] == i and runs[-1][1] - runs[-1][2] == j:
            a, b, n = runs[-1]
            runs[-1] = (a, b, n + 1)
        else:
            runs.append((i, j, 1))
    return runs


def _strand_index(graph: HelixGraph) -> dict[int, tuple[int, int]]:
    """Unpaired residue → (loop, strand) of the nested layout."""
    where = {}
    for l, lp in enumerate(graph.loops):
        for k, s in enumerate(lp.strands):
            for r in s:
                where[r] = (l, k)
    return where


def _is_ancestor(x: int, y: int, parent: np.ndarray) -> bool:
    """Loop ``x`` is ``y`` or one of its ancestors."""
    while y >= 0:
        if y == x:
            return True
        y = int(parent[y])
    return False


def _with_flanks(graph: HelixGraph, loop: int, k: int) -> tuple[int, ...]:
    """Residues of strand k of ``loop`` with its flanks (tails: the one flank twice)."""
    a, b = strand_bounds(graph, loop)[k]
    return (a, *graph.loops[loop].strands[k], b)


def pk_sites(graph: HelixGraph, seq: str) -> list[PkSite]:
    """Pseudoknot stems of ``graph`` whose strands each lie in one loop strand."""
    if not graph.pk_pairs:
        return []
    where = _strand_index(graph)
    _, parent, depth = loop_tree(graph)
    out = []
    for a0, b1, n in pk_stems(graph.pk_pairs):
        a = list(range(a0, a0 + n))
        b = list(range(b1 - n + 1, b1 + 1))
        wa = {where.get(r) for r in a}
        wb = {where.get(r) for r in b}
        if len(wa) != 1 or len(wb) != 1 or None in wa | wb or wa == wb:
            continue
        (la, ka), (lb, kb) = wa.pop(), wb.pop()  # type: ignore[misc]
        if _is_ancestor(lb, la, parent) or _is_ancestor(la, lb, parent):
            case = "nested"
            anchor5 = depth[la] >= depth[lb] if la != lb else True
        else:
            case, anchor5 = "kissing", True
        (l0, k0, s0), (l1, k1, s1) = (
            ((la, ka, a), (lb, kb, b)) if anchor5 else ((lb, kb, b), (la, ka, a))
        )
        st0, st1 = _with_flanks(graph, l0, k0), _with_flanks(graph, l1, k1)
        offsets = (st0.index(s0[0]) - 1, st1.index(s1[0]) - 1)
        text = "".join(seq[r] for r in a) + "&" + "".join(seq[r] for r in b)
        out.append(PkSite(case, bool(anchor5), n, l0, l1, (st0, st1), offsets, text))
    return out


def _subtree(graph: HelixGraph, loop: int) -> np.ndarray:
    """Residues of the stem closing ``loop`` and everything it encloses."""
    st = graph.stems[graph.loops[loop].parent]
    return np.arange(st.i, st.j + 1)


def mine_pk(
    graph: HelixGraph, seq: str, xyz: np.ndarray, chain_id: str, release_date: str
) -> list[PkInstance]:
    """Instances of one native chain's pseudoknot stems whose geometry fits its SS."""
    steps = np.linalg.norm(np.diff(xyz, axis=0), axis=-1)
    out = []
    for site in pk_sites(graph, seq):
        ref, r0 = loop_frame(graph, xyz, site.anchor)
        other, r1 = loop_frame(graph, xyz, site.other)
        if max(r0, r1) > MAX_FIT_RMSD:
            continue
        ok = all(max(s) == min(s) or steps[min(s) : max(s)].max() <= MAX_STEP for s in site.strands)
        pa, pb = site.paired().reshape(2, -1)
        d = np.linalg.norm(xyz[pa] - xyz[pb[::-1]], axis=-1)
        if not ok or d.min() < PAIR_RANGE[0] or d.max() > PAIR_RANGE[1]:
            continue
        inv = np.linalg.inv(ref)
        pts = tuple(apply(inv, xyz[list(s)]) for s in site.strands)
        lo = min(min(s) for s in site.strands)
        hi = max(max(s) for s in site.strands)
        transform = inv @ other if site.case == "kissing" else np.eye(4)
        out.append(
            PkInstance(site.case, site.anchor5, site.pairs, site.lengths, site.offsets,
                       site.seq, chain_id, (lo + 1, hi + 1), release_date, transform,
                       (pts[0], pts[1]))
        )  # fmt: skip
    return out


class PkLibrary:
    """Pseudoknot instances indexed by (case, anchor5)."""

    def __init__(self, instances: list[PkInstance]):
        self.instances = instances
        self._index: dict[tuple[str, bool], np.ndarray] = {}
        for k, inst in enumerate(instances):
            key = (inst.case, inst.anchor5)
            self._index[key] = np.append(self._index.get(key, np.zeros(0, np.int64)), k)

    def __len__(self) -> int:
        return len(self.instances)

    def subset(self, keep: np.ndarray) -> PkLibrary:
        """The instances at indices ``keep``."""
        return PkLibrary([self.instances[int(k)] for k in keep])

    def match(self, site: PkSite, cfg: PkConfig = PkConfig()) -> tuple[np.ndarray, np.ndarray]:
        """Instances fitting ``site``, best first: (indices [M], scores [M])."""
        ids = self._index.get((site.case, site.anchor5), np.zeros(0, np.int64))
        if not len(ids):
            return ids, np.zeros(0)
        inst = [self.instances[int(k)] for k in ids]
        dn = np.array([abs(i.pairs - site.pairs) for i in inst])
        dl = np.array(
            [sum(abs(x - y) for x, y in zip(i.lengths, site.lengths, strict=True)) for i in inst]
        )
        do = np.array(
            [sum(abs(x - y) for x, y in zip(i.offsets, site.offsets, strict=True)) for i in inst]
        )
        slack = max(cfg.min_len_slack, cfg.max_len_frac * sum(site.lengths))
        ok = (dn <= max(1, int(cfg.max_pair_diff * site.pairs))) & (dl <= slack)
        ids = ids[ok]
        if not len(ids):
            return ids, np.zeros(0)
        ident = np.array([_identity(site.seq, self.instances[int(k)].seq) for k in ids])
        score = -2.0 * dn[ok] - 0.5 * (dl[ok] + do[ok]) + cfg.seq_weight * ident
        order = np.lexsort((ids, -score))
        return ids[order], score[order]


def _identity(a: str, b: str) -> float:
    same = total = 0
    for x, y in zip(a.split("&"), b.split("&"), strict=False):
        same += sum(1 for p, q in zip(x, y, strict=False) if p == q)
        total += max(len(x), len(y))
    return same / total if total else 1.0


def map_strand(points: np.ndarray, offset: int, pairs: int, k: int, o: int, n: int) -> np.ndarray:
    """[k, 3] interior of an instance strand ``points`` [k' + 2, 3] mapped onto a query strand
    of k unpaired residues whose n pseudoknot residues start at ``o``.

    The instance's pseudoknot residues start at ``offset`` and number ``pairs``; flanks,
    pseudoknot ends and the stretches between map piecewise linearly (exactly when equal).
    """
    kk = len(points) - 2
    q = [0.0, 1.0 + o, float(o + n), k + 1.0]
    t = [0.0, 1.0 + offset, float(offset + pairs), kk + 1.0]
    q_pts, t_pts = [q[0]], [t[0]]
    for x, y in zip(q[1:], t[1:], strict=True):
        if x > q_pts[-1] and y >= t_pts[-1]:
            q_pts.append(x)
            t_pts.append(y)
    u = np.interp(np.arange(1, k + 1, dtype=np.float64), q_pts, t_pts)
    idx = np.arange(kk + 2, dtype=np.float64)
    return np.stack([np.interp(u, idx, points[:, d]) for d in range(3)], axis=-1)


def _stem_of(graph: HelixGraph, r: int) -> int:
    """Index of the stem residue ``r`` pairs in (-1: unpaired)."""
    for k, st in enumerate(graph.stems):
        if st.i <= r < st.i + st.n or st.j - st.n < r <= st.j:
            return k
    return -1


def hinge(pts: np.ndarray, pivot: np.ndarray, point: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``pts`` [M, 3] rotated about ``pivot`` [3] by the smallest rotation turning the
    direction of ``point`` [3] towards ``target`` [3] (as seen from the pivot)."""
    u, v = point - pivot, target - pivot
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu < 1e-9 or nv < 1e-9:
        return pts.copy()
    u, v = u / nu, v / nv
    axis, c = np.cross(u, v), float(u @ v)
    s = float(np.linalg.norm(axis))
    if s < 1e-9:  # parallel: nothing to do; antiparallel: any perpendicular axis
        if c > 0:
            return pts.copy()
        axis = np.cross(u, [1.0, 0.0, 0.0] if abs(u[0]) < 0.9 else [0.0, 1.0, 0.0])
        s = float(np.linalg.norm(axis))
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    rot = np.eye(3) + s * kx + (1 - c) * (kx @ kx)
    return (pts - pivot) @ rot.T + pivot


def place_pk(
    graph: HelixGraph, xyz: np.ndarray, site: PkSite, inst: PkInstance
) -> tuple[np.ndarray, np.ndarray]:
    """Copy of ``xyz`` [L, 3] with ``site`` laid out as ``inst``, and the residues [M] placed.

    Kissing: the other loop's subtree first moves rigidly to the instance's relative frame.
    The two strands' unpaired residues then take the instance's path in the anchor frame.
    A stem flanking either strand that encloses neither (a sibling branch of the loop)
    turns with its subtree about its other end (:func:`hinge`) towards where the instance
    has the flank, so the backbone can follow.
    """
    x = np.array(xyz, dtype=np.float64)
    ref, _ = loop_frame(graph, x, site.anchor)
    if site.case == "kissing":
        now, _ = loop_frame(graph, x, site.other)
        move = ref @ inst.transform @ np.linalg.inv(now)
        sub = _subtree(graph, site.other)
        x[sub] = apply(move, x[sub])
    interior = {r for strand in site.strands for r in strand[1:-1]}
    for strand, pts in zip(site.strands, inst.points, strict=True):
        for flank, target in ((strand[0], pts[0]), (strand[-1], pts[-1])):
            k = _stem_of(graph, flank)
            if k < 0 or any(graph.stems[k].i <= r <= graph.stems[k].j for r in interior):
                continue
            st = graph.stems[k]
            pivot = st.i if flank == st.j else st.j
            sub = np.arange(st.i, st.j + 1)
            x[sub] = hinge(x[sub], x[pivot], x[flank], apply(ref, target))
    placed: list[int] = []
    for strand, o, pts, off in zip(
        site.strands, site.offsets, inst.points, inst.offsets, strict=True
    ):
        interior = map_strand(pts, off, inst.pairs, len(strand) - 2, o, site.pairs)
        x[list(strand[1:-1])] = apply(ref, interior)
        placed += strand[1:-1]
    return x, np.asarray(placed, dtype=np.int64)
