"""Simulated annealing over an assembly's per-loop choices under the learned coarse-grained score.

Issue 24. One secondary structure's helix graph has a few options per loop (library instances
matched on kind, strand lengths and sequence, plus the A-form fallback). The plain assembly
takes each loop's best match, or samples by match score; the search instead walks the joint
choice by Metropolis moves — one loop switches to another of its options, drawn by match
score — under

    energy = −(per-candidate part of the learned score, :meth:`CgScore.geometry`)
             + ``clash_weight`` × steric / pseudoknot penalty,

with a geometric temperature schedule. The number of moves scales with the loops that have a
choice and is capped by a budget of pair-distance evaluations (O(L²) each), so long RNAs get
few moves. The ``k`` lowest-energy states visited that lie at least ``min_rmsd`` apart
(C1′, superposed) are returned, best first (relaxed to "different choice" when too few
differ). Deterministic for a given ``rng`` state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnapredict.prior.helixgraph import HelixGraph

if TYPE_CHECKING:
    from rnapredict.prior.cgscore import CgScore

#: (C1′ coordinates [L, 3], per-loop choice [N]) of one state.
State = tuple[np.ndarray, list[int]]


@dataclass(frozen=True)
class SearchConfig:
    """Annealing knobs.

    Attributes:
        moves_per_loop: moves per loop that has more than one option.
        max_moves: most moves per structure.
        pair_budget: most pair-distance evaluations per structure (moves ≤ budget / (L²/2)).
        min_moves: moves allowed whatever the budget (when a loop has a choice).
        top_options: options per loop the moves draw from (best matches first).
        option_temperature: softmax temperature over the match scores of a move's proposals.
        t_start, t_end: annealing temperatures (score units; the score's within-pool spread
            is about 0.3).
        clash_weight: energy per unit of the assembly's steric / pseudoknot penalty.
        min_rmsd: C1′ RMSD (Å) the returned states keep from each other when possible.
        max_step, break_energy: a state with a consecutive C1′ step longer than ``max_step``
            (Å; a chain break the push-apart cannot mend) costs ``break_energy`` more.
        stacking: offer each junction's coaxial-stacking variants of its best match
            (:mod:`rnapredict.prior.coaxial`) as options, at the best match score minus
            ``stacking_offset``.
    """

    moves_per_loop: int = 4
    max_moves: int = 40
    pair_budget: float = 2e6
    min_moves: int = 8
    top_options: int = 16
    option_temperature: float = 2.0
    t_start: float = 0.3
    t_end: float = 0.02
    clash_weight: float = 0.1
    min_rmsd: float = 4.0
    stacking: bool = True
    stacking_offset: float = 1.0
    max_step: float = 20.0
    break_energy: float = 10.0


DEFAULT_SEARCH = SearchConfig()


def with_stacking(
    graph: HelixGraph,
    options: list[tuple[np.ndarray, np.ndarray]],
    cfg: SearchConfig = DEFAULT_SEARCH,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``options`` (per loop: ids [M], match scores [M], best first) with each closed
    junction's stacking variants appended as ids −2 − v (:func:`coaxial.stack_variant` v of
    the loop's best option)."""
    from rnapredict.prior.coaxial import n_variants

    if not cfg.stacking:
        return options
    out = []
    for lp, (ids, scores) in zip(graph.loops, options, strict=True):
        nv = n_variants(len(lp.children)) if lp.parent >= 0 else 0
        extra = np.full(nv, scores[0] - cfg.stacking_offset)
        out.append((np.append(ids, -2 - np.arange(nv)), np.append(scores, extra)))
    return out


def geometry_score(ss: str, learned: CgScore | None = None) -> Callable[[np.ndarray], float]:
    """Score of one C1′ candidate [L, 3] of structure ``ss`` (higher: better): the per-candidate
    part of the learned score ``learned`` (None: the shipped one), or minus the compactness
    penalty when none is shipped."""
    from rnapredict.prior.cgscore import default_cgscore
    from rnapredict.prior.select import compactness_penalty

    score = learned if learned is not None else default_cgscore()
    if score is None:
        return lambda x: -compactness_penalty(x)
    return lambda x: float(score.geometry(x[None], ss)[0])


