"""Close pseudoknots: place them from mined instances, else pull partners together.

The nested layout leaves pseudoknotted partners wherever their loops put them.
:func:`close_pseudoknots` first lays out every pseudoknot stem that matches a library
instance (:mod:`rnapredict.prior.pkmotif`: both strands, and for kissing loops the other
hairpin's subtree, take the native geometry relative to the anchor stem). Pairs left over
are pulled by :func:`pull_pseudoknots`: only residues outside nested stems (and outside the
placed strands) move; each round pulls every pseudoknot pair towards the A-form pair
distance and then restores backbone steps, splitting each correction between the movable
ends. Deterministic for a given generator state.
"""

from __future__ import annotations

import numpy as np

from rnapredict.prior.helixgraph import HelixGraph
from rnapredict.prior.pkmotif import PkConfig, PkLibrary, pk_sites, place_pk
from rnapredict.prior.steric import clash_pairs

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
#: The final passes stop early once the movable steps' total excess length has shrunk by less
#: than :data:`STALL_TOL` (relative) over :data:`STALL_PASSES` passes: a step pinned between
#: fixed residues never closes, and its passes were 3/4 of a 1,000-nt fold (random sequence:
#: 107 of 118 s of candidates; 297k passes → 110k, the same steps over 12 Å or fewer).
STALL_PASSES = 50
STALL_TOL = 1e-3
#: A backbone step longer than this (Å) after closing is broken (natives reach ~11 Å).
LONG_STEP = 12.0


def pull_pseudoknots(
    xyz: np.ndarray,
    pk: np.ndarray,
    movable: np.ndarray,
    rounds: int = 100,
    step_max: np.ndarray | None = None,
) -> np.ndarray:
    """Copy of ``xyz`` [L, 3] (Å) with pseudoknot pairs ``pk`` [P, 2] pulled towards 10.5 Å.

    ``movable`` [L] bool: residues that may move (unpaired in the nested layout).
    ``step_max`` [L - 1]: longest allowed backbone steps (default: as laid out, at least
    :data:`MAX_STEP`). With no pairs only the backbone steps are restored.
    """
    x = np.array(xyz, dtype=np.float64)
    if not movable.any() or len(x) < 2:
        return x
    mov = movable.astype(np.float64)
    i = np.arange(len(x) - 1)
    if step_max is None:  # steps need not get shorter than laid out (native loops reach ~11 Å)
        step_max = np.maximum(MAX_STEP, np.linalg.norm(x[1:] - x[:-1], axis=-1))
    pairs = (pk[:, 0], pk[:, 1], np.full(len(pk), PAIR), PK_STIFFNESS, False)
    chain = (i, i + 1, step_max, 1.0, True)

    def relax(
        p: np.ndarray, q: np.ndarray, target: np.ndarray, k: float, consecutive: bool
    ) -> np.ndarray:
        """Move ``p``, ``q`` towards ``target``; returns the excess of each movable pair.
        ``consecutive``: ``q = p + 1`` over the whole chain (updated by slices)."""
        d = x[q] - x[p]
        n = np.linalg.norm(d, axis=-1)
        excess = k * np.clip(n - target, 0.0, None)
        wp, wq = mov[p], mov[q]
        share = excess / np.maximum(wp + wq, 1e-9)
        step = (share / np.maximum(n, 1e-9))[:, None] * d
        delta = np.zeros_like(x)
        if consecutive:  # slices: the bytes of np.add.at, 10× faster
            delta[:-1] += wp[:, None] * step
            delta[1:] -= wq[:, None] * step
        else:
            np.add.at(delta, p, wp[:, None] * step)
            np.add.at(delta, q, -wq[:, None] * step)
        x[:] += delta
        return excess * ((wp + wq) > 0)

    for _ in range(rounds if len(pk) else 0):
        for c in (pairs, *([chain] * CHAIN_PASSES)):
            relax(*c)
    total: list[float] = []
    for it in range(FINAL_PASSES):  # the backbone has the last word
        excess = relax(*chain)
        if excess.max(initial=0.0) < 0.01:
            break
        total.append(float(excess.sum()))
        if it >= STALL_PASSES and total[-1] > (1.0 - STALL_TOL) * total[-1 - STALL_PASSES]:
            break
    return x


