"""Loop geometry relative to ideal A-form stems: measured from coordinates, applied to place stems.

Frames (4x4, Å): a stem of n pairs placed by ``G`` has pair m at ``G @ P_m`` applied to the
ideal pair-0 C1′ points, where ``P_m`` is the A-form screw (m·twist about z, m·rise along z).
A loop closed by stem p sees its children through transforms of the parent's *end* frame
``E = G_p @ P_{n_p - 1}``: child c is placed at ``G_c = E @ T_c``; unpaired residues sit at
``E @ x``. The exterior loop uses its first child's frame as reference (``T_0 = I``).

Measuring these from a native C1′ trace fits ideal pairs to each stem end by Kabsch, so the
same code mines the library (from natives) and the fallback (from the A-form layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from rnapredict.geometry.aform import aform_helix
from rnapredict.prior.helixgraph import HelixGraph
from rnapredict.score import superpose

#: Pairs fitted at each stem end (curved native stems: the end frame is what the loop sees).
END_PAIRS = 3
#: Weight of the pseudo pair (next residues treated as paired) that fixes a 1-bp stem's frame.
LONE_PAIR_WEIGHT = 0.2


@dataclass(frozen=True)
class LoopGeom:
    """Geometry of one loop in its reference frame.

    Attributes:
        transforms: [C, 4, 4] child stem frames (``T_c``), C = number of children.
        strands: per loop strand, [k + 2, 3] C1′ (Å) including the two flanking paired
            residues (the exterior tails: one flank, the stem side, and a copy of it). The
            exterior 3′ tail is in its last stem's frame (it follows that stem wherever the
            loop's geometry puts it).
        fit_rmsd: worst stem-end fit RMSD (Å) when measured; 0 for ideal layouts.
    """

    transforms: np.ndarray
    strands: tuple[np.ndarray, ...]
    fit_rmsd: float = 0.0


@cache
def pair0() -> np.ndarray:
    """[2, 3] C1′ of pair 0 (5′ strand, partner) in helix coordinates."""
    h = aform_helix()
    return np.stack([np.asarray(h["strand"]), np.asarray(h["comp"])])


@cache
def screw(m: int) -> np.ndarray:
    """[4, 4] A-form screw ``P_m`` (cached, read-only)."""
    h = aform_helix()
    a = m * float(h["twist"])
    c, s = np.cos(a), np.sin(a)
    f = np.eye(4)
    f[:2, :2] = [[c, -s], [s, c]]
    f[2, 3] = m * float(h["rise"])
    f.flags.writeable = False
    return f


@cache
def stem_local(n: int) -> np.ndarray:
    """[n, 2, 3] ideal C1′ of an n-pair stem in its own frame (cached, read-only)."""
    p0 = pair0()
    out = np.stack([p0 @ screw(m)[:3, :3].T + screw(m)[:3, 3] for m in range(n)])
    out.flags.writeable = False
    return out


def apply(f: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Points [..., 3] moved by the 4x4 frame ``f``."""
    return x @ f[:3, :3].T + f[:3, 3]