def n_moves(n_free: int, length: int, cfg: SearchConfig = DEFAULT_SEARCH) -> int:
    """Moves for a structure of ``length`` nt with ``n_free`` loops that have a choice."""
    if n_free == 0:
        return 0
    budget = int(cfg.pair_budget / max(length * length / 2, 1))
    return max(cfg.min_moves, min(cfg.max_moves, cfg.moves_per_loop * n_free, budget))


def anneal(
    first: list[int],
    options: list[tuple[np.ndarray, np.ndarray]],
    build: Callable[[list[int]], np.ndarray],
    penalty: Callable[[np.ndarray], float],
    rng: np.random.Generator,
    k: int,
    score: Callable[[np.ndarray], float],
    cfg: SearchConfig = DEFAULT_SEARCH,
) -> list[State]:
    """Up to ``k`` low-energy states (best first, different), starting from ``first``.

    Args:
        first: [N] the starting choice (an option id per loop).
        options: per loop, (option ids [M], match scores [M]) best first.
        build: C1′ coordinates [L, 3] of a choice; penalty: steric penalty of [L, 3] (≥ 0).
        rng: draws the moves (same state → same result).
        k: states wanted; score: [L, 3] → score (higher: better, :func:`geometry_score`);
        cfg: annealing knobs.
    """
    proposals = []
    for ids, scores in options:
        top = np.argsort(-scores, kind="stable")[: cfg.top_options]
        w = np.exp((scores[top] - scores[top].max()) / cfg.option_temperature)
        proposals.append((ids[top], w))
    free = [l for l, (ids, _) in enumerate(proposals) if len(ids) > 1]

    def energy(xyz: np.ndarray) -> float:
        broken = len(xyz) > 1 and np.linalg.norm(np.diff(xyz, axis=0), axis=-1).max() > cfg.max_step
        return -score(xyz) + cfg.clash_weight * penalty(xyz) + cfg.break_energy * broken

    choice = list(first)
    xyz = build(choice)
    e = energy(xyz)
    visited: dict[tuple[int, ...], tuple[float, np.ndarray]] = {tuple(choice): (e, xyz)}
    moves = n_moves(len(free), len(xyz), cfg)
    for m in range(moves):
        t = cfg.t_start * (cfg.t_end / cfg.t_start) ** (m / max(moves - 1, 1))
        l = free[rng.integers(len(free))]
        ids, w = proposals[l]
        w = np.where(ids == choice[l], 0.0, w)
        new = list(choice)
        new[l] = int(ids[rng.choice(len(ids), p=w / w.sum())])
        key = tuple(new)
        if key in visited:
            e_new, xyz_new = visited[key]
        else:
            xyz_new = build(new)
            e_new = energy(xyz_new)
            visited[key] = (e_new, xyz_new)
        if e_new <= e or rng.random() < np.exp((e - e_new) / t):
            choice, e = new, e_new
    best = min(e for e, _ in visited.values())
    ok = {key: v for key, v in visited.items() if v[0] < best + cfg.break_energy / 2}
    return diverse(ok, k, cfg.min_rmsd)  # broken states only when the best one is


def diverse(
    visited: dict[tuple[int, ...], tuple[float, np.ndarray]], k: int, min_rmsd: float
) -> list[State]:
    """The ``k`` lowest-energy states, greedily kept ≥ ``min_rmsd`` apart when possible."""
    from rnapredict.score.superpose import superposed_rmsd

    order = sorted(visited, key=lambda key: (visited[key][0], key))
    kept: list[tuple[int, ...]] = []
    for threshold in (min_rmsd, None):
        for key in order:
            if len(kept) >= max(1, k):
                break
            if key in kept:
                continue
            x = visited[key][1]
            if threshold is None or all(
                superposed_rmsd(x, visited[j][1]) >= threshold for j in kept
            ):
                kept.append(key)
    return [(visited[key][1], list(key)) for key in kept]
