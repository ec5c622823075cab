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
an excess counts) wins, the assembled pose included. The residue after a domain may sit
beyond domains still to be placed: its reach then includes their assembled end-to-end spans.
Linker residues are then re-laid between their fixed neighbours. No backbone step may end
up longer than ``max(MAX_STEP, its assembled length)``, checked after the push-apart the
assembly does next (a re-laid linker squeezed between close neighbours bunches up and the
push-apart bursts it): the domains at a broken step are then kept as assembled and the rest
packed again, a few times, else the assembled layout stays. A domain pseudoknotted to a
residue outside it stays put. The target is ``6.5 · L^(1/3)`` Å: the median
Rg / L^(1/3) of train-split chains ≥ 100 nt (the often-quoted 5.5 fits compact globular
RNAs; the train chains ≥ 150 nt sit at 7.1). Deterministic for a given generator.
Chains of 150–500 nt by default. Longer ones pack too (``max_length``; their assembled
layouts sit at 1.5–3 × the law), but the data hold no 3D chain > 389 nt to measure it on,
and with packed candidates ``bench.speed --whole`` at 1,000 nt took 212 s instead of 29 s
(the all-atom stage's repair / rebuild, whose cost swings with the candidates either way),
so it stays off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from rnapredict.prior.helixgraph import HelixGraph
from rnapredict.prior.pkmotif import hinge
from rnapredict.prior.select import radius_of_gyration
from rnapredict.prior.steric import push_apart

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
            (accuracy measured on chains of 150–400 nt only, the longest 3D chains in the
            data; above 500 nt see the module note).
        max_domain: largest rigid domain (nt); larger subtrees are split at their loops.
        samples: orientations tried per domain.
        rg_scale: target radius of gyration ``rg_scale · L^(1/3)`` (Å).
        rg_margin: chains whose Rg is within this fraction above the law are left alone.
        contact_weight: score per C1′ contact (against squared Rg excess, Å²).
        min_domains: domains are halved in size until there are at least this many …
        min_domain: … or they would fall under this size (nt).
        keep_bonus: score the assembled pose of a domain gets for free (Å²).
        two_sided: a radius of gyration below the target counts too (else only an excess).
        retries: re-packings with the domains next to a broken backbone step kept as
            assembled.
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
    two_sided: bool = False
    retries: int = 3


DEFAULT_PACK = PackConfig()


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
    halved in size until there are ``min_domains`` or they would fall under ``min_domain``
    (a halving that finds no more domains than before is not taken: a stem subtree without
    smaller subtrees would vanish)."""
    size = cfg.max_domain
    doms = domains(graph, size)
    while len(doms) < cfg.min_domains and size // 2 >= cfg.min_domain:
        size //= 2
        smaller = domains(graph, size)
        if len(smaller) > len(doms):
            doms = smaller
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
    ``1 + rg_margin`` of the target).

    Once pushed apart (:func:`rnapredict.prior.steric.push_apart`, as the assembly does next;
    re-laid linkers can bunch up and burst), no backbone step may be longer than ``max(MAX_STEP, its assembled
    length)``: the domains next to a step a packing breaks stay as assembled and the rest are
    packed again (at most ``retries`` times; then the assembled layout is returned)."""
    orig = np.array(xyz, dtype=np.float64)
    n = len(orig)
    if not cfg.min_length <= n <= cfg.max_length or radius_of_gyration(orig) <= (
        1 + cfg.rg_margin
    ) * _law(n, cfg):
        return orig
    doms = rigid_domains(graph, cfg)
    if len(doms) < 2:
        return orig
    in_dom = np.zeros(n, dtype=bool)
    for i, j in doms:
        in_dom[i : j + 1] = True
    paired = np.zeros(n, dtype=bool)
    for st in graph.stems:
        paired[st.strand1()] = paired[st.strand2()] = True
    linker = ~in_dom & ~paired  # unpaired residues between bodies: re-laid at the end
    bound = np.maximum(MAX_STEP, _steps(orig)) + 1e-6
    frozen: set[int] = set()
    for _ in range(cfg.retries + 1):
        x = _pack_once(graph, orig, doms, frozen, linker, rng, cfg)
        broken = np.flatnonzero(_steps(push_apart(x)) > bound)
        if not len(broken):
            return x
        hit = _domains_at(broken, doms, linker) - frozen
        if not hit:
            break
        frozen |= hit
    return orig


def _pack_once(
    graph: HelixGraph,
    orig: np.ndarray,
    doms: list[tuple[int, int]],
    frozen: set[int],
    linker: np.ndarray,
    rng: np.random.Generator,
    cfg: PackConfig,
) -> np.ndarray:
    """One packing of ``orig`` [L, 3]: domains (``doms``, 5′→3′) re-placed by chain growth,
    those in ``frozen`` (indices) kept as assembled; linkers re-laid."""
    n = len(orig)
    x = orig.copy()
    stay = set(frozen) | {
        d
        for d, (i, j) in enumerate(doms)
        if any((i <= a <= j) != (i <= b <= j) for a, b in graph.pk_pairs)
    }  # pseudoknotted to the outside: stays where it was closed
    placed = ~linker & ~np.isin(np.arange(n), _members(doms, range(len(doms))))
    placed |= np.isin(np.arange(n), _members(doms, stay))
    end_of = {i: j for d, (i, j) in enumerate(doms) if d not in stay}
    for d, (i, j) in enumerate(doms):
        if d in stay:
            continue
        prev = i - 1
        while prev >= 0 and linker[prev]:
            prev -= 1
        anchors = []
        if prev >= 0 and placed[prev]:
            anchors.append((0, prev, _reach(i - prev - 1)))
        # The next fixed residue, past linkers and domains still to place (each spans its
        # assembled end-to-end distance), must stay within reach of this domain's 3′ end.
        nxt, reach, direct = j + 1, STEP, True
        while nxt < n and not placed[nxt]:
            if nxt in end_of:
                reach += STEP + float(np.linalg.norm(orig[end_of[nxt]] - orig[nxt]))
                nxt, direct = end_of[nxt] + 1, False
            else:
                reach, nxt = reach + STEP, nxt + 1
        if nxt < n:
            anchors.append((j - i, nxt, reach))
        # The assembled pose, following the residue it hangs from, competes with random ones.
        shift = x[anchors[0][1]] - orig[anchors[0][1]] if anchors else np.zeros(3)
        poses = _poses(orig[i : j + 1] + shift, x, anchors, rng, cfg.samples)
        body = _choose(poses, x[placed], x, anchors, cfg)
        if len(anchors) == 2 and direct:  # a closed loop: turn the end towards the next residue
            (a, pa, _), (b, pb, _) = anchors
            body = hinge(body, body[a], body[b], x[pb])
        x[i : j + 1] = body
        placed[i : j + 1] = True
    return _relay_linkers(x, linker, orig)


def _members(doms: list[tuple[int, int]], which: object) -> np.ndarray:
    """Residue indices of the domains ``which`` (indices into ``doms``)."""
    parts = [np.arange(doms[d][0], doms[d][1] + 1) for d in which]  # type: ignore[attr-defined]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _domains_at(steps: np.ndarray, doms: list[tuple[int, int]], linker: np.ndarray) -> set[int]:
    """Domains (indices) at either end of each backbone step ``steps`` (step s joins s and
    s + 1), looking past linker residues to the first residue that is not one."""
    ends = []
    for s in steps:
        a, b = int(s), int(s) + 1
        while a > 0 and linker[a]:
            a -= 1
        while b < len(linker) - 1 and linker[b]:
            b += 1
        ends += [a, b]
    return {d for d, (i, j) in enumerate(doms) for r in ends if i <= r <= j}


def _steps(x: np.ndarray) -> np.ndarray:
    """[L − 1] consecutive C1′ distances (Å) of ``x`` [L, 3]."""
    return np.linalg.norm(np.diff(x, axis=0), axis=-1)


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
    excess = rg - _law(total, cfg)
    excess = np.abs(excess) if cfg.two_sided else np.maximum(0.0, excess)
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
