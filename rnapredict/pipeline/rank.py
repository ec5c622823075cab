"""Ranking: the confidence of each sample and the order of an ensemble's models.

The network's confidence heads (pLDDT per residue, pTM) are blended with the agreement among
the record's samples (the ensemble's consensus, a classic selector for ensembles), with
weights fitted on leave-family-out CV targets (``bench/rank_eval.py``); models are ordered by
the AF3-like ranking score of the blended confidence, physical models first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnapredict.score.lddt import lddt
from rnapredict.score.threefit import three_fit_tm_sum
from rnapredict.score.tmsearch import d0_rna, d0_search_of

#: Highest pLDDT of an unknown (``N``) residue: the network sees no base there, so its
#: confidence says nothing about which nucleotide it is (an all-N record scored 99.75).
N_PLDDT_CAP = 30.0


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


@dataclass(frozen=True)
class RankConfig:
    """How the confidence of a record's samples is formed (fitted on CV, bench/rank_eval.py).

    With S ≥ 2 samples, per sample:

    - pLDDT = 100·clip(a·pLDDT_net/100 + b·agreement + c, 0, 1), ``plddt_blend`` = (a, b, c);
      agreement [L]: per-residue C1′ lDDT of the sample to each other sample, averaged;
    - pTM = clip(a·pTM_net + b·consensus + c, 0, 1), ``ptm_blend`` = (a, b, c); consensus: the
      mean C1′ TM-score of the sample to the others (three Kabsch fits, no superposition search,
      so O(L) per pair);
    - ranking score = 0.8·pTM + 0.2·mean pLDDT/100 of the blended values.

    A lone sample keeps the network's values. ``plddt_blend = (1, 0, 0)`` and
    ``ptm_blend = (1, 0, 0)`` give the network's confidence and its order.
    """

    plddt_blend: tuple[float, float, float] = (0.756, 0.353, -0.101)
    ptm_blend: tuple[float, float, float] = (0.267, 0.362, 0.047)

    @property
    def described(self) -> dict[str, object]:
        """What ``confidence.json`` says about the ranking (``ranked_by``)."""
        return {
            "score": "0.8·pTM + 0.2·mean pLDDT/100, physical models first",
            "plddt": "100·clip(a·pLDDT_network/100 + b·agreement + c, 0, 1), agreement = mean"
            " per-residue C1′ lDDT to the other samples",
            "ptm": "clip(a·pTM_network + b·consensus + c, 0, 1), consensus = mean C1′ TM-score"
            " to the other samples",
            "plddt_blend": list(self.plddt_blend),
            "ptm_blend": list(self.ptm_blend),
        }


DEFAULT_RANK = RankConfig()


@dataclass(frozen=True)
class Confidence:
    """Blended confidence of S samples (:class:`RankConfig`).

    Attributes:
        plddt: [S, L] pLDDT 0–100; ptm: [S] 0–1; score: [S] ranking score.
        consensus: [S] mean C1′ TM-score to the other samples (NaN when S = 1).
        network: the network's own values, ``ptm`` [S] and ``mean_plddt`` [S].
    """

    plddt: np.ndarray
    ptm: np.ndarray
    score: np.ndarray
    consensus: np.ndarray
    network: dict[str, np.ndarray]


def agreement(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of samples [S, L, 3] (C1′, Å, S ≥ 2): [S] mean three-fit TM-score to the other samples
    and [S, L] per-residue lDDT (15 Å) to the others, averaged (1 where no pair).

    TM-score normalised by L with the RNA d0 (US-align), after US-align's three successive
    Kabsch fits on the identity alignment (``get_score_fast``,
    :func:`rnapredict.score.threefit.three_fit_tm_sum`), symmetric by construction.
    """
    x = np.asarray(coords, dtype=np.float64)
    s, n = x.shape[:2]
    d0 = d0_rna(n)
    tm = np.zeros((s, s))
    per_res = np.zeros((s, n))
    for a in range(s):
        for b in range(s):
            if a == b:
                continue
            if a < b:
                tm[a, b] = tm[b, a] = three_fit_tm_sum(x[a], x[b], d0, d0_search_of(d0)) / n
            per_res[a] += np.nan_to_num(lddt(x[a], x[b]).per_residue, nan=1.0)
    return tm.sum(1) / (s - 1), per_res / (s - 1)


def blended_confidence(
    seq: str,
    coords: np.ndarray,
    plddt: np.ndarray,
    ptm: np.ndarray,
    config: RankConfig = DEFAULT_RANK,
) -> Confidence:
    """:class:`Confidence` of samples coords [S, L, 3] (C1′, Å) of ``seq`` with the network's
    pLDDT [S, L] (0–100) and pTM [S] (0–1); unknown residues stay ≤ :data:`N_PLDDT_CAP`."""
    unknown = np.array([c not in "ACGU" for c in seq.upper()], dtype=bool)
    if len(ptm) < 2:
        return blend(plddt, ptm, np.full(len(ptm), np.nan), None, config, unknown)
    return blend(plddt, ptm, *agreement(coords), config, unknown)


def blend(
    plddt: np.ndarray,
    ptm: np.ndarray,
    consensus: np.ndarray,
    agree: np.ndarray | None,
    config: RankConfig = DEFAULT_RANK,
    unknown: np.ndarray | None = None,
) -> Confidence:
    """:class:`Confidence` from the network's pLDDT [S, L] (0–100) and pTM [S] (0–1) and the
    samples' :func:`agreement` (consensus [S], agree [S, L]; None: a lone sample, whose
    confidence stays the network's). ``unknown`` [L] bool: residues whose blended pLDDT is
    capped at :data:`N_PLDDT_CAP` before the ranking score is formed."""
    plddt = np.array(plddt, dtype=np.float64)  # a copy: the caller's arrays stay as they are
    ptm = np.array(ptm, dtype=np.float64)
    network = {"ptm": ptm.copy(), "mean_plddt": plddt.mean(-1)}
    if agree is not None:
        a, b, c = config.plddt_blend
        plddt = 100.0 * np.clip(a * plddt / 100.0 + b * agree + c, 0.0, 1.0)
        a, b, c = config.ptm_blend
        ptm = np.clip(a * ptm + b * consensus + c, 0.0, 1.0)
    if unknown is not None and unknown.any():
        plddt[:, unknown] = np.minimum(plddt[:, unknown], N_PLDDT_CAP)
    score = ranking_score(torch.from_numpy(ptm), torch.from_numpy(plddt)).numpy()
    return Confidence(plddt, ptm, score, np.asarray(consensus, dtype=np.float64), network)


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
