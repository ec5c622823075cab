"""Bring pseudoknot partners close: position-based relaxation of unpaired residues.

The nested layout leaves pseudoknotted partners wherever their loops put them. Here only the
residues outside nested stems move (stems stay ideal): each round pulls every pseudoknot pair
towards the A-form pair distance and then restores backbone steps to at most
:data:`MAX_STEP`, splitting each correction between the movable ends. Deterministic.
"""

from __future__ import annotations

import numpy as np

#: C1′–C1′ across a base pair (Å), as in ideal A-form.
PAIR = 10.5
#: Longest backbone step the relaxation allows (Å); A-form strands step 5.35–5.9 Å.
MAX_STEP = 6.5
#: Share of a pseudoknot pair's excess distance corrected per round (soft: the backbone wins).
PK_STIFFNESS = 0.2
#: Backbone passes per round (each propagates a correction one residue further).
CHAIN_PASSES = 4
#: Backbone-only passes at the end, until every step is within its limit.
FINAL_PASSES = 2000


def pull_pseudoknots(
    xyz: np.ndarray, pk: np.ndarray, movable: np.ndarray, rounds: int = 100
) -> np.ndarray:
    """Copy of ``xyz`` [L, 3] (Å) with pseudoknot pairs ``pk`` [P, 2] pulled towards 10.5 Å.

    ``movable`` [L] bool: residues that may move (unpaired in the nested layout).
    """
    x = np.array(xyz, dtype=np.float64)
    if not len(pk) or not movable.any():
        return x
    mov = movable.astype(np.float64)
    i = np.arange(len(x) - 1)
    # Steps never need to get shorter than they were laid out (native loops reach ~11 Å).
    step_max = np.maximum(MAX_STEP, np.linalg.norm(x[1:] - x[:-1], axis=-1))
    pairs = (pk[:, 0], pk[:, 1], np.full(len(pk), PAIR), PK_STIFFNESS)
    chain = (i, i + 1, step_max, 1.0)

    def relax(p: np.ndarray, q: np.ndarray, target: np.ndarray, k: float) -> float:
        d = x[q] - x[p]
        n = np.linalg.norm(d, axis=-1)
        excess = k * np.clip(n - target, 0.0, None)
        wp, wq = mov[p], mov[q]
        share = excess / np.maximum(wp + wq, 1e-9)
        step = (share / np.maximum(n, 1e-9))[:, None] * d
        delta = np.zeros_like(x)
        np.add.at(delta, p, wp[:, None] * step)
        np.add.at(delta, q, -wq[:, None] * step)
        x[:] += delta
        return float((excess * ((wp + wq) > 0)).max(initial=0.0))

    for _ in range(rounds):
        for c in (pairs, *([chain] * CHAIN_PASSES)):
            relax(*c)
    for _ in range(FINAL_PASSES):  # the backbone has the last word
        if relax(*chain) < 0.01:
            break
    return x
