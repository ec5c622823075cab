"""Motif-library assembly: one secondary structure → helix graph → 3D C1′ candidates.

Placeholder until the motif library lands: the A-form rule, one candidate.
"""

from __future__ import annotations

import torch

from rnapredict.prior.candidates import Candidate, aform_candidate


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
    seq: str, ss: str, ss_source: str, n: int, generator: torch.Generator
) -> list[Candidate]:
    """Up to ``n`` candidates (good and different) for a record, the first built on ``ss``."""
    return assemble(seq, ss, generator, 1, None, ss_source)
