"""Coaxial-stacking variants of a junction's geometry (issue 24): which helix pair stacks.

At a junction closed by stem P with children C1 … Ck, two helices that follow each other
around the loop can stack into one continuous A-form helix: P on C1, Ci on Ci+1, or Ck on P
(k + 1 choices; 3 for a three-way junction). :func:`stack_variant` takes a loop geometry
(a library instance or the A-form fallback, :class:`rnapredict.prior.motifs.LoopGeom`) and
makes one such pair exactly coaxial:

- P on C1 (or Ck on P): the child frame becomes one A-form step beyond the parent's end
  (``screw(1)``), and every other child turns with it (one rigid motion of the children and
  the strands between them, so their arrangement is the instance's);
- Ci on Ci+1: Ci+1 continues Ci's helix on the far side of its end pair (``T_i @ FLIP @
  screw(1)``; FLIP is the base-pair dyad: it swaps the strands and reverses the axis); only
  Ci+1 moves.

Strands whose flanks moved are redrawn as a path bowed away from the loop centre (the strand
lengths are kept; :func:`rnapredict.prior.place.resample` spreads the residues).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from rnapredict.prior.motifs import LoopGeom, apply, kabsch, pair0, screw

#: Bow of a redrawn strand (Å per residue, away from the loop centre), at most :data:`MAX_BOW`.
BOW = 1.5
MAX_BOW = 8.0


@cache
def flip() -> np.ndarray:
    """[4, 4] base-pair dyad: maps pair m (5′, partner) onto pair −m (partner, 5′)."""
    src, dst = [], []
    for m in range(-3, 4):
        a, b = apply(screw(m), pair0()), apply(screw(-m), pair0())
        src += [a[0], a[1]]
        dst += [b[1], b[0]]
    f, rmsd = kabsch(np.asarray(src), np.asarray(dst))
    assert rmsd < 0.05, rmsd  # the ideal duplex is dyad-symmetric to 0.01 Å
    f.flags.writeable = False
    return f


def n_variants(n_children: int) -> int:
    """Stacking choices at a junction loop with a closing stem and ``n_children`` children."""
    return n_children + 1 if n_children >= 2 else 0


def stack_variant(g: LoopGeom, v: int) -> LoopGeom:
    """Geometry ``g`` of a closed junction (C = ``len(g.transforms)`` ≥ 2 children) with
    helix pair ``v`` stacked: 0 = P on C1, 1 … C−1 = Ci on Ci+1, C = Ck on P."""
    t = np.array(g.transforms)
    c = len(t)
    strands = list(g.strands)
    if v in (0, c):
        k = 0 if v == 0 else c - 1
        move = screw(1) @ np.linalg.inv(t[k])
        t = np.stack([move @ x for x in t])
        for s in range(1, c):  # strands between children turn with them
            strands[s] = apply(move, strands[s])
        redraw = [0, c]
    else:
        t[v] = t[v - 1] @ flip() @ screw(1)
        redraw = [v, v + 1]
    ends = _flanks(t)
    centre = np.concatenate([ends.reshape(-1, 3), pair0()]).mean(0)
    for s in redraw:
        a, b = ends[s]
        strands[s] = _bowed(a, b, len(g.strands[s]) - 2, centre)
    return LoopGeom(t, tuple(strands), g.fit_rmsd)


def _flanks(t: np.ndarray) -> np.ndarray:
    """[C + 1, 2, 3] flanking C1′ (start, end) of each strand of a closed loop, loop frame."""
    p = pair0()
    out = [(p[0], apply(t[0], p[0]))]
    for k in range(len(t) - 1):
        out.append((apply(t[k], p[1]), apply(t[k + 1], p[0])))
    out.append((apply(t[-1], p[1]), p[1]))
    return np.asarray(out)


def _bowed(a: np.ndarray, b: np.ndarray, k: int, centre: np.ndarray) -> np.ndarray:
    """[3, 3] path a → bowed midpoint → b for a strand of ``k`` residues."""
    mid = (a + b) / 2
    out = mid - centre
    n = np.linalg.norm(out)
    out = out / n if n > 1e-6 else np.array([0.0, 0.0, 1.0])
    return np.stack([a, mid + out * min(BOW * k, MAX_BOW), b])