def _settle(
    x: np.ndarray, before: np.ndarray, fixed: np.ndarray, native: np.ndarray, pk: np.ndarray
) -> np.ndarray:
    """Pull ``pk`` [P, 2] together and restore backbone steps of ``x`` [L, 3]; steps between
    two ``native`` [L] residues (placed from an instance) keep their current length, the
    others their laid-out length ``before`` [L - 1] (at least :data:`MAX_STEP`)."""
    after = np.linalg.norm(np.diff(x, axis=0), axis=-1)
    step_max = np.maximum(MAX_STEP, np.where(native[1:] & native[:-1], after, before))
    return pull_pseudoknots(x, pk, ~fixed, step_max=step_max)


def _faults(x: np.ndarray) -> tuple[int, int]:
    """Backbone steps longer than :data:`LONG_STEP` and C1′ contacts (< 3.5 Å)."""
    steps = np.linalg.norm(np.diff(x, axis=0), axis=-1)
    return int((steps > LONG_STEP).sum()), len(clash_pairs(x))


def close_pseudoknots(
    graph: HelixGraph,
    seq: str,
    xyz: np.ndarray,
    library: PkLibrary | None,
    rng: np.random.Generator | None = None,
    pull: bool = True,
    cfg: PkConfig = PkConfig(),
) -> tuple[np.ndarray, list[int]]:
    """``xyz`` [L, 3] with the pseudoknots of ``graph`` closed, and the instance used per site.

    Each pseudoknot stem that matches an instance of ``library`` is placed from it (``rng``
    None: the best match; else sampled by score) and kept when, after the backbone is
    restored, it adds no backbone step over :data:`LONG_STEP` and no C1′ contact; ``-1`` marks a site
    left to the pull. Backbone steps are restored by moving unpaired residues other than
    the placed pseudoknot pairs; remaining pseudoknot pairs are pulled together (``pull``).
    """
    pk = np.asarray(graph.pk_pairs, dtype=np.int64).reshape(-1, 2)
    x = np.array(xyz, dtype=np.float64)
    if not len(pk):
        return x, []
    before = np.linalg.norm(np.diff(x, axis=0), axis=-1)
    fixed = np.zeros(len(x), dtype=bool)
    for st in graph.stems:
        fixed[st.strand1()] = fixed[st.strand2()] = True
    native = np.zeros(len(x), dtype=bool)
    none = pk[:0]
    faults_now = _faults(_settle(x, before, fixed, native, none))
    choices = []
    for site in pk_sites(graph, seq):
        ids, scores = (np.zeros(0), None) if library is None else library.match(site, cfg)
        if not len(ids) or site.pairs < cfg.min_pairs:
            choices.append(-1)
            continue
        pick = 0
        if rng is not None and len(ids) > 1:
            w = np.exp((scores - scores.max()) / cfg.temperature)
            pick = int(rng.choice(len(ids), p=w / w.sum()))
        inst = int(ids[pick])
        y, placed = place_pk(graph, x, site, library.instances[inst])  # type: ignore[union-attr]
        fixed_y, native_y = fixed.copy(), native.copy()
        fixed_y[site.paired()] = native_y[placed] = True
        faults_y = _faults(_settle(y, before, fixed_y, native_y, none))
        if faults_y[0] > faults_now[0] or faults_y[1] > faults_now[1]:
            choices.append(-1)
            continue
        x, fixed, native, faults_now = y, fixed_y, native_y, faults_y
        choices.append(inst)
    left = pk[~(fixed[pk[:, 0]] & fixed[pk[:, 1]])] if pull else none
    return _settle(x, before, fixed, native, left), choices
