"""Long RNAs: pack the assembled domains compactly instead of leaving an extended layout.

The assembly lays a long chain out loop by loop; at the exterior loop and at large
multiway junctions the domains end up strung out (radius of gyration far above
native ones). Here each domain — a stem with everything it encloses,
at most :attr:`PackConfig.max_domain` nt, found by descending from the exterior loop into
larger subtrees — is a rigid body; the rest (larger subtrees' closing stems and their
loops, the *skeleton*) stays. Domains are re-placed 5′→3′ by chain growth: for each, random
orientations with its 5′ end within reach of the residue before it (the linker can span
it) and, where the residue after it is already fixed, its 3′ end within reach of that one
too (the last domain of a closed loop then turns about its 5′ end towards that residue);
the pose with fewest C1′ contacts and the radius of gyration closest to the target (only
an excess counts) wins, the assembled pose included. Linker residues are then re-laid
between their fixed neighbours; a packing that breaks more backbone steps than the
assembled layout is dropped. A domain pseudoknotted to a residue outside it stays put. The target is ``6.5 · L^(1/3)`` Å: the median
Rg / L^(1/3) of train-split chains ≥ 100 nt (the often-quoted 5.5 fits compact globular
RNAs; the train chains ≥ 150 nt sit at 7.1). Deterministic for a given generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from rnapredict.prior.helixgraph import HelixGraph
from rnapredict.prior.pkmotif import hinge

#: C1′ step (Å) a linker residue spans comfortably.
STEP = 6.0
#: Two C1′ of different bodies closer than this (Å) count as a contact.
CONTACT = 5.0
#: A backbone step longer than this (Å) is broken (natives reach ~11 Å).
MAX_STEP = 12.0


@dataclass(frozen=True)
class PackConfig:
    """Domain packing.

    Attributes:
        min_length, max_length: chains outside this range (nt) are left as assembled
            (measured on chains of 150–400 nt only; at 1,000 nt it adds ~4 s to the
            prior's 32 pool candidates and its effect on accuracy is unmeasured).
        max_domain: largest rigid domain (nt); larger subtrees are split at their loops.
        samples: orientations tried per domain.
        rg_scale: target radius of gyration ``rg_scale · L^(1/3)`` (Å).
        rg_margin: chains whose Rg is within this fraction above the law are left alone.
        contact_weight: score per C1′ contact (against squared Rg excess, Å²).
        min_domains: domains are halved in size until there are at least this many …
        min_domain: … or they would fall under this size (nt).
        keep_bonus: score the assembled pose of a domain gets for free (Å²).
    """

    min_length: int = 150
    max_length: int = 500
    max_domain: int = 150
    samples: int = 300
    rg_scale: float = 6.5
    rg_margin: float = 0.1
    contact_weight: float = 50.0
    min_domains: int = 3
    min_domain: int = 40
    keep_bonus: float = 25.0


DEFAULT_PACK = PackConfig()


def radius_of_gyration(xyz: np.ndarray) -> float:
    """Rg (Å) of points [N, 3]."""
    return float(np.sqrt(((xyz - xyz.mean(0)) ** 2).sum(-1).mean()))


def domains(graph: HelixGraph, max_domain: int) -> list[tuple[int, int]]:
    """Rigid domains ``(i, j)`` (stem outer pair; residues i..j), 5′→3′."""
    out: list[tuple[int, int]] = []

    def visit(loop: int) -> None:
        for c in graph.loops[loop].children:
            st = graph.stems[c]
            if st.j - st.i + 1 <= max_domain:
                out.append((st.i, st.j))
            else:
                visit(graph.loop_of_stem[c])

    visit(0)
    return sorted(out)


def rigid_domains(graph: HelixGraph, cfg: PackConfig = DEFAULT_PACK) -> list[tuple[int, int]]:
    """The domains :func:`pack_domains` moves: :func:`domains` of at most ``max_domain`` nt,
    halved in size until there are ``min_domains`` or they would fall under ``min_domain``."""
    size = cfg.max_domain
    doms = domains(graph, size)
    while len(doms) < cfg.min_domains and size // 2 >= cfg.min_domain:
        size //= 2
        doms = domains(graph, size)
    return doms


def _reach(movable_between: int) -> float:
    return STEP * (movable_between + 1)


def pack_domains(
    graph: HelixGraph,
    xyz: np.ndarray,
    rng: np.random.Generator,
    cfg: PackConfig = DEFAULT_PACK,
) -> np.ndarray:
    """``xyz`` [L, 3] (Å) with its domains packed (a copy; unchanged outside
    ``min_length … max_length`` or when its radius of gyration is already within
    ``1 + rg_margin`` of the target)."""
    orig = np.array(xyz, dtype=np.float64)
    x = orig.copy()
    n = len(x)
    if not cfg.min_length <= n <= cfg.max_length or radius_of_gyration(x) <= (
        1 + cfg.rg_margin
    ) * _law(n, cfg):
        return x
    doms = rigid_domains(graph, cfg)
    if len(doms) < 2:
        return x
    in_dom = np.zeros(n, dtype=bool)
    for i, j in doms:
        in_dom[i : j + 1] = True
    paired = np.zeros(n, dtype=bool)
    for st in graph.stems:
        paired[st.strand1()] = paired[st.strand2()] = True
    linker = ~in_dom & ~paired  # unpaired residues between bodies: re-laid at the end
    placed = ~in_dom & paired  # the skeleton stays
    for i, j in doms:
        if any((i <= a <= j) != (i <= b <= j) for a, b in graph.pk_pairs):
            placed[i : j + 1] = True  # pseudoknotted to the outside: stays where it was closed
            continue
        prev, nxt = i - 1, j + 1
        while prev >= 0 and linker[prev]:
            prev -= 1
        while nxt < n and linker[nxt]:
            nxt += 1
        anchors = []
        if prev >= 0 and placed[prev]:
            anchors.append((0, prev, _reach(i - prev - 1)))
        if nxt < n and placed[nxt]:
            anchors.append((j - i, nxt, _reach(nxt - j - 1)))
        # The assembled pose, following the residue it hangs from, competes with random ones.
        shift = x[anchors[0][1]] - orig[anchors[0][1]] if anchors else np.zeros(3)
        poses = _poses(orig[i : j + 1] + shift, x, anchors, rng, cfg.samples)
        body = _choose(poses, x[placed], x, anchors, cfg)
        if len(anchors) == 2:  # a closed loop: turn the end towards the residue after it
            (a, pa, _), (b, pb, _) = anchors
            body = hinge(body, body[a], body[b], x[pb])
        x[i : j + 1] = body
        placed[i : j + 1] = True
    x = _relay_linkers(x, linker, orig)
    # Never trade the backbone for compactness: a layout that breaks more steps is dropped.
    return x if _long_steps(x) <= _long_steps(orig) else orig


def _long_steps(x: np.ndarray) -> int:
    return int((np.linalg.norm(np.diff(x, axis=0), axis=-1) > MAX_STEP).sum())


def _law(n: int, cfg: PackConfig) -> float:
    return cfg.rg_scale * n ** (1 / 3)


def _poses(
    body: np.ndarray,
    x: np.ndarray,
    anchors: list[tuple[int, int, float]],
    rng: np.random.Generator,
    k: int,
) -> np.ndarray:
    """[k + 1, M, 3] candidate poses of ``body`` [M, 3]: itself first, then random rotations
    about its first anchored residue, put within reach of that residue's anchor."""
    if not anchors:
        return body[None]
    a, other, reach = anchors[0]
    rot = Rotation.random(k, random_state=rng).as_matrix()  # [k, 3, 3]
    direction = rng.normal(size=(k, 3))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    dist = np.minimum(reach, np.maximum(STEP, reach * rng.uniform(0.5, 1.0, size=(k, 1))))
    at = x[other] + direction * dist
    moved = np.einsum("kij,mj->kmi", rot, body - body[a]) + at[:, None, :]
    return np.concatenate([body[None], moved])


def _choose(
    poses: np.ndarray,
    others: np.ndarray,
    x: np.ndarray,
    anchors: list[tuple[int, int, float]],
    cfg: PackConfig,
) -> np.ndarray:
    """The pose of ``poses`` [P, M, 3] (the first: the assembled one) with fewest residues in
    contact with ``others`` [N, 3] and least excess radius of gyration of the union over the
    law; poses that leave an anchor out of reach lose to any that do not."""
    p, m = poses.shape[:2]
    if len(others):
        d, _ = cKDTree(others).query(poses.reshape(-1, 3), distance_upper_bound=CONTACT)
        contacts = np.isfinite(d).reshape(p, m).sum(-1)
    else:
        contacts = np.zeros(p)
    total = len(others) + m
    s1 = others.sum(0) + poses.sum(1)  # [P, 3]
    s2 = (others**2).sum() + (poses**2).sum((1, 2))  # [P]
    rg = np.sqrt(np.maximum(s2 / total - (s1**2).sum(-1) / total**2, 0.0))
    excess = np.maximum(0.0, rg - _law(total, cfg))
    score = cfg.contact_weight * contacts + excess**2
    for a, other, reach in anchors:
        score += 1e9 * (np.linalg.norm(poses[:, a] - x[other], axis=-1) > reach + 1e-6)
    score[0] -= cfg.keep_bonus
    return poses[int(np.argmin(score))]


def _relay_linkers(x: np.ndarray, linker: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Linker runs of ``x`` [L, 3] laid on straight lines between their fixed neighbours;
    chain-end tails move with the residue they hang from (as it moved from ``before``)."""
    out = x.copy()
    n = len(x)
    k = 0
    while k < n:
        if not linker[k]:
            k += 1
            continue
        e = k
        while e < n and linker[e]:
            e += 1
        a, b = k - 1, e  # fixed neighbours (out of range at the chain ends)
        if a >= 0 and b < n:
            t = np.arange(1, e - k + 1)[:, None] / (e - k + 1)
            out[k:e] = out[a] + t * (out[b] - out[a])
        elif b < n:
            out[k:e] = before[k:e] + (out[b] - before[b])
        elif a >= 0:
            out[k:e] = before[k:e] + (out[a] - before[a])
        k = e
    return out
