"""Motif-library assembly: secondary structure ensemble → helix graph → 3D C1′ candidates.

Placeholder until the motif library lands: one A-form candidate per call.
"""

from __future__ import annotations

import torch

from rnapredict.prior.candidates import Candidate, aform_candidate


def assembly_candidates(
    seq: str, ss: str, ss_source: str, n: int, generator: torch.Generator
) -> list[Candidate]:
    """Up to ``n`` assembled candidates (good and different), the first built on ``ss``."""
    return [aform_candidate(seq, ss, ss_source)]
