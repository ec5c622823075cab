"""Motif-library assembly: one secondary structure → helix graph → 3D C1′ candidates.

Placeholder until the motif library lands: the A-form rule, one candidate.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from rnapredict.prior.candidates import Candidate, aform_candidate
from rnapredict.prior.select import DEFAULT_SELECT, SelectConfig, select_candidates


def assemble(
    seq: str,
    ss: str,
    generator: torch.Generator,
    k: int = 1,
    library: object | None = None,
    ss_source: str = "input",
) -> list[Candidate]:
    """Up to ``k`` alternative 3D candidates for one secondary structure; never empty.

    Args:
        seq: sequence (``ACGUN``), length L; ss: dot-bracket of length L.
        generator: seeds the choice among library alternatives.
        k: alternatives wanted (different library instances / layouts).
        library: motif library (None: the shipped one); benches pass one built without a
            cross-validation fold.
        ss_source: recorded in each candidate's ``info``.
    """
    return [aform_candidate(seq, ss, ss_source)]


def assembly_candidates(
    seq: str,
    ss: str,
    ss_source: str,
    n: int,
    generator: torch.Generator,
    *,
    library: object | None = None,
    constrain: Callable[..., None] | None = None,
    config: SelectConfig = DEFAULT_SELECT,
) -> list[Candidate]:
    """Up to ``n`` candidates (good and different) for a record, the first built on ``ss``.

    A given structure (``ss_source == "input"``) is kept for every candidate (diversity from
    library alternatives only); otherwise ``ss`` (MFE) plus distinct structures sampled from
    ViennaRNA's partition function (:mod:`rnapredict.prior.ensemble`), each assembled with
    ``config.alternatives`` library alternatives, and :func:`select_candidates` picks ``n``.

    Args:
        seq: [L] sequence; ss: [L] the record's structure; n: candidates wanted.
        generator: seeds the structure sampling and the library choices.
        library: motif library (None: the shipped one); constrain: probing soft constraints
            for the structure sampling (:data:`rnapredict.prior.ensemble.Constrain`).
    """
    from rnapredict.prior.ensemble import sample_structures

    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    if ss_source == "input":
        structures = [ss]
        k = max(n, config.alternatives)
    elif len(seq) > config.pool_max_len:
        structures = sample_structures(seq, ss, n, seed, constrain)
        k = 1
    else:
        m = max(n, round(n * config.structures_per_model))
        structures = sample_structures(seq, ss, m, seed, constrain)
        k = config.alternatives
    pool: list[Candidate] = []
    for r, one in enumerate(structures):
        source = ss_source if r == 0 else f"{ss_source}-sample"
        pool += assemble(seq, one, generator, k, library, source)
    return select_candidates(pool, n, config)