def kabsch(
    src: np.ndarray, dst: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """4x4 rigid motion taking ``src`` [N, 3] onto ``dst`` [N, 3] (weighted,
    :func:`rnapredict.score.superpose.kabsch`), and its weighted RMSD (Å)."""
    w = np.ones(len(src)) if w is None else np.asarray(w, dtype=np.float64)
    rot, t = superpose.kabsch(src, dst, w)
    f = np.eye(4)
    f[:3, :3] = rot
    f[:3, 3] = t
    rmsd = float(np.sqrt((w / w.sum()) @ ((apply(f, src) - dst) ** 2).sum(-1)))
    return f, rmsd


def fit_stem(xyz: np.ndarray, i: int, j: int, n: int, end: bool) -> tuple[np.ndarray, float]:
    """Placement ``G`` of stem (i, j, n) fitted to a C1′ trace [L, 3] at its start or end.

    Returns ``G`` such that the ideal pair m is at ``G @ P_m`` near that end, and the RMSD.
    """
    local = stem_local(max(n, 2))
    ms = list(range(max(0, n - END_PAIRS), n)) if end else list(range(min(n, END_PAIRS)))
    src = [local[m] for m in ms]
    dst = [xyz[[i + m, j - m]] for m in ms]
    w = [1.0] * (2 * len(ms))
    if n == 1:  # a lone pair: its neighbours inside the loop fix the rotation about i–j
        src.append(local[1])
        dst.append(xyz[[min(i + 1, len(xyz) - 1), max(j - 1, 0)]])
        w += [LONE_PAIR_WEIGHT] * 2
    g, rmsd = kabsch(np.concatenate(src), np.concatenate(dst), np.asarray(w))
    if n == 1:
        rmsd = float(np.linalg.norm(apply(g, local[0]) - xyz[[i, j]], axis=-1).max())
    return g, rmsd


def loop_frame(graph: HelixGraph, xyz: np.ndarray, loop: int) -> tuple[np.ndarray, float]:
    """Reference frame [4, 4] of loop ``loop`` in a C1′ trace ``xyz`` [L, 3] and its fit RMSD.

    The closing stem's end frame (``G_p @ P_{n_p - 1}``); the exterior loop: its first
    child's frame (identity when it has none).
    """
    lp = graph.loops[loop]
    if lp.parent >= 0:
        p = graph.stems[lp.parent]
        g, r = fit_stem(xyz, p.i, p.j, p.n, end=True)
        return g @ screw(p.n - 1), r
    if lp.children:
        c0 = graph.stems[lp.children[0]]
        return fit_stem(xyz, c0.i, c0.j, c0.n, end=False)
    return np.eye(4), 0.0


def measure_loop(graph: HelixGraph, xyz: np.ndarray, loop: int) -> LoopGeom:
    """Geometry of loop ``loop`` of ``graph`` in a C1′ trace ``xyz`` [L, 3] (Å)."""
    lp = graph.loops[loop]
    stems = graph.stems
    ref, rms = loop_frame(graph, xyz, loop)
    inv = np.linalg.inv(ref)
    tr = []
    for c in lp.children:
        s = stems[c]
        g, r = fit_stem(xyz, s.i, s.j, s.n, end=False)
        tr.append(inv @ g)
        rms = max(rms, r)
    strands = []
    bounds = strand_bounds(graph, loop)
    for k, (strand, (a, b)) in enumerate(zip(lp.strands, bounds, strict=True)):
        idx = [a, *strand, b]
        frame = inv
        if lp.parent < 0 and k == len(lp.strands) - 1 and lp.children:
            frame = np.linalg.inv(ref @ tr[-1])  # the 3′ tail follows the last stem
        strands.append(apply(frame, xyz[idx]))
    transforms = np.stack(tr) if tr else np.zeros((0, 4, 4))
    return LoopGeom(transforms, tuple(strands), rms)


def strand_bounds(graph: HelixGraph, loop: int) -> list[tuple[int, int]]:
    """Flanking paired residues (a, b) of each strand of a loop; tails repeat their one flank."""
    lp = graph.loops[loop]
    stems = graph.stems
    ends: list[int] = []
    if lp.parent >= 0:
        ends.append(stems[lp.parent].inner[0])
    for c in lp.children:
        ends += [stems[c].i, stems[c].j]
    if lp.parent >= 0:
        ends.append(stems[lp.parent].inner[1])
    if lp.parent < 0:
        if not ends:
            return [(0, graph.length - 1)] if lp.strands and lp.strands[0] else [(0, 0)]
        ends = [ends[0], *ends, ends[-1]]
    return [(ends[2 * k], ends[2 * k + 1]) for k in range(len(lp.strands))]
