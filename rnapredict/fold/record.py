"""Fold one record into its output directory, or fail it cleanly.

Every failure a record can have (shorter than :data:`MIN_LENGTH`, over ``--max-len``, over the
memory limit, an engine error, a model that fails :mod:`rnapredict.geometry.check`, out of
memory while folding) ends in :func:`fail_record`: partial model files removed, ``error.txt``
written, a ``failed`` outcome returned. Only an output write failure
(:class:`~rnapredict.errors.OutputWriteError`: disk full, I/O error) escapes, for the runner
to stop the batch.
"""

from __future__ import annotations

import contextlib
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnapredict.errors import OutputWriteError, RecordError, RnapredictError
from rnapredict.fold.options import FoldRunOptions
from rnapredict.fold.preflight import estimate_memory, memory_refusal
from rnapredict.fold.results import RecordOutcome
from rnapredict.geometry.check import MIN_LENGTH, model_problem, models_problem
from rnapredict.io.modelcif import ModelProvenance
from rnapredict.io.records import Record
from rnapredict.io.structure import RnaStructure
from rnapredict.pipeline.api import Engine, FoldOptions, Prediction
from rnapredict.results import confidence, outputs

_OOM_MARKERS = ("out of memory", "can't allocate memory", "cannot allocate memory")


@dataclass
class RecordContext:
    """What every record of a batch shares (``engine`` None until there is work for it)."""

    out_dir: Path
    options: FoldRunOptions
    fold_options: FoldOptions
    engine: Engine | None
    max_memory: int | None


def fail_record(
    record_id: str | None,
    index: int,
    name: str | None,
    directory: Path | None,
    message: str,
    *,
    length: int = -1,
    detail: str = "",
    time_s: float = 0.0,
    borrowed: Path | None = None,
) -> RecordOutcome:
    """Clear partial outputs and write ``error.txt`` (when the record owns ``directory``), or
    ``error-<index>.txt`` in ``borrowed``: the directory of an earlier record with the same
    output name (a duplicate id), whose own files are left alone (only if that directory
    exists; the ``summary.tsv`` row carries the message either way).

    Raises:
        OutputWriteError: the error file cannot be written (disk full, ...).
    """
    if directory is not None:
        with outputs.writing(directory):
            outputs.clear_record_dir(directory)
            directory.mkdir(parents=True, exist_ok=True)
        outputs.write_error(directory, record_id, message, detail)
    elif borrowed is not None and borrowed.is_dir():
        # Never create the directory: with --shard its record may be another shard's, whose
        # pre-flight would then find "existing output".
        outputs.write_error(borrowed, record_id, message, detail, index=index)
    return RecordOutcome(
        id=record_id,
        index=index,
        status="failed",
        name=name if directory is not None else None,
        length=length,
        time_s=time_s,
        error=message,
    )


def _relax_all(models: list[RnaStructure]) -> tuple[list[RnaStructure], list[dict[str, Any]]]:
    """Relax every ranked model (ranking unchanged); a failed one is kept unrelaxed."""
    from rnapredict.relax.api import FOLD_RELAX, relax_model  # OpenMM only when asked

    out: list[RnaStructure] = []
    reports: list[dict[str, Any]] = []
    for model in models:
        try:
            res = relax_model(model, FOLD_RELAX)
            relaxed, ok, msg = res.model, res.ok, res.message
            report = {
                "ok": bool(ok),
                "message": msg,
                "energy_before": res.energy_before,
                "energy_after": res.energy_after,
                "clash_before": res.clash_before,
                "clash_after": res.clash_after,
                "rmsd": res.rmsd,
                "time_s": round(res.seconds, 3),
            }
        except Exception as exc:  # noqa: BLE001  relaxation must never lose a model
            relaxed, ok = model, False
            report = {"ok": False, "message": f"{type(exc).__name__}: {exc}"}
        problem = None if not ok or relaxed is None else model_problem(relaxed)
        if problem is not None and model_problem(model) is None:
            # a relaxed model that fails the check never costs the record its model
            report["ok"], ok = False, False
            report["message"] = f"relaxed model not physical ({problem}); kept unrelaxed"
        if not ok or relaxed is None:
            relaxed = model
        elif relaxed.plddt is None and model.plddt is not None:
            if relaxed.n_residues == model.n_residues:
                relaxed = relaxed.with_plddt(model.plddt)
        out.append(relaxed)
        reports.append(report)
    return out, reports


def geometry_notes(model_prior: Sequence[dict[str, Any]]) -> list[str]:
    """``model K: …`` for each model whose all-atom clean-up was undone (wholly or for some
    residues), so the record's notes (progress, ``--json``) say what ``confidence.json`` keeps
    per model."""
    return [
        f"model {k}: {p['geometry']}" for k, p in enumerate(model_prior, 1) if p.get("geometry")
    ]


def identical_template_warnings(model_prior: Sequence[dict[str, Any]]) -> list[str]:
    """One warning per template that covers the whole query at identity 1.0 (the models copy a
    deposited structure; a benchmark run wants ``--cutoff`` before its release)."""
    out = []
    for t in confidence.templates_used(model_prior):
        if t.get("identical"):
            released = t.get("release_date") or "an unknown date"
            out.append(
                f"template {t.get('template')} (released {released}) covers the whole query at "
                "identity 1.0: the models copy a deposited structure; to fold it blind, pass "
                "--cutoff with a date before its release"
            )
    return out


