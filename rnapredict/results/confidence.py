"""``confidence.json``: the per-record document of a fold, written last as the completion
marker of its directory (:func:`rnapredict.results.outputs.read_complete` reads it back)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rnapredict import __version__
from rnapredict.io.atomic import atomic_write_text
from rnapredict.results.outputs import CONFIDENCE, writing

if TYPE_CHECKING:
    from rnapredict.pipeline.api import Prediction


def _floats(values: np.ndarray | Sequence[float], ndigits: int = 2) -> list[float]:
    return [round(float(v), ndigits) for v in np.asarray(values, dtype=np.float64).ravel()]


#: Per-model keys of a template provenance left out of the record-level ``templates`` list.
_PER_MODEL = ("source", "ss_source", "init_sigma")


def templates_used(model_prior: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Distinct templates that seeded models (rank order of first use), record-level keys only."""
    seen: dict[str, dict[str, Any]] = {}
    for p in model_prior:
        if p.get("source") == "template" and p.get("template") not in seen:
            seen[p["template"]] = {k: v for k, v in p.items() if k not in _PER_MODEL}
    return list(seen.values())


def template_remarks(prior: dict[str, Any]) -> list[str]:
    """PDB REMARK text naming the template a model started from ([] for other sources)."""
    if prior.get("source") != "template":
        return []
    return [
        f"TEMPLATE {prior.get('entry')} CHAIN {prior.get('chain')}"
        f" IDENTITY {prior.get('identity', 0):.2f} COVERAGE {prior.get('coverage', 0):.2f}"
        f" RELEASED {prior.get('release_date') or 'UNKNOWN'}"
    ]


@dataclass(frozen=True)
class RecordRun:
    """What the run, not the engine, contributes to a record's ``confidence.json``.

    Attributes:
        name: the record's output directory name; index: its position in the input;
        source: the input file; sequence: [L] the record's sequence as read.
        run_seed: ``fold --seed``; settings: the run's options (``FoldRunOptions.settings``:
            samples, steps, format, prior, templates, cutoff, clean-up, threads, probing …).
        files: [S][formats] model file names, rank order.
        checksums: ``{file name: {"bytes", "sha256"}}`` of the model files (``--resume``
            redoes the record when a file no longer matches).
        relax: per-model relaxation reports (rank order), or None without ``--relax``.
        time_s: wall time of the record (s).
        notes: remarks for the user (e.g. written as mmCIF because PDB cannot hold it).
    """

    name: str
    index: int
    source: str
    sequence: str
    run_seed: int
    settings: dict[str, Any]
    files: Sequence[Sequence[str]]
    checksums: dict[str, dict[str, Any]] = field(default_factory=dict)
    relax: Sequence[dict[str, Any]] | None = None
    time_s: float = 0.0
    notes: Sequence[str] = ()


def confidence_document(prediction: Prediction, run: RecordRun) -> dict[str, Any]:
    """The ``confidence.json`` content for one folded record.

    From ``prediction``: the ranked models' confidence (pLDDT [S, L] 0–100, pTM [S] 0–1,
    ranking score [S], sample index [S]; ``extra["network"]``: the network's own pTM and mean
    pLDDT [S], ``extra["consensus"]`` [S] and ``extra["ranked_by"]``:
    :class:`rnapredict.pipeline.rank.RankConfig`), each model's structure and candidate provenance,
    the record seed, the weights' version and sha256 (``extra["weights_sha256"]``; None:
    unknown/tiny) and the ``--shape`` / ``--dms`` report (``extra["probing"]``:
    :func:`rnapredict.features.probing.probing_report`, whose per-model agreement goes to
    each model entry). From ``run``: everything else (:class:`RecordRun`).
    """
    pred, files, relax = prediction, run.files, run.relax
    model_ss, model_prior = pred.model_ss, pred.model_prior
    probing = pred.extra.get("probing")
    plddt = np.asarray(pred.plddt, dtype=np.float64)
    ptm = pred.ptm
    means = plddt.mean(axis=1) if plddt.size else np.zeros(len(files))
    network = pred.extra.get("network") or {}
    consensus = pred.extra.get("consensus")
    models = []
    for r in range(len(files)):
        entry: dict[str, Any] = {
            "rank": r + 1,
            "files": list(files[r]),
            "sample_index": int(pred.sample_index[r]),
            "ranking_score": round(float(pred.ranking_score[r]), 4),
            "ptm": round(float(ptm[r]), 4),
            "mean_plddt": round(float(means[r]), 2),
            "plddt": _floats(plddt[r]),
        }
        if consensus is not None and np.isfinite(consensus[r]):
            entry["consensus"] = round(float(consensus[r]), 4)
        if network:
            entry["network"] = {
                "ptm": round(float(network["ptm"][r]), 4),
                "mean_plddt": round(float(network["mean_plddt"][r]), 2),
            }
        if r < len(model_ss):
            entry["secondary_structure"] = model_ss[r]
        if r < len(model_prior):
            entry["prior"] = model_prior[r]
        if relax is not None:
            entry["relax"] = relax[r]
        if probing is not None:
            entry["probing_agreement"] = probing["model_agreement"][r]
        models.append(entry)
    relax_failed = sum(1 for r in relax or () if not r.get("ok", False))
    doc = {
        "templates": templates_used(model_prior),
        "id": pred.record_id,
        "name": run.name,
        "index": run.index,
        "source": run.source,
        "status": "ok",
        "length": len(run.sequence),
        "sequence": run.sequence,
        "secondary_structure": {
            "dot_bracket": pred.ss,
            "source": pred.ss_source,
            **({"energy_params": e} if (e := pred.extra.get("energy_params")) else {}),
        },
        "seed": int(pred.seed),
        "run_seed": int(run.run_seed),
        "model_version": pred.model_version,
        "weights_sha256": pred.extra.get("weights_sha256"),
        "rnapredict_version": __version__,
        "settings": run.settings,
        "mean_plddt": round(float(means[0]), 2) if len(means) else None,
        "ptm": round(float(ptm[0]), 4) if len(ptm) else None,
        "ranking": [int(i) for i in pred.sample_index],
        "relax_failed": relax_failed if relax is not None else None,
        "time_s": round(run.time_s, 3),
        "notes": list(run.notes),
        "models": models,
        "checksums": run.checksums or {},
    }
    if "ranked_by" in pred.extra:
        doc["ranked_by"] = pred.extra["ranked_by"]
    if probing is not None:  # key only with data: outputs without it stay as they were
        doc["probing"] = {k: v for k, v in probing.items() if k != "model_agreement"}
    return doc


def write_confidence(directory: Path, doc: dict[str, Any]) -> Path:
    """Write ``confidence.json`` (the completion marker) atomically."""
    path = directory / CONFIDENCE
    with writing(path):
        return atomic_write_text(path, json.dumps(doc, indent=1) + "\n", True)
