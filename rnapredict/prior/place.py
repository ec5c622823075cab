"""Place a helix graph in 3D: ideal A-form stems, one :class:`LoopGeom` per loop, top-down.

The exterior loop's first stem sits at the origin frame; every other stem is placed by the
transform its enclosing loop carries; unpaired residues come from the loop's strand paths,
resampled along their arc when the chosen geometry has a different strand length.
"""

from __future__ import annotations

import numpy as np

from rnapredict.prior.helixgraph import HelixGraph
from rnapredict.prior.motifs import LoopGeom, apply, screw, stem_local


def resample(path: np.ndarray, m: int) -> np.ndarray:
    """[m, 3] points along a polyline ``path`` [k + 2, 3] (flanks included), interior only.

    Exactly the interior when k == m; otherwise points at equal arc-length fractions.
    """
    k = len(path) - 2
    if k == m:
        return path[1:-1]
    seg = np.linalg.norm(np.diff(path, axis=0), axis=-1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] <= 1e-9:
        return np.repeat(path[:1], m, axis=0)
    t = arc[-1] * np.arange(1, m + 1) / (m + 1)
    return np.stack([np.interp(t, arc, path[:, d]) for d in range(3)], axis=-1)


def place(graph: HelixGraph, geoms: list[LoopGeom]) -> np.ndarray:
    """C1′ coordinates [L, 3] (Å) of ``graph`` laid out with ``geoms[l]`` for loop l.

    The exterior loop must have at least one child stem (callers lay out stem-less
    structures otherwise).
    """
    stems, loops = graph.stems, graph.loops
    xyz = np.zeros((graph.length, 3))
    frames: list[np.ndarray | None] = [None] * len(stems)

    def put_loop(loop: int, ref: np.ndarray) -> list[int]:
        lp, g = loops[loop], geoms[loop]
        for c, t in zip(lp.children, g.transforms, strict=True):
            frames[c] = ref @ t
        last = len(lp.strands) - 1
        for k, (strand, path) in enumerate(zip(lp.strands, g.strands, strict=True)):
            if strand:
                f = ref
                if lp.parent < 0 and k == last and lp.children:
                    f = frames[lp.children[-1]]  # the 3′ tail follows the last stem
                xyz[list(strand)] = apply(f, resample(path, len(strand)))
        return list(lp.children)

    todo = put_loop(0, np.eye(4))
    while todo:
        s = todo.pop()
        st, f = stems[s], frames[s]
        assert f is not None
        pts = apply(f, stem_local(st.n))
        xyz[st.strand1()] = pts[:, 0]
        xyz[st.strand2()] = pts[:, 1]
        todo += put_loop(graph.loop_of_stem[s], f @ screw(st.n - 1))
    return xyz
