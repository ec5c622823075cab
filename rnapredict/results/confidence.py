"""``confidence.json``: the per-record document of a fold, written last as the completion
marker of its directory (:func:`rnapredict.results.outputs.read_complete` reads it back)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnapredict import __version__
from rnapredict.io.atomic import atomic_write_text
from rnapredict.results.outputs import CONFIDENCE, writing


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


def confidence_document(
    *,
    record_id: str,
    name: str,
    index: int,
    source: str,
    sequence: str,
    ss: str,
    ss_source: str,
    plddt: np.ndarray,
    ptm: np.ndarray,
    ranking_score: np.ndarray,
    sample_index: Sequence[int],
    files: Sequence[Sequence[str]],
    seed: int,
    run_seed: int,
    model_version: str,
    settings: dict[str, Any],
    relax: Sequence[dict[str, Any]] | None,
    time_s: float,
    model_ss: Sequence[str] = (),
    model_prior: Sequence[dict[str, Any]] = (),
    probing: dict[str, Any] | None = None,
    checksums: dict[str, dict[str, Any]] | None = None,
    notes: Sequence[str] = (),
    weights_sha256: str | None = None,
) -> dict[str, Any]:
    """The ``confidence.json`` content for one folded record.

    Args:
        plddt: [S, L] per-residue pLDDT (0–100) of the ranked models.
        ptm: [S] pTM-like scores (0–1); ranking_score: [S]; sample_index: [S].
        files: [S][formats] model file names, rank order.
        relax: per-model relaxation reports (rank order), or None without ``--relax``.
        model_ss: [S] dot-bracket each model was built from (rank order; empty: ``ss``).
        model_prior: [S] provenance of each model's starting candidate (rank order).
        probing: ``--shape`` / ``--dms`` report of the record
            (:func:`rnapredict.features.probing.probing_report`), or None without data; its
            per-model agreement goes to each model entry.
        checksums: ``{file name: {"bytes", "sha256"}}`` of the model files (``--resume``
            redoes the record when a file no longer matches).
        notes: remarks for the user (e.g. written as mmCIF because PDB cannot hold it).
        weights_sha256: sha256 of the weights file the engine loaded (None: unknown/tiny).
    """
    plddt = np.asarray(plddt, dtype=np.float64)
    means = plddt.mean(axis=1) if plddt.size else np.zeros(len(files))
    models = []
    for r in range(len(files)):
        entry: dict[str, Any] = {
            "rank": r + 1,
            "files": list(files[r]),
            "sample_index": int(sample_index[r]),
            "ranking_score": round(float(ranking_score[r]), 4),
            "ptm": round(float(ptm[r]), 4),
            "mean_plddt": round(float(means[r]), 2),
            "plddt": _floats(plddt[r]),
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
        "id": record_id,
        "name": name,
        "index": index,
        "source": source,
        "status": "ok",
        "length": len(sequence),
        "sequence": sequence,
        "secondary_structure": {"dot_bracket": ss, "source": ss_source},
        "seed": int(seed),
        "run_seed": int(run_seed),
        "model_version": model_version,
        "weights_sha256": weights_sha256,
        "rnapredict_version": __version__,
        "settings": settings,
        "mean_plddt": round(float(means[0]), 2) if len(means) else None,
        "ptm": round(float(ptm[0]), 4) if len(ptm) else None,
        "ranking": [int(i) for i in sample_index],
        "relax_failed": relax_failed if relax is not None else None,
        "time_s": round(time_s, 3),
        "notes": list(notes),
        "models": models,
        "checksums": checksums or {},
    }
    if probing is not None:  # key only with data: outputs without it stay as they were
        doc["probing"] = {k: v for k, v in probing.items() if k != "model_agreement"}
    return doc


def write_confidence(directory: Path, doc: dict[str, Any]) -> Path:
    """Write ``confidence.json`` (the completion marker) atomically."""
    path = directory / CONFIDENCE
    with writing(path):
        return atomic_write_text(path, json.dumps(doc, indent=1) + "\n", True)
