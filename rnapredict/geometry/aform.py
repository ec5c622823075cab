"""A-form baseline: a 3D model from sequence + dot-bracket by a simple, documented rule.

Layout rule ("3D radiate"), O(L):

- Pairs come from :func:`rnapredict.io.secondary.parse_dot_bracket`; only the largest nested
  level (``()`` after renumbering by :func:`pseudoknot_levels`) is laid out, pseudoknotted
  pairs are ignored for the layout (they are not paired in the model's frames either).
- Every stem (run of stacked pairs) is an ideal A-form duplex (2.81 Å rise, 32.7° twist,
  C1′–C1′ 10.55 Å across a pair), derived from the torsion builder so that all-atom stems are
  exact.
- Every loop (hairpin, bulge, internal, multi-branch, and the exterior loop, which is closed by
  a virtual pair) is a planar polygon inscribed in a circle: its closing pair's C1′–C1′ chord,
  one A-form strand step (C1′–C1′ 5.35 Å) per backbone link, and one pair chord per child
  stem. The plane holds the closing chord and the parent helix axis, so a loop continues its
  helix (internal loops and bulges stay roughly coaxial, junctions fan out). Each child stem
  starts on its chord and grows outward, away from the polygon.
- All-atom models: :func:`rnapredict.geometry.from_c1.c1_to_atoms` on this trace.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch

from rnapredict.errors import SecondaryStructureError
from rnapredict.geometry.convert import atoms_to_structure
from rnapredict.geometry.frames import invert
from rnapredict.geometry.from_c1 import c1_to_atoms
from rnapredict.geometry.helix import aform_duplex, c1_of, standard_frames
from rnapredict.io.secondary import parse_dot_bracket, pseudoknot_levels
from rnapredict.io.structure import RnaStructure

_N_FIT = 12


@cache
def aform_helix() -> dict[str, np.ndarray | float]:
    """A-form C1′ geometry in helix coordinates (z = axis), from the ideal duplex."""
    atoms, _, partner = aform_duplex("A" * _N_FIT)
    c1 = c1_of(atoms).numpy()
    f = standard_frames("A" * _N_FIT, atoms[:_N_FIT])
    rel = (f[1] @ invert(f[0])).numpy()
    rot, t = rel[:3, :3], rel[:3, 3]
    axis = np.array([rot[2, 1] - rot[1, 2], rot[0, 2] - rot[2, 0], rot[1, 0] - rot[0, 1]])
    axis /= np.linalg.norm(axis)
    twist = math.acos(np.clip((np.trace(rot) - 1) / 2, -1, 1))
    rise = float(t @ axis)
    if rise < 0:
        axis, rise, twist = -axis, -rise, -twist
    # A point on the screw axis: (I - R) p = t - rise * axis (least squares, rank 2).
    point = np.linalg.lstsq(np.eye(3) - rot, t - rise * axis, rcond=None)[0]
    s1, s2 = c1[0], c1[partner[0]]
    radial = s1 - point - ((s1 - point) @ axis) * axis
    ex = radial / np.linalg.norm(radial)
    ey = np.cross(axis, ex)
    basis = np.stack([ex, ey, axis])  # rows
    strand = (s1 - point) @ basis.T
    comp = (s2 - point) @ basis.T
    step = float(np.linalg.norm(c1[1] - c1[0]))
    return {
        "strand": strand,
        "comp": comp,
        "twist": twist,
        "rise": rise,
        "step": step,
        "width": float(np.linalg.norm(strand - comp)),
    }


def _stem_local(k: int) -> tuple[np.ndarray, np.ndarray]:
    """C1′ of a k-bp stem in helix coordinates: strand-1 [k, 3] and their partners [k, 3]."""
    h = aform_helix()
    m = np.arange(k)
    ang = m * h["twist"]
    cos, sin = np.cos(ang), np.sin(ang)

    def screw(p: np.ndarray) -> np.ndarray:
        x = cos * p[0] - sin * p[1]
        y = sin * p[0] + cos * p[1]
        return np.stack([x, y, p[2] + m * h["rise"]], axis=-1)

    return screw(h["strand"]), screw(h["comp"])


def _pair_frame(a: np.ndarray, b: np.ndarray, up: np.ndarray) -> np.ndarray:
    """4x4 frame: origin mid(a, b), x along a->b, y = ``up`` made orthogonal, z = x × y."""
    x = (b - a) / np.linalg.norm(b - a)
    y = up - (up @ x) * x
    y /= np.linalg.norm(y)
    f = np.eye(4)
    f[:3, :3] = np.stack([x, y, np.cross(x, y)], axis=1)
    f[:3, 3] = (a + b) / 2
    return f


def _polygon(edges: np.ndarray) -> np.ndarray:
    """2D vertices [m, 2] of a polygon inscribed in a circle with side lengths ``edges`` [m].

    Vertex 0 is at (-e/2, 0) and vertex m-1 at (+e/2, 0), e = edges[-1] (the closing edge from
    vertex m-1 back to 0); the polygon lies on the +y side. Sides too short to close around
    the longest one are stretched proportionally (degenerate loops only).
    """
    e = np.asarray(edges, dtype=np.float64)
    big = int(np.argmax(e))
    others = e.sum() - e[big]
    if others <= e[big] * 1.0001:
        scale = e[big] * 1.02 / others
        e = np.where(np.arange(len(e)) == big, e, e * scale)

    def theta(r: float) -> np.ndarray:
        return 2 * np.arcsin(np.clip(e / (2 * r), -1, 1))

    r_min = e.max() / 2
    sign = np.ones(len(e))
    if theta(r_min).sum() >= 2 * math.pi:  # centre inside: all sides go the same way round
        lo, hi = r_min, e.sum()
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if theta(mid).sum() > 2 * math.pi else (lo, mid)
    else:  # centre outside: the longest side goes back
        sign[big] = -1.0
        lo, hi = r_min, e.sum()
        for _ in range(80):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if (sign * theta(mid)).sum() > 0 else (mid, hi)
    r = (lo + hi) / 2
    phi = np.concatenate([[0.0], -np.cumsum(sign * theta(r))[:-1]])
    pts = r * np.stack([np.cos(phi), np.sin(phi)], axis=-1)
    a, b = pts[0], pts[-1]
    ux = (b - a) / np.linalg.norm(b - a)
    uy = np.array([-ux[1], ux[0]])
    local = np.stack([(pts - (a + b) / 2) @ ux, (pts - (a + b) / 2) @ uy], axis=-1)
    if local[:, 1].mean() < 0:
        local[:, 1] = -local[:, 1]
    return local


def layout_pairs(dot_bracket: str) -> np.ndarray:
    """[L] partner table laid out by the A-form rule: the main nested level only."""
    pairs = parse_dot_bracket(dot_bracket)
    keep = np.full(len(pairs), -1, dtype=np.int64)
    for (i, j), level in pseudoknot_levels(pairs).items():
        if level == 0:
            keep[i], keep[j] = j, i
    return keep


def aform_c1(seq: str, dot_bracket: str) -> np.ndarray:
    """C1′ coordinates [L, 3] (Å) of the A-form baseline for ``seq`` and ``dot_bracket``.

    Raises:
        SecondaryStructureError: malformed dot-bracket or length mismatch with ``seq``.
    """
    if len(dot_bracket) != len(seq):
        raise SecondaryStructureError(
            f"structure length {len(dot_bracket)} differs from sequence length {len(seq)}"
        )
    n = len(seq)
    if n == 0:
        return np.zeros((0, 3))
    pairs = layout_pairs(dot_bracket)
    h = aform_helix()
    step, width = float(h["step"]), float(h["width"])
    c1 = np.zeros((n, 3))
    stem_cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def stem(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if k not in stem_cache:
            s1, s2 = _stem_local(k)
            z = np.array([0.0, 0.0, 1.0])
            entry = _pair_frame(s1[0], s2[0], z)
            exit_ = _pair_frame(s1[-1], s2[-1], z)
            stem_cache[k] = (s1, s2, np.linalg.inv(entry), exit_)
        return stem_cache[k]

    # Work list of loops: (closing 5' index, closing 3' index, loop frame); -1/L = virtual.
    todo: list[tuple[int, int, np.ndarray]] = [(-1, n, np.eye(4))]
    while todo:
        i, j, frame = todo.pop()
        verts = [i]
        k = i + 1
        while k < j:
            verts.append(k)
            if pairs[k] > k:
                verts.append(int(pairs[k]))
                k = int(pairs[k]) + 1
            else:
                k += 1
        verts.append(j)
        edges = [
            width if (pairs[a] == b and a >= 0 and b < n) else step
            for a, b in zip(verts[:-1], verts[1:], strict=True)
        ]
        edges.append(width)
        local2 = _polygon(np.asarray(edges))
        pts = (frame[:3, :3] @ np.stack(
            [local2[:, 0], local2[:, 1], np.zeros(len(local2))]
        )).T + frame[:3, 3]  # fmt: skip
        centroid = pts.mean(axis=0)
        for v, p in zip(verts, pts, strict=True):
            if 0 <= v < n and v not in (i, j):
                c1[v] = p
        for a_idx, a in enumerate(verts[:-1]):
            b = verts[a_idx + 1]
            if not (0 <= a < n and a not in (i, j) and pairs[a] == b):
                continue
            # Child stem (a, b): run of stacked pairs.
            length = 1
            while pairs[a + length] == b - length and a + length < b - length:
                length += 1
            s1, s2, entry_inv, exit_ = stem(length)
            pa, pb = pts[a_idx], pts[a_idx + 1]
            mid = (pa + pb) / 2
            normal = frame[:3, 2]
            out = np.cross(pb - pa, normal)
            if out @ (mid - centroid) < 0:
                out = -out
            target = _pair_frame(pa, pb, out)
            g = target @ entry_inv
            idx = np.arange(length)
            c1[a + idx] = s1 @ g[:3, :3].T + g[:3, 3]
            c1[b - idx] = s2 @ g[:3, :3].T + g[:3, 3]
            todo.append((a + length - 1, b - length + 1, g @ exit_))
    return c1


def aform_structure(seq: str, dot_bracket: str, chain_id: str = "A") -> RnaStructure:
    """All-atom A-form baseline model (see module docstring for the rule)."""
    c1 = torch.from_numpy(aform_c1(seq, dot_bracket))
    partner = torch.from_numpy(layout_pairs(dot_bracket))
    with torch.no_grad():
        atoms, mask = c1_to_atoms(seq, c1, partner)
    return atoms_to_structure(seq, atoms, mask, chain_id=chain_id)
