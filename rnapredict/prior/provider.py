"""All candidate sources of a record combined: templates first, then the structural prior."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rnapredict.prior.candidates import Candidate, aform_candidate

PRIORS = ("aform", "assembly")


@dataclass(frozen=True)
class PriorOptions:
    """How a record's starting candidates are made.

    Attributes:
        prior: ``assembly`` (motif-library assembly over a secondary-structure ensemble) or
            ``aform`` (one A-form candidate from the given/MFE structure; the old path).
        n: number of candidates wanted (the ensemble size S).
    """

    prior: str = "assembly"
    n: int = 5


def build_candidates(
    seq: str, ss: str, ss_source: str, opts: PriorOptions, generator: torch.Generator
) -> list[Candidate]:
    """1 … ``opts.n`` candidates for one record; never empty, never raises for lack of a match.

    Args:
        seq: sequence (``ACGUN``), length L.
        ss: the record's structure (given, or ViennaRNA MFE) — always the first candidate's.
        ss_source: ``input`` or ``vienna`` (a given structure is not replaced by samples).
        generator: the record's generator (candidate choice is seeded by it).
    """
    if opts.prior not in PRIORS:
        raise ValueError(f"unknown prior {opts.prior!r} (choose from {', '.join(PRIORS)})")
    if opts.prior == "aform":
        return [aform_candidate(seq, ss, ss_source)]
    from rnapredict.prior.assembly import assembly_candidates

    cands = assembly_candidates(seq, ss, ss_source, opts.n, generator)
    return cands or [aform_candidate(seq, ss, ss_source)]
