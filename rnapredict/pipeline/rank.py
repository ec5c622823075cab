"""Ranking: the score a sample is ranked by, and the order of an ensemble's models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Ensemble:
    """Unranked samples of one chain.

    Attributes:
        coords: [S, L, 3] C1′ coordinates, Å.
        plddt: [S, L] pLDDT 0–100.
        ptm: [S] pTM-like score 0–1.
        kept_start: [S] bool — the sample is its starting candidate, unrefined, because the
            refinement broke the candidate's base pairs
            (:func:`rnapredict.engine.sampling.broken_pairs`).
    """

    coords: torch.Tensor
    plddt: torch.Tensor
    ptm: torch.Tensor
    kept_start: torch.Tensor

    @property
    def ranking_score(self) -> torch.Tensor:
        """[S] see :func:`ranking_score`."""
        return ranking_score(self.ptm, self.plddt)


def ranking_score(ptm: torch.Tensor, plddt: torch.Tensor) -> torch.Tensor:
    """[S] 0.8·pTM + 0.2·mean pLDDT / 100 (AF3-like) from pTM [S] and pLDDT [S, L]."""
    return 0.8 * ptm + 0.2 * plddt.mean(-1) / 100.0


def rank_order(score: np.ndarray, n: int, passed: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``n`` best-scoring samples (score [S]; stable order on ties).

    With ``passed`` [S] bool (the all-atom model passes the check): the best physical ones, or,
    when none is physical, the best of all (the record check then says why).
    """
    order = np.argsort(-score, kind="stable")
    if passed is None:
        return order[:n]
    good = order[passed[order]]
    return (good if len(good) else order)[:n]
