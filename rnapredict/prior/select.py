"""Candidate selection: n starting points that are plausible *and* different.

Cheap, before any diffusion: the learned coarse-grained score
(:mod:`rnapredict.prior.cgscore`, when shipped) or else a compactness score (radius of gyration
against the Rg ≈ a·L^(1/3) law of compact RNAs; a = 5.5 Å is the median over train chains
≥ 30 nt) orders the pool, and a greedy pass keeps a candidate only if its C1′ RMSD (after optimal
superposition) to every candidate already kept is at least ``min_rmsd`` (relaxed to "not
identical" when too few qualify). The record's own structure (given or MFE) always comes first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnapredict.geometry.candidate import Candidate
from rnapredict.score.superpose import superposed_rmsd


@dataclass(frozen=True)
class SelectConfig:
    """Settings of the candidate selection.

    Attributes:
        min_rmsd: C1′ RMSD (Å) a kept candidate keeps from every other kept one when possible.
        rg_coef: a in the compact-RNA law Rg ≈ a·L^(1/3) (Å).
        structures_per_model: secondary structures sampled per wanted candidate (pool size;
            3.2: 16 structures for 5 models, the pool the learned score was measured on).
        alternatives: library alternatives assembled per structure (``assemble(..., k)``).
        pool_max_len: longer sequences (nt) sample one structure per wanted candidate and
            one alternative each (assembly time grows with L × pool size).
        learned: order the pool by the shipped coarse-grained score when there is one.
        search: build each structure's alternatives by annealing the per-loop choices under
            the score (:mod:`rnapredict.prior.search`) instead of best match + samples.
    """

    min_rmsd: float = 4.0
    rg_coef: float = 5.5
    structures_per_model: float = 3.2
    alternatives: int = 2
    pool_max_len: int = 1000
    learned: bool = True
    search: bool = True


DEFAULT_SELECT = SelectConfig()


def radius_of_gyration(coords: np.ndarray) -> float:
    """Rg (Å) of [L, 3] coordinates (Å), unweighted."""
    x = np.asarray(coords, dtype=np.float64)
    return float(np.sqrt(((x - x.mean(0)) ** 2).sum(1).mean())) if len(x) else 0.0


def compactness_penalty(coords: np.ndarray, rg_coef: float = DEFAULT_SELECT.rg_coef) -> float:
    """|ln(Rg / (a·L^(1/3)))| of [L, 3] C1′ coordinates (Å): 0 for a typical compact RNA."""
    n = len(coords)
    if n < 3:
        return 0.0
    rg = max(radius_of_gyration(coords), 1e-6)
    return abs(math.log(rg / (rg_coef * n ** (1.0 / 3.0))))


def select_candidates(
    pool: list[Candidate],
    n: int,
    config: SelectConfig = DEFAULT_SELECT,
    quality: np.ndarray | None = None,
) -> list[Candidate]:
    """Up to ``n`` candidates from ``pool``: ``pool[0]`` first, then good and different.

    Args:
        pool: candidates of one record (same length L), ``pool[0]`` built on the record's own
            structure; later entries in order of preference (likeliest structure first).
        n: candidates wanted.
        config: diversity threshold and score weights.
        quality: [len(pool)] higher = better (the learned score); None: compactness.
    Returns:
        ``min(n, #distinct)`` candidates, no two with identical coordinates and structure.
    """
    if not pool or n <= 0:
        return []
    if quality is not None:
        score = [-float(q) for q in quality]
    else:
        score = [compactness_penalty(c.coords, config.rg_coef) for c in pool]
    order = sorted(range(1, len(pool)), key=lambda i: (score[i], i))
    chosen = [0]
    for threshold in (config.min_rmsd, 1e-6):
        for i in order:
            if len(chosen) == n:
                break
            if i in chosen:
                continue
            c = pool[i]
            if all(_differs(c, pool[j], threshold) for j in chosen):
                chosen.append(i)
    return [pool[i] for i in chosen]


def _differs(a: Candidate, b: Candidate, threshold: float) -> bool:
    if len(a.coords) < 3:
        return a.ss != b.ss or not np.array_equal(a.coords, b.coords)
    return superposed_rmsd(a.coords, b.coords) >= threshold
