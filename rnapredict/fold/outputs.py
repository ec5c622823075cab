"""Per-record output directory: ranked model files, ``confidence.json``, ``error.txt``.

Layout (DESIGN.md): ``OUT/<safe id>/model_1.pdb … model_N.pdb`` (``.cif`` with
``--format cif|both``), ``confidence.json`` and, for a failed record, ``error.txt``. Every file
is written to a temp name and renamed. ``confidence.json`` is written last and is the completion
marker: a record is complete exactly when it exists, parses, says ``"status": "ok"`` and every
model file it lists exists with the size and sha256 recorded in its ``checksums`` (a truncated
or edited model makes the record incomplete, so ``--resume`` redoes it).

A record that fails without a directory of its own (a duplicate id, or an id mapping to an
earlier record's name) gets ``OUT/<name>/error-<index>.txt`` (``index``: 0-based position in the
input stream, as in ``summary.tsv``) beside the first record's outputs, never over them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnapredict import __version__
from rnapredict.engine.api import Prediction
from rnapredict.errors import OutputWriteError
from rnapredict.io.atomic import TMP_PREFIX, atomic_write_text
from rnapredict.io.modelcif import ModelProvenance
from rnapredict.io.pdbio import PDB_MAX_ATOMS, PDB_MAX_RESIDUES, pdb_limits_problem, write_models
from rnapredict.io.structure import NUCLEOTIDE_ATOMS, RnaStructure
from rnapredict.io.textio import printable

CONFIDENCE = "confidence.json"
ERROR = "error.txt"
FORMAT_SUFFIXES = {"pdb": (".pdb",), "cif": (".cif",), "both": (".pdb", ".cif")}
_OURS = re.compile(
    r"^(model_\d+\.(pdb|cif)|confidence\.json|error(-\d+)?\.txt|report\.(html|png|svg))$"
)
_HASH_CHUNK = 1 << 20


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` while writing ``path`` (disk full, quota, I/O error, permissions)
    into :class:`OutputWriteError` naming the path."""
    try:
        yield
    except OSError as exc:
        why = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
        raise OutputWriteError(f"cannot write {path}: {why}") from exc


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


