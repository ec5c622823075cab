"""Motif-library assembly: one secondary structure → helix graph → 3D C1′ candidates.

1. :func:`rnapredict.prior.helixgraph.helix_graph` splits the nested level into stems and loops.
2. Every loop gets a geometry: a library instance matched on kind, strand lengths and sequence
   (candidate 1 takes each loop's best match, the others sample by score), or the fallback —
   the same loop measured on the A-form layout (:func:`rnapredict.geometry.aform.aform_c1`),
   so the assembly never fails and reduces to the A-form rule where nothing matches.
3. :func:`rnapredict.prior.place.place` builds ideal A-form stems top-down.
4. Steric check: C1′ pairs closer than 3.5 Å (strands through each other), consecutive C1′
   farther than :data:`MAX_STEP` and pseudoknot partners farther than :data:`PK_DIST` are
   "bad pairs"; the loop that decides their
   relative placement (lowest common ancestor) is resampled, a few rounds, best kept.
5. Pseudoknot stems and kissing loops are placed from mined instances, partners still
   apart are pulled together by moving unpaired residues
   (:func:`rnapredict.prior.pseudoknot.close_pseudoknots`); any remaining contact is pushed
   apart (:func:`rnapredict.prior.steric.push_apart`).
6. Long chains (150–500 nt): domains (stem subtrees of at most 150 nt) are packed
   compactly around the rest as rigid bodies (:func:`rnapredict.prior.domains.pack_domains`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from rnapredict.features.vienna import DEFAULT_CONFIG as DEFAULT_VIENNA
from rnapredict.features.vienna import ViennaConfig
from rnapredict.geometry.aform import aform_c1
from rnapredict.geometry.candidate import Candidate
from rnapredict.prior.domains import DEFAULT_PACK, PackConfig, pack_domains
from rnapredict.prior.helixgraph import helix_graph, loop_tree
from rnapredict.prior.instances import (
    LibraryConfig,
    MotifLibrary,
    loop_kind,
    loop_seq,
    query_lengths,
)
from rnapredict.prior.library import default_library
from rnapredict.prior.motifs import LoopGeom, measure_loop
from rnapredict.prior.place import place
from rnapredict.prior.pseudoknot import close_pseudoknots
from rnapredict.prior.search import SearchConfig
from rnapredict.prior.select import DEFAULT_SELECT, SelectConfig, select_candidates
from rnapredict.prior.steric import clash_pairs, push_apart

if TYPE_CHECKING:
    from rnapredict.prior.cgscore import CgScore

#: Pseudoknot partners farther apart than this (Å, C1′) count as unsatisfied.
PK_DIST = 14.0
#: Consecutive C1′ farther apart than this (Å) are a bad step (natives reach ~11 in junctions).
MAX_STEP = 12.0
#: Separates loop choices from pseudoknot-instance choices in a candidate's identity key.
PK_KEY = -(10**9)
#: Entries listed in a candidate's ``info["instances"]`` (the rest are counted).
MAX_INFO = 20


@dataclass(frozen=True)
class AssemblyConfig:
    """Assembly knobs.

    Attributes:
        rounds: steric / pseudoknot resampling rounds per candidate.
        fallback_score: score of the A-form fallback among a loop's options when sampling.
        pull_pk: pull pseudoknot partners no instance placed together afterwards (unpaired
            residues move).
        match: library matching weights.
        pack: domain packing of long chains (None: leave the assembled layout).
    """

    rounds: int = 8
    fallback_score: float = -3.0
    pull_pk: bool = True
    match: LibraryConfig = LibraryConfig()
    pack: PackConfig | None = DEFAULT_PACK


#: Configuration :func:`assemble` uses (benches may swap it to compare settings).
DEFAULT_CONFIG = AssemblyConfig()


def _lca(a: int, b: int, parent: np.ndarray, depth: np.ndarray) -> int:
    while depth[a] > depth[b]:
        a = int(parent[a])
    while depth[b] > depth[a]:
        b = int(parent[b])
    while a != b:
        a, b = int(parent[a]), int(parent[b])
    return a


def _bad_pairs(xyz: np.ndarray, pk: np.ndarray) -> tuple[np.ndarray, float]:
    """Clashes, over-long backbone steps and distant pseudoknot partners [P, 2], and a
    penalty (lower: better)."""
    step = np.linalg.norm(np.diff(xyz, axis=0), axis=-1)
    long = np.flatnonzero(step > MAX_STEP)
    clash = np.concatenate([clash_pairs(xyz), np.stack([long, long + 1], axis=-1)])
    far = np.zeros((0, 2), dtype=np.int64)
    excess = 0.0
    if len(pk):
        d = np.linalg.norm(xyz[pk[:, 0]] - xyz[pk[:, 1]], axis=-1)
        far = pk[d > PK_DIST]
        excess = float(np.clip(d - PK_DIST, 0, None).sum())
    return np.concatenate([clash, far]), len(clash) + 0.05 * excess + 0.5 * float(
        (step[long] - MAX_STEP).sum()
    )


def assemble(
    seq: str,
    ss: str,
    generator: torch.Generator,
    k: int = 1,
    library: object | None = None,
    ss_source: str = "input",
    search: SearchConfig | None = None,
    learned: CgScore | None = None,
) -> list[Candidate]:
    """Up to ``k`` alternative 3D candidates for one secondary structure; never empty.

    Args:
        seq: sequence (``ACGUN``), length L; ss: dot-bracket of length L.
        generator: seeds the choice among library alternatives.
        k: alternatives wanted (different library instances / layouts).
        library: motif library (None: the shipped one); benches pass one built without a
            cross-validation fold.
        ss_source: recorded in each candidate's ``info``.
        search: anneal the per-loop choices under the learned score
            (:mod:`rnapredict.prior.search`) instead of best match + sampled alternatives.
        learned: the score the search anneals under (None: the shipped one); the score's
            builder passes an earlier file to rebuild reproducibly.
    """
    cfg = DEFAULT_CONFIG
    seq = seq.upper().replace("T", "U")
    lib = library if isinstance(library, MotifLibrary) else default_library()
    base = np.asarray(aform_c1(seq, ss), dtype=np.float64)
    graph = helix_graph(ss)
    if not graph.stems:
        return [Candidate(ss, base, "assembly", {"ss_source": ss_source, "instances": []})]
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
    n_loops = len(graph.loops)
    fallback = [measure_loop(graph, base, l) for l in range(n_loops)]
    # Options per loop: library indices and scores (fallback = index -1).
    options: list[tuple[np.ndarray, np.ndarray]] = []
    for l, lp in enumerate(graph.loops):
        ids, scores = np.zeros(0, dtype=np.int64), np.zeros(0)
        kind = loop_kind(lp.kind)
        if lib is not None and (kind != "exterior" or len(lp.children) >= 2):
            ids, scores = lib.match(
                kind, query_lengths(graph, l), loop_seq(graph, seq, l), cfg.match
            )
        options.append((np.append(ids, -1), np.append(scores, cfg.fallback_score)))
    if search is not None:
        from rnapredict.prior.search import with_stacking

        options = with_stacking(graph, options, search)
    owner, parent, depth = loop_tree(graph)
    pk = np.asarray(graph.pk_pairs, dtype=np.int64).reshape(-1, 2)
    stacked: dict[tuple[int, int], LoopGeom] = {}

    def sample(l: int) -> int:
        ids, scores = options[l]
        w = np.exp((scores - scores.max()) / cfg.match.temperature)
        return int(ids[rng.choice(len(ids), p=w / w.sum())])

    def geom(l: int, choice: int) -> LoopGeom:
        if choice <= -2:  # coaxial-stacking variant -2 - v of the loop's best match
            if (l, choice) not in stacked:
                from rnapredict.prior.coaxial import stack_variant

                stacked[l, choice] = stack_variant(geom(l, int(options[l][0][0])), -2 - choice)
            return stacked[l, choice]
        if choice < 0:
            return fallback[l]
        g = lib.geoms[choice]  # type: ignore[union-attr]
        if graph.loops[l].parent < 0:  # exterior: tails from the fallback
            fb = fallback[l].strands
            return LoopGeom(g.transforms, (fb[0], *g.strands, fb[-1]), g.fit_rmsd)
        return g

    def build(choice: list[int]) -> np.ndarray:
        return place(graph, [geom(l, ch) for l, ch in enumerate(choice)])

    def resampled(c: int) -> tuple[np.ndarray, list[int]]:
        choice = [int(options[l][0][0]) if c == 0 else sample(l) for l in range(n_loops)]
        best = None
        for _ in range(cfg.rounds):
            xyz = build(choice)
            bad, penalty = _bad_pairs(xyz, pk)
            if best is None or penalty < best[0]:
                best = (penalty, xyz, list(choice))
            if not len(bad):
                break
            a, b = bad[rng.integers(len(bad))]
            oa, ob = int(owner[a]), int(owner[b])
            if b == a + 1:  # a long step: the loop holding the strand decides it
                l = oa if depth[oa] >= depth[ob] else ob
            else:
                l = _lca(oa, ob, parent, depth)
            choice[l] = sample(l)
        assert best is not None
        return best[1], best[2]

    if search is not None:
        from rnapredict.prior.search import anneal, geometry_score

        first = [int(options[l][0][0]) for l in range(n_loops)]
        penalty = lambda x: _bad_pairs(x, pk)[1]  # noqa: E731
        found = anneal(first, options, build, penalty, rng, k, geometry_score(ss, learned), search)
    else:
        found = [resampled(c) for c in range(max(1, k))]
    out: list[Candidate] = []
    seen: set[tuple[int, ...]] = set()
    pk_lib = lib.pk if lib is not None else None
    for c, (xyz, choice) in enumerate(found):
        xyz, pk_choice = close_pseudoknots(
            graph, seq, xyz, pk_lib, None if c == 0 else rng, cfg.pull_pk
        )
        if cfg.pack is not None:
            xyz = pack_domains(graph, xyz, rng, cfg.pack)
        key = (*choice, PK_KEY, *pk_choice)
        if key in seen and c > 0:
            continue
        seen.add(key)
        used = [lib.instances[ch].info() for ch in choice if ch >= 0] if lib else []  # type: ignore[union-attr]
        used += [pk_lib.instances[ch].info() for ch in pk_choice if ch >= 0] if pk_lib else []
        info = {
            "ss_source": ss_source,
            "instances": used[:MAX_INFO],
            "n_instances": len(used),
            "n_fallback": sum(1 for ch in choice if ch == -1),
            "n_stacked": sum(1 for ch in choice if ch <= -2),
            "n_pk_placed": sum(1 for ch in pk_choice if ch >= 0),
            "clashes_pushed": int(len(clash_pairs(xyz))),
        }
        out.append(Candidate(ss, push_apart(xyz), "assembly", info))
    return out


def _with_proposed_pk(
    seq: str,
    ss: str,
    generator: torch.Generator,
    k: int,
    library: object | None,
    source: str,
    search: SearchConfig | None = None,
) -> list[Candidate]:
    """Candidates of ``ss`` plus the pseudoknot stems :func:`propose_pk` finds (none: [])."""
    from rnapredict.prior.pkpairs import propose_pk, with_pseudoknots

    stems = propose_pk(seq, ss)
    if not stems:
        return []
    return assemble(seq, with_pseudoknots(ss, stems), generator, k, library, f"{source}+pk", search)


def assembly_candidates(
    seq: str,
    ss: str,
    ss_source: str,
    n: int,
    generator: torch.Generator,
    *,
    library: object | None = None,
    constrain: Callable[..., None] | None = None,
    config: SelectConfig | None = None,
    vienna: ViennaConfig | None = None,
) -> list[Candidate]:
    """Up to ``n`` candidates (good and different) for a record, the first built on ``ss``.

    A given structure (``ss_source == "input"``) is kept for every candidate (diversity from
    library alternatives only); otherwise ``ss`` (MFE) plus distinct structures sampled from
    ViennaRNA's partition function (:mod:`rnapredict.prior.ensemble`), each assembled with
    ``config.alternatives`` library alternatives — and, where
    :func:`rnapredict.prior.pkpairs.propose_pk` finds pseudoknot stems on a structure, the
    same structure with them (``ss_source`` ``…+pk``) — and :func:`select_candidates` picks
    ``n``.

    Args:
        seq: [L] sequence; ss: [L] the record's structure; n: candidates wanted.
        generator: seeds the structure sampling and the library choices.
        library: motif library (None: the shipped one); constrain: probing soft constraints
            for the structure sampling (:data:`rnapredict.prior.ensemble.Constrain`).
        config: selection settings (None: :data:`DEFAULT_SELECT`, which benches may swap).
        vienna: energy parameters of the sampled structures (None: ViennaRNA wrappers'
            default, :data:`rnapredict.features.vienna.DEFAULT_CONFIG`).
    """
    from rnapredict.prior.ensemble import sample_structures
    from rnapredict.prior.search import DEFAULT_SEARCH

    config = config or DEFAULT_SELECT
    vienna = vienna or DEFAULT_VIENNA
    search = DEFAULT_SEARCH if config.search else None

    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    if ss_source == "input":
        structures = [ss]
        k = max(n, config.alternatives)
    elif len(seq) > config.pool_max_len:
        structures = sample_structures(seq, ss, n, seed, constrain, vienna=vienna)
        k = 1
    else:
        m = max(n, round(n * config.structures_per_model))
        structures = sample_structures(seq, ss, m, seed, constrain, vienna=vienna)
        k = config.alternatives
    pool: list[Candidate] = []
    for r, one in enumerate(structures):
        source = ss_source if r == 0 else f"{ss_source}-sample"
        pool += assemble(seq, one, generator, k, library, source, search)
        if ss_source != "input" and len(seq) <= config.pool_max_len:
            pool += _with_proposed_pk(seq, one, generator, k, library, source, search)
    quality = None
    if config.learned and len(pool) > n:
        from rnapredict.prior.cgscore import default_cgscore

        score = default_cgscore()
        if score is not None:
            quality = score(seq, np.stack([c.coords for c in pool]), [c.ss for c in pool])
    return select_candidates(pool, n, config, quality)
