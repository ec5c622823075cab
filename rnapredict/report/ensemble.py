"""How much the ranked models of one record agree: superposition on model 1, pairwise C1′ RMSD
and clashscores, all through :mod:`rnapredict.score` (nothing re-implemented here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnapredict.io.structure import RnaStructure
from rnapredict.score.clash import clashscore
from rnapredict.score.superpose import apply, kabsch, rmsd

ATOM = "C1'"


@dataclass(frozen=True)
class Ensemble:
    """Models superposed on the first one, with their agreement.

    Attributes:
        models: [S] models, model 1 unchanged, the others moved onto it (C1′ Kabsch fit).
        rmsd: [S, S] C1′ RMSD (Å) after optimal superposition of each pair; NaN where fewer
            than three common C1′ atoms.
        clashscore: [S] clashes per 1,000 heavy atoms (None when not computed).
    """

    models: list[RnaStructure]
    rmsd: np.ndarray
    clashscore: list[float] | None


def _common_c1(a: RnaStructure, b: RnaStructure) -> tuple[np.ndarray, np.ndarray]:
    """C1′ coordinates [K, 3] of residues both models have (matched by index; same length)."""
    xa, pa = a.atom_coords(ATOM)
    xb, pb = b.atom_coords(ATOM)
    n = min(len(pa), len(pb))
    keep = pa[:n] & pb[:n]
    return xa[:n][keep], xb[:n][keep]


def superpose_on_first(models: Sequence[RnaStructure]) -> list[RnaStructure]:
    """Each model moved onto ``models[0]`` by its C1′ atoms (the first one returned as is)."""
    if not models:
        return []
    out = [models[0]]
    for m in models[1:]:
        mobile, target = _common_c1(m, models[0])
        if len(mobile) < 3:
            out.append(m)
            continue
        r, t = kabsch(mobile, target)
        out.append(m.with_coords(apply(m.coords, r, t)))
    return out


def pairwise_rmsd(models: Sequence[RnaStructure]) -> np.ndarray:
    """[S, S] C1′ RMSD (Å) between every pair of models after optimal superposition."""
    s = len(models)
    out = np.zeros((s, s))
    for i in range(s):
        for j in range(i + 1, s):
            a, b = _common_c1(models[i], models[j])
            if len(a) < 3:
                value = float("nan")
            else:
                r, t = kabsch(a, b)
                value = rmsd(apply(a, r, t), b)
            out[i, j] = out[j, i] = value
    return out


def analyse(models: Sequence[RnaStructure], *, clashes: bool = True) -> Ensemble:
    """Superposed models, pairwise C1′ RMSD and (optionally) each model's clashscore."""
    scores = [float(clashscore(m).score) for m in models] if clashes else None
    return Ensemble(superpose_on_first(models), pairwise_rmsd(models), scores)