def file_checksum(path: Path) -> dict[str, Any]:
    """``{"bytes": size, "sha256": hex}`` of a file as it is on disk."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": h.hexdigest()}


def file_checksums(directory: Path, files: Sequence[Sequence[str]]) -> dict[str, dict[str, Any]]:
    """Checksums of the ``[rank][format]`` model files, by file name."""
    return {f: file_checksum(directory / f) for names in files for f in names}


def _matches(path: Path, want: Any) -> bool:
    if not isinstance(want, dict):
        return False
    try:
        if path.stat().st_size != want.get("bytes"):  # cheap test first: truncation
            return False
        return file_checksum(path)["sha256"] == want.get("sha256")
    except OSError:
        return False


def read_complete(directory: Path) -> dict[str, Any] | None:
    """The record's ``confidence.json`` if the record is complete, else None.

    Complete: status ``ok`` and every listed model file present with the recorded size and
    sha256. Documents written before checksums were recorded (no ``checksums`` key) only
    need the files to exist.
    """
    try:
        doc = json.loads((directory / CONFIDENCE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("status") != "ok":
        return None
    sums = doc.get("checksums")
    for m in doc.get("models", []):
        for f in m.get("files", []):
            path = directory / f
            if sums is None:
                if not path.is_file():
                    return None
            elif not isinstance(sums, dict) or not _matches(path, sums.get(f)):
                return None
    return doc


def made_from(doc: dict[str, Any], seq: str, ss: str | None) -> bool:
    """Whether a record's ``confidence.json`` was made from sequence ``seq`` and given
    structure ``ss`` (None: none given, the structure was predicted). ``--resume`` redoes a
    record whose input was edited instead of keeping models of the old sequence."""
    if doc.get("sequence") != seq:
        return False
    used = doc.get("secondary_structure")
    given = isinstance(used, dict) and used.get("source") == "input"
    if ss is None:
        return not given
    return given and used.get("dot_bracket") == ss


def pdb_fit_problem(seq: str) -> str | None:
    """Why a record of ``seq`` cannot be written as PDB, decided before folding (residue
    and heavy-atom counts of the models the engine builds), or None if it fits."""
    n_atoms = sum(len(NUCLEOTIDE_ATOMS.get(b, NUCLEOTIDE_ATOMS["N"])) for b in seq)
    if len(seq) <= PDB_MAX_RESIDUES and n_atoms <= PDB_MAX_ATOMS:
        return None
    return (
        f"{len(seq):,} nt / {n_atoms:,} atoms exceed the PDB format limits "
        f"({PDB_MAX_RESIDUES:,} residues, {PDB_MAX_ATOMS:,} atoms)"
    )


def cif_instead(fmt: str, why: str) -> tuple[str, str]:
    """Formats to write when PDB cannot hold the models: mmCIF only, and the note saying so."""
    note = f"model files written as mmCIF instead of --format {fmt}: {why}"
    return "cif", note


def choose_format(fmt: str, seq: str) -> tuple[str, str | None]:
    """The format to write a record in and a note when it differs from ``fmt``.

    A record too large for PDB is written as mmCIF (as AlphaFold 3 does) instead of being
    folded and then failing at write time.
    """
    if fmt == "cif":
        return fmt, None
    why = pdb_fit_problem(seq)
    return (fmt, None) if why is None else cif_instead(fmt, why)


def write_model_files(
    models: Sequence[RnaStructure],
    directory: Path,
    fmt: str,
    title: str,
    remarks: Sequence[Sequence[str]] = (),
    provenance: Sequence[ModelProvenance] = (),
) -> tuple[list[list[str]], str | None]:
    """Write each ranked model to its own file(s).

    Returns ``[rank][format]`` file names and a note when the models went to mmCIF because
    PDB cannot hold them (coordinates beyond the PDB columns, too many atoms).
    ``remarks[rank]``: extra PDB REMARK lines of that model (e.g. its template);
    ``provenance[rank]``: how it was made (its mmCIF file is then ModelCIF).

    Raises:
        OutputWriteError: a write failed (disk full, I/O error).
    """
    note = None
    if fmt != "cif":
        why = pdb_limits_problem(models)
        if why is not None:
            fmt, note = cif_instead(fmt, why)
    names: list[list[str]] = []
    for r, (model, paths) in enumerate(
        zip(models, model_files(directory, len(models), fmt), strict=True)
    ):
        extra = remarks[r] if r < len(remarks) else ()
        made = provenance[r] if r < len(provenance) else None
        for k, path in enumerate(paths):
            rank_title = f"{title} rank {path.stem.removeprefix('model_')}"
            with writing(path):
                write_models(
                    [model],
                    path,
                    fmt=path.suffix[1:],
                    overwrite=True,
                    title=rank_title,
                    remarks=extra,
                    provenance=made,
                )
            if k == 0:
                names.append([])
            names[-1].append(path.name)
    return names, note


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


def model_provenance(
    pred: Prediction, *, cleanup: bool, relax: Sequence[dict[str, Any]] | None
) -> list[ModelProvenance]:
    """ModelCIF provenance of each ranked model of ``pred`` (rank order)."""
    return [
        ModelProvenance(
            ss=pred.model_ss[r] if r < len(pred.model_ss) else pred.ss,
            ss_source=str(prior.get("ss_source", pred.ss_source)),
            prior=prior,
            ptm=float(pred.ptm[r]),
            model_version=pred.model_version,
            probing="probing" in pred.extra,
            cleanup=cleanup,
            relax=relax[r] if relax is not None else None,
        )
        for r, prior in enumerate(pred.model_prior or [{}] * len(pred.models))
    ]


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


def error_file_name(index: int | None = None) -> str:
    """``error.txt``, or ``error-<index>.txt`` for a record failing in another's directory."""
    return ERROR if index is None else f"error-{index}.txt"


def write_error(
    directory: Path,
    record_id: str | None,
    message: str,
    detail: str = "",
    index: int | None = None,
) -> Path:
    """Write ``error.txt`` (``error-<index>.txt`` with ``index``): original id and the one-line
    message (non-printable characters escaped), then optional detail (traceback)."""
    rid = printable(record_id) if record_id is not None else "?"
    lines = [f"id: {rid}", f"error: {printable(message)}"]
    if detail:
        lines += ["", detail.rstrip()]
    path = directory / error_file_name(index)
    with writing(path):
        return atomic_write_text(path, "\n".join(lines) + "\n", overwrite=True)
