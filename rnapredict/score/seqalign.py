"""Residue correspondence from a global sequence alignment (``score --align sequence``).

For a model and a reference of slightly different sequence (a construct with extra, missing or
mutated residues), as OpenStructure and CASP assessment do: Needleman-Wunsch over the whole
sequences (Biopython's ``PairwiseAligner``, ``N`` a zero-score wildcard, end gaps free so
flanking residues of a construct cost nothing), then every metric over the aligned pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnapredict.errors import ScoringError


@dataclass(frozen=True)
class SequenceMatch:
    """A model ↔ reference residue correspondence from the sequences.

    Attributes:
        ref2model: [Lr] model residue index of each reference residue, -1 if unaligned.
        identity: identical / aligned pairs (0–1).
        coverage: aligned pairs / reference residues (0–1).
    """

    ref2model: np.ndarray
    identity: float
    coverage: float


#: Global alignment scores (nucleotides: a mismatch costs less than a gap).
SCORES = {"match": 2.0, "mismatch": -1.0, "gap_open": -4.0, "gap_extend": -1.0}


def align_sequences(model_seq: str, ref_seq: str) -> SequenceMatch:
    """Globally align ``model_seq`` to ``ref_seq`` (``ACGUN``) with :data:`SCORES`.

    Raises:
        ScoringError: an empty sequence, or no residue pair aligned.
    """
    from Bio.Align import PairwiseAligner

    if not model_seq or not ref_seq:
        raise ScoringError("cannot align an empty sequence")
    aligner = PairwiseAligner()
    aligner.mode = "global"
    aligner.match_score, aligner.mismatch_score = SCORES["match"], SCORES["mismatch"]
    aligner.open_gap_score = SCORES["gap_open"]
    aligner.extend_gap_score = SCORES["gap_extend"]
    aligner.end_gap_score = 0.0
    aligner.wildcard = "N"
    alignment = aligner.align(ref_seq, model_seq)[0]
    idx = alignment.indices  # [2, columns]: reference, model index; -1 in a gap
    both = (idx >= 0).all(axis=0)
    ref_i, model_i = idx[0, both], idx[1, both]
    if len(ref_i) == 0:
        raise ScoringError("the sequences have no aligned residue")
    ref2model = np.full(len(ref_seq), -1, dtype=np.int64)
    ref2model[ref_i] = model_i
    same = np.array(
        [ref_seq[r] == model_seq[m] for r, m in zip(ref_i, model_i, strict=True)], dtype=bool
    )
    return SequenceMatch(ref2model, float(same.mean()), len(ref_i) / len(ref_seq))
