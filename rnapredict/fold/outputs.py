"""Per-record output directory: ranked model files, ``confidence.json``, ``error.txt``.

Layout (DESIGN.md): ``OUT/<safe id>/model_1.pdb … model_N.pdb`` (``.cif`` with
``--format cif|both``), ``confidence.json`` and, for a failed record, ``error.txt``. Every file
is written to a temp name and renamed. ``confidence.json`` is written last and is the completion
marker: a record is complete exactly when it exists, parses, says ``"status": "ok"`` and every
model file it lists exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnapredict import __version__
from rnapredict.fold.summary import printable
from rnapredict.io.atomic import TMP_PREFIX, atomic_write_text
from rnapredict.io.pdbio import write_models
from rnapredict.io.structure import RnaStructure

CONFIDENCE = "confidence.json"
ERROR = "error.txt"
FORMAT_SUFFIXES = {"pdb": (".pdb",), "cif": (".cif",), "both": (".pdb", ".cif")}
_OURS = re.compile(r"^(model_\d+\.(pdb|cif)|confidence\.json|error\.txt)$")


def record_dir_name(record_id: str) -> str:
    """File-system-safe directory name for a record id (see :func:`rnapredict.io.names.safe_name`)."""
    from rnapredict.io.names import safe_name  # the foundation's single sanitizer

    return safe_name(record_id)


def record_dir(out_dir: Path, name: str) -> Path:
    """``out_dir / name``, refusing any name that could leave ``out_dir``.

    ``name`` comes from :func:`record_dir_name` (already safe); this is the second lock on the
    door: one path component, not ``.``/``..``, no separators or control characters.
    """
    if (
        not name
        or name in (".", "..")
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or os.sep in name
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        raise ValueError(f"unsafe output directory name {name!r}")
    path = out_dir / name
    if path.parent != out_dir:
        raise ValueError(f"output directory {name!r} escapes {out_dir}")
    return path


def model_files(directory: Path, n_models: int, fmt: str) -> list[list[Path]]:
    """``[rank][format]`` paths of the ranked model files (rank 1 first)."""
    return [
        [directory / f"model_{k}{suffix}" for suffix in FORMAT_SUFFIXES[fmt]]
        for k in range(1, n_models + 1)
    ]


def clear_record_dir(directory: Path) -> int:
    """Remove our own files (models, confidence.json, error.txt, temp files) from a record
    directory so it can be redone; anything else is left alone. Returns the count removed."""
    if not directory.is_dir():
        return 0
    n = 0
    for p in directory.iterdir():
        if p.is_file() and (p.name.startswith(TMP_PREFIX) or _OURS.match(p.name)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                n += 1
    return n


def remove_temps(directory: Path) -> int:
    """Remove temp files left by a killed run in one record directory (not recursive)."""
    n = 0
    if directory.is_dir():
        for p in directory.glob(f"{TMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                n += 1
    return n


def read_complete(directory: Path) -> dict[str, Any] | None:
    """The record's ``confidence.json`` if the record is complete, else None."""
    try:
        doc = json.loads((directory / CONFIDENCE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("status") != "ok":
        return None
    for m in doc.get("models", []):
        for f in m.get("files", []):
            if not (directory / f).is_file():
                return None
    return doc


def write_model_files(
    models: Sequence[RnaStructure],
    directory: Path,
    fmt: str,
    title: str,
    remarks: Sequence[Sequence[str]] = (),
) -> list[list[str]]:
    """Write each ranked model to its own file(s); return ``[rank][format]`` file names.

    ``remarks[rank]``: extra PDB REMARK lines of that model (e.g. its template).
    """
    names: list[list[str]] = []
    for r, (model, paths) in enumerate(
        zip(models, model_files(directory, len(models), fmt), strict=True)
    ):
        extra = remarks[r] if r < len(remarks) else ()
        for k, path in enumerate(paths):
            rank_title = f"{title} rank {path.stem.removeprefix('model_')}"
            write_models(
                [model], path, fmt=path.suffix[1:], overwrite=True, title=rank_title, remarks=extra
            )
            if k == 0:
                names.append([])
            names[-1].append(path.name)
    return names


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
) -> dict[str, Any]:
    """The ``confidence.json`` content for one folded record.

    Args:
        plddt: [S, L] per-residue pLDDT (0–100) of the ranked models.
        ptm: [S] pTM-like scores (0–1); ranking_score: [S]; sample_index: [S].
        files: [S][formats] model file names, rank order.
        relax: per-model relaxation reports (rank order), or None without ``--relax``.
        model_ss: [S] dot-bracket each model was built from (rank order; empty: ``ss``).
        model_prior: [S] provenance of each model's starting candidate (rank order).
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
        models.append(entry)
    relax_failed = sum(1 for r in relax or () if not r.get("ok", False))
    return {
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
        "rnapredict_version": __version__,
        "settings": settings,
        "mean_plddt": round(float(means[0]), 2) if len(means) else None,
        "ptm": round(float(ptm[0]), 4) if len(ptm) else None,
        "ranking": [int(i) for i in sample_index],
        "relax_failed": relax_failed if relax is not None else None,
        "time_s": round(time_s, 3),
        "models": models,
    }


def write_confidence(directory: Path, doc: dict[str, Any]) -> Path:
    """Write ``confidence.json`` (the completion marker) atomically."""
    return atomic_write_text(directory / CONFIDENCE, json.dumps(doc, indent=1) + "\n", True)


def write_error(directory: Path, record_id: str | None, message: str, detail: str = "") -> Path:
    """Write ``error.txt``: original id and the one-line message (non-printable characters
    escaped), then optional detail (traceback)."""
    rid = printable(record_id) if record_id is not None else "?"
    lines = [f"id: {rid}", f"error: {printable(message)}"]
    if detail:
        lines += ["", detail.rstrip()]
    return atomic_write_text(directory / ERROR, "\n".join(lines) + "\n", overwrite=True)