def _write(
    ctx: RecordContext,
    record: Record,
    name: str,
    directory: Path,
    pred: Prediction,
    t0: float,
    fmt: str,
    note: str | None,
) -> RecordOutcome:
    models = list(pred.models)
    relax_reports: list[dict[str, Any]] | None = None
    if ctx.options.relax:
        models, relax_reports = _relax_all(models)
    problem = models_problem(models)
    if problem is not None:  # the engine repaired and replaced what it could
        raise RecordError(
            f"no physical model could be made: {problem}", file=record.source, record=record.id
        )
    remarks = [confidence.template_remarks(p) for p in pred.model_prior]
    made = model_provenance(pred, cleanup=ctx.fold_options.cleanup, relax=relax_reports)
    files, late_note = outputs.write_model_files(
        models, directory, fmt, title=record.id, remarks=remarks, provenance=made
    )
    replaced = pred.extra.get("replaced")  # samples the engine could not make physical
    notes = [n for n in (note, late_note, replaced) if n] + geometry_notes(pred.model_prior)
    for warning in identical_template_warnings(pred.model_prior):
        print(f"warning: {record.id}: {warning}", file=sys.stderr, flush=True)
    checksums = outputs.file_checksums(directory, files)
    run = confidence.RecordRun(
        name=name,
        index=record.index,
        source=record.source,
        sequence=record.seq,
        run_seed=ctx.options.seed,
        settings=ctx.options.settings(),
        files=files,
        checksums=checksums,
        relax=relax_reports,
        time_s=time.perf_counter() - t0,
        notes=notes,
    )
    doc = confidence.confidence_document(pred, run)
    confidence.write_confidence(directory, doc)  # last: the completion marker
    if ctx.options.report:  # after the marker: a failed report never fails the record
        from rnapredict.report.record import try_record_report  # matplotlib only when asked

        problem = try_record_report(directory, doc, models)
        if problem:
            print(f"warning: {problem}", file=sys.stderr, flush=True)
    return outcome_from_confidence(doc, status="ok")


def outcome_from_confidence(doc: dict[str, Any], status: str) -> RecordOutcome:
    """A record's outcome rebuilt from its ``confidence.json`` (used by ``--resume`` too)."""
    models = doc.get("models", [])
    relax_failed = doc.get("relax_failed")
    return RecordOutcome(
        id=doc.get("id"),
        index=int(doc.get("index", -1)),
        status=status,
        name=doc.get("name"),
        length=int(doc.get("length", -1)),
        mean_plddt=doc.get("mean_plddt"),
        ptm=doc.get("ptm"),
        time_s=float(doc.get("time_s") or 0.0),  # skipped: the time it took when folded
        files=tuple(f for m in models for f in m.get("files", [])),
        relax_failed=int(relax_failed or 0),
        n_models=len(models),
        relaxed=relax_failed is not None,
        notes=tuple(str(n) for n in doc.get("notes", ())),
        templates=tuple(t.get("template", "?") for t in doc.get("templates") or ()),
    )


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in _OOM_MARKERS)
    )


def fold_record(ctx: RecordContext, record: Record, name: str, directory: Path) -> RecordOutcome:
    """Fold ``record`` into ``directory`` (cleared first); never raises for a per-record problem."""
    t0 = time.perf_counter()
    length = len(record.seq)
    with outputs.writing(directory):
        outputs.clear_record_dir(directory)

    def fail(message: str, detail: str = "") -> RecordOutcome:
        if f"record '{record.id}'" not in message:  # name file and record, as reader errors do
            message = str(RecordError(message, file=record.source, record=record.id))
        return fail_record(
            record.id,
            record.index,
            name,
            directory,
            message,
            length=length,
            detail=detail,
            time_s=time.perf_counter() - t0,
        )

    if length < MIN_LENGTH:
        return fail(
            f"{length} nt is shorter than the {MIN_LENGTH} nt minimum (a single nucleotide has "
            "no neighbour to orient it); not folded"
        )
    max_len = ctx.options.max_len
    if max_len is not None and length > max_len:
        return fail(f"{length} nt is longer than --max-len {max_len}; not folded")
    refusal = memory_refusal(estimate_memory(length, ctx.fold_options, ctx.engine), ctx.max_memory)
    if refusal is not None:
        return fail(f"{length} nt {refusal}; not folded")
    # Decided before folding: a record PDB cannot hold is written as mmCIF, not folded and
    # then failed at write time.
    fmt, note = outputs.choose_format(ctx.options.fmt, record.seq)
    try:
        with outputs.writing(directory):
            directory.mkdir(parents=True, exist_ok=True)
        assert ctx.engine is not None, "the runner loads the engine before folding"
        pred = ctx.engine.predict(record, ctx.fold_options)
        return _write(ctx, record, name, directory, pred, t0, fmt, note)
    except OutputWriteError:
        with contextlib.suppress(OSError):  # best effort: the disk may be full
            outputs.clear_record_dir(directory)
        raise
    except RnapredictError as exc:
        return fail(str(exc))
    except Exception as exc:  # noqa: BLE001  one record must not sink the batch
        if _is_oom(exc):
            del exc  # drop the traceback's frames (and their tensors) before going on
            return fail(
                f"out of memory while folding {length} nt; try a smaller -n or --chunk-size"
            )
        return fail(f"internal error: {type(exc).__name__}: {exc}", traceback.format_exc())


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
