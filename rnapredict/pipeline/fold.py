"""The fold of one record, read top-down (docs/ARCHITECTURE.md, "The fold pipeline"):

secondary structure → starting candidates → diffusion from them (the network, a
:class:`~rnapredict.pipeline.api.Sampler`) → all-atom models, cleaned, checked, repaired or
replaced → ranking → :class:`~rnapredict.pipeline.api.Prediction`.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from rnapredict.features.probing import probing_report
from rnapredict.features.vienna import resolve_energy_params
from rnapredict.geometry.candidate import Candidate
from rnapredict.io.records import Record
from rnapredict.pipeline.allatom import SamplePool, physical_pool
from rnapredict.pipeline.api import FoldOptions, Prediction, Sampler, record_generators
from rnapredict.pipeline.candidates import record_candidates
from rnapredict.pipeline.rank import DEFAULT_RANK, Confidence, blended_confidence
from rnapredict.pipeline.secondary import secondary

#: confidence.json ``prior.refinement`` of a model that is its unrefined candidate.
KEPT_START_NOTE = (
    "the candidate unrefined: the diffusion broke more than a quarter of its base pairs"
)


def predict(sampler: Sampler, record: Record, options: FoldOptions) -> Prediction:
    """Fold one record: SS (given or ViennaRNA MFE) → candidates → S ranked models."""
    seq = record.seq.upper()
    t0 = time.perf_counter()
    sec = secondary(record, options)
    seed, gen, prior_gen = record_generators(options.seed, record.id)
    cands = record_candidates(seq, sec, options, prior_gen, record.id)
    t1 = time.perf_counter()
    ens, owner = sampler.sample_candidates(seq, cands, options, gen)
    t2 = time.perf_counter()
    pool, conf = blended_pool(seq, physical_pool(sampler, seq, cands, ens, owner, options, seed))
    order = pool.ranked(options.n_samples)
    models = [pool.models[i] for i in order]
    ranked = [cands[pool.owner[i]] for i in order]
    timing = {"prior": t1 - t0, "sample": t2 - t1, "atoms": time.perf_counter() - t2}
    extra = {"c1": pool.c1[order], "timing_s": timing, "weights_sha256": sampler.weights_sha256,
             "network": {k: v[order] for k, v in conf.network.items()},
             "consensus": conf.consensus[order], "ranked_by": DEFAULT_RANK.described}  # fmt: skip
    if sec.source == "vienna":  # the set the MFE and the sampled structures were folded with
        extra["energy_params"] = resolve_energy_params(len(seq), options.vienna())
    replaced = replaced_note(pool, order, options.n_samples)
    if replaced:
        extra["replaced"] = replaced
    if sec.constraint is not None:
        extra["probing"] = probing_report(
            sec.constraint, seq, sec.ss, models, guided=record.ss is None
        )
    return Prediction(
        record_id=record.id,
        sequence=seq,
        ss=sec.ss,
        ss_source=sec.source,
        models=models,
        plddt=pool.plddt[order],
        ptm=pool.ptm[order],
        ranking_score=pool.score[order],
        sample_index=[int(i) for i in order],
        seed=seed,
        model_version=sampler.model_version,
        extra=extra,
        model_ss=[c.ss for c in ranked],
        model_prior=model_provenance(pool, ranked, order),
    )


def blended_pool(seq: str, pool: SamplePool) -> tuple[SamplePool, Confidence]:
    """The pool with the confidence blended with its samples' agreement
    (:func:`rnapredict.pipeline.rank.blended_confidence`): pLDDT (models' B-factors too), pTM
    and ranking score."""
    conf = blended_confidence(seq, pool.c1, pool.plddt, pool.ptm, DEFAULT_RANK)
    for model, plddt in zip(pool.models, conf.plddt, strict=True):
        if model is not None:
            model.plddt = plddt.copy()
    return replace(pool, plddt=conf.plddt, ptm=conf.ptm, score=conf.score), conf


def replaced_note(pool: SamplePool, order: np.ndarray, n: int) -> str | None:
    """What the replacement rounds did (None: every sample was physical, or none is)."""
    dropped = [i for i in range(len(pool.models)) if not pool.passed[i]]
    if not dropped or not pool.passed.any():
        return None
    note = (
        f"{len(dropped)} sample(s) not physical after repair were replaced by new "
        f"samples (first: {pool.notes[dropped[0]]})"
    )
    if len(order) < n:
        note += (
            f"; only {len(order)} of {n} models are physical after "
            f"{len(pool.models)} samples, the rest are not written"
        )
    return note


def model_provenance(pool: SamplePool, ranked: list[Candidate], order: np.ndarray) -> list[dict]:
    """Per ranked model: its candidate's source and info, what the all-atom stage did to it
    (``geometry``) and whether it is its candidate unrefined (``refinement``)."""
    return [
        {
            "source": c.source,
            **c.info,
            **({"geometry": pool.notes[i]} if pool.notes[i] else {}),
            **({"refinement": KEPT_START_NOTE} if pool.kept_start[i] else {}),
        }
        for c, i in zip(ranked, order, strict=True)
    ]
