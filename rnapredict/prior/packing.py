"""Helix packing at loops, from a C1′ trace and its secondary structure (sequence-blind).

Issue 24: what decides a junction's TM-score is which helices stack coaxially and how the
others pack. For every loop joining two or more helices, each pair of helix ends that follow
each other around the loop (parent → first child, child → next child, last child → parent;
the exterior loop: child → next child) is described by

- the cosine of the angle between the two helix axes, both pointing away from the loop
  (a coaxial stack is ≈ −1, helices side by side ≈ +1), and
- the distance (Å) between the midpoints of the two end pairs (stacked ends ≈ 5–8 Å).

:func:`packing_histogram` bins them: loop class (internal / bulge vs junction / exterior) ×
near / far end distance × cosine bin, as a fraction of the structure's helix-end pairs.
Axes come from stems of ≥ 2 pairs (a lone pair has no axis; its pairs are skipped).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from rnapredict.prior.helixgraph import helix_graph

#: Edges of the cosine bins (5 bins over [−1, 1]).
COS_EDGES = (-0.8, -0.4, 0.4, 0.8)
#: End distance (Å) below which two helix ends count as near (stacked or touching).
NEAR = 12.0
#: Pairs into each helix whose turn gives its axis.
AXIS_PAIRS = 3
#: Classes × near/far × cosine bins.
N_FEATURES = 2 * 2 * (len(COS_EDGES) + 1)


@lru_cache(maxsize=256)
def end_pairs(ss: str) -> tuple[np.ndarray, np.ndarray]:
    """Helix-end pairs of a structure: [P, 2, 4] per end (5′ residue i and partner j of the
    end pair, step d = ±1 of the 5′ residue going into the helix, pairs T ≥ 1 used for the
    axis) and [P] loop class (0: internal / bulge, 1: junction / exterior). Cached, read-only."""
    graph = helix_graph(ss)
    ends, cls = [], []
    for lp in graph.loops:
        sides: list = []
        if lp.parent >= 0:
            s = graph.stems[lp.parent]
            sides.append((*s.inner, -1, min(s.n - 1, AXIS_PAIRS)) if s.n >= 2 else None)
        for c in lp.children:
            s = graph.stems[c]
            sides.append((s.i, s.j, 1, min(s.n - 1, AXIS_PAIRS)) if s.n >= 2 else None)
        n = len(sides) if lp.parent >= 0 and len(sides) > 2 else len(sides) - 1
        for k in range(n if len(sides) >= 2 else 0):
            a, b = sides[k], sides[(k + 1) % len(sides)]
            if a is not None and b is not None:
                ends.append((a, b))
                cls.append(0 if lp.kind in ("internal", "bulge", "stack") else 1)
    idx = np.asarray(ends, dtype=np.int64).reshape(-1, 2, 4)
    c = np.asarray(cls, dtype=np.int64)
    idx.flags.writeable = False
    c.flags.writeable = False
    return idx, c


def geometry(xyz: np.ndarray, ss: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[P] cosines between outward axes, [P] end distances (Å) and [P] loop classes of one
    C1′ trace ``xyz`` [L, 3] with structure ``ss``.

    Axis of a helix end, from its first pairs going into the helix (v_t: 5′ residue →
    partner of pair t; pair vectors turn right-handed about the direction of travel, so the
    axis points away from the loop whichever strand is 5′): the sum of s_t × s_{t+1} over
    the steps s_t = v_{t+1} − v_t (in the plane normal to an ideal helix's axis, so exact for
    it), or v_0 × v_1 for a 2-pair stem.
    """
    idx, cls = end_pairs(ss)
    if not len(idx):
        return np.zeros(0), np.zeros(0), cls
    x = np.asarray(xyz, dtype=np.float64)
    mids, axes = [], []
    for side in (0, 1):
        i, j, d, n_ax = (idx[:, side, k] for k in range(4))
        v = [
            x[j - d * t] - x[i + d * t]
            for t in np.minimum(np.arange(AXIS_PAIRS + 1)[:, None], n_ax)
        ]
        steps = [v[t + 1] - v[t] for t in range(AXIS_PAIRS)]  # in-plane: the tilt cancels
        axis = np.cross(v[0], v[1])  # 2-pair stems: the pair vectors themselves
        turn = sum(np.cross(steps[t], steps[t + 1]) for t in range(AXIS_PAIRS - 1))
        axis = np.where((n_ax >= 2)[:, None], turn, axis)
        axes.append(axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-6))
        mids.append((x[i] + x[j]) / 2)
    cos = (axes[0] * axes[1]).sum(-1)
    dist = np.linalg.norm(mids[0] - mids[1], axis=-1)
    return cos, dist, cls


def packing_histogram(xyz: np.ndarray, ss: str) -> np.ndarray:
    """[N_FEATURES] fractions of the helix-end pairs by class, near/far and cosine bin."""
    cos, dist, cls = geometry(xyz, ss)
    out = np.zeros(N_FEATURES)
    if len(cos):
        b = np.searchsorted(np.asarray(COS_EDGES), cos)
        key = (cls * 2 + (dist >= NEAR)) * (len(COS_EDGES) + 1) + b
        out += np.bincount(key, minlength=N_FEATURES) / len(cos)
    return out
