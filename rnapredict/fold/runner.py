"""The batch loop behind ``rnapredict fold``: stream records, fold, write, report.

Two passes over the (streamed) input: a cheap planning pass that validates the input as a whole
and finds existing outputs — so every usage error (exit 2) comes before any folding — and the
folding pass. Records are never held in memory beyond the one being folded; the batch keeps
counts only, so memory stays flat over any number of records.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rnapredict.errors import (
    InputError,
    OutputExistsError,
    OutputWriteError,
)
from rnapredict.fold import schedule
from rnapredict.fold.inputs import Item, ProbingMatches, RecordSource, input_source
from rnapredict.fold.options import RUNTIME_SETTINGS, FoldRunOptions
from rnapredict.fold.preflight import available_memory
from rnapredict.fold.progress import NullReporter, Reporter
from rnapredict.fold.record import (
    RecordContext,
)
from rnapredict.fold.results import BatchResult, RecordOutcome
from rnapredict.fold.workers import (
    write_error,
)
from rnapredict.io.atomic import check_output_dir
from rnapredict.io.names import safe_name
from rnapredict.io.records import Record
from rnapredict.io.ssfiles import read_ss_entries
from rnapredict.pipeline.api import Engine, resolve_device
from rnapredict.results import outputs
from rnapredict.results.summary import SUMMARY, SummaryWriter, ensure_summary, printable
from rnapredict.threads import apply_threads


@dataclass
class Plan:
    """What the planning pass found in this shard."""

    selected: int = 0
    complete: int = 0
    #: Ids of the ``--ss`` file (None without one), to warn about records it lacks.
    ss_ids: frozenset[str] | None = field(default=None, repr=False)
    #: Warnings for the user found while planning (probing data matching no record).
    warnings: list[str] = field(default_factory=list)

    @property
    def todo(self) -> int:
        return self.selected - self.complete


def _item_dir_name(item: Item) -> str | None:
    """Output directory name of an item; None for a failed record without a directory of its
    own (no id, or a duplicate / colliding id: the reader sets ``safe_name`` None)."""
    return safe_name(item.id) if isinstance(item, Record) else item.safe_name


def _ss_ids(options: FoldRunOptions) -> frozenset[str] | None:
    """Record ids of the ``--ss`` file (None without one)."""
    if options.ss_file is None:
        return None
    return frozenset(read_ss_entries(options.ss_file))


def _no_ss_match(ss_file: Path, ss_ids: frozenset[str], input_ids: list[str]) -> InputError:
    def some(ids: Sequence[str]) -> str:
        shown = ", ".join(f"'{printable(i)}'" for i in list(ids)[:3])
        return shown + (", ..." if len(ids) > 3 else "")

    return InputError(
        f"--ss: no structure id matches a record id (the file has {some(sorted(ss_ids))}; "
        f"the input has {some(input_ids)}); check the ids, or drop --ss to predict structures",
        file=str(ss_file),
    )


def plan_batch(source: RecordSource, out_dir: Path, options: FoldRunOptions) -> Plan:
    """Planning pass: count this shard's records, refuse existing outputs, and refuse an
    ``--ss`` file none of whose ids is a record id (of the whole input, not just this shard).

    Raises:
        InputError: the input as a whole is unusable (raised by the source), or no ``--ss`` id
            matches a record.
        OutputExistsError: some ``OUT/<id>`` exists and neither ``resume`` nor ``overwrite``.
    """
    plan = Plan(ss_ids=_ss_ids(options))
    clashes: list[str] = []
    n_clashes = 0
    out_exists = out_dir.is_dir()
    check_existing = out_exists and not (options.resume or options.overwrite)
    ss_matched = False
    first_ids: list[str] = []
    probing = ProbingMatches(options.probing)
    for k, item in enumerate(source()):
        rid = item.id if isinstance(item, Record) else item.record
        probing.see(rid)
        if plan.ss_ids is not None and rid is not None:
            ss_matched = ss_matched or rid in plan.ss_ids
            if len(first_ids) < 4:
                first_ids.append(rid)
        if not options.shard.selects(k):
            continue
        plan.selected += 1
        name = _item_dir_name(item) if out_exists else None
        if name is None:
            continue
        directory = out_dir / name
        if check_existing and directory.exists():
            n_clashes += 1
            if len(clashes) < 3:
                clashes.append(str(directory))
        elif options.resume and isinstance(item, Record):
            doc = outputs.read_complete(directory)
            if doc is not None and outputs.made_from(doc, item.seq, item.ss):
                plan.complete += 1
                if plan.complete == 1:
                    _check_resumable(doc, directory, options)
    if plan.ss_ids and first_ids and not ss_matched:
        assert options.ss_file is not None
        raise _no_ss_match(options.ss_file, plan.ss_ids, first_ids)
    plan.warnings += probing.warnings()
    if n_clashes:
        more = f" (and {n_clashes - len(clashes)} more)" if n_clashes > len(clashes) else ""
        raise OutputExistsError(
            f"output for {n_clashes} record(s) already exists: {', '.join(clashes)}{more}; "
            "pass --resume to keep finished records and fold the rest, or --overwrite to "
            "replace them"
        )
    return plan


def _check_resumable(doc: dict, directory: Path, options: FoldRunOptions) -> None:
    """Refuse ``--resume`` into outputs made with other settings (mixed ensembles otherwise)."""
    before = {**doc.get("settings", {}), "seed": doc.get("run_seed")}
    now = {**options.settings(), "seed": options.seed}
    diff = [
        f"{k} {before.get(k)!r} → {now[k]!r}"
        for k in now
        if k not in RUNTIME_SETTINGS and before.get(k) != now[k]
    ]
    if diff:
        raise OutputExistsError(
            f"--resume: existing outputs were made with other settings ({'; '.join(diff)}); "
            "rerun with the same options, or use --overwrite",
            file=str(directory),
        )


def fold_records(
    source: RecordSource,
    out_dir: str | Path,
    options: FoldRunOptions,
    engine: Engine | None = None,
    reporter: Reporter | None = None,
) -> BatchResult:
    """Fold every record of ``source`` (this shard's share) into ``out_dir``.

    Args:
        source: callable returning a fresh iterator of :class:`Record` (or :class:`RecordError`
            for a record that failed validation); called twice (plan, then fold).
        out_dir: output directory (created).
        options: batch options.
        engine: the folding engine; None loads the shipped weights (``options.weights_dir``).
        reporter: progress sink (default: silent).

    Returns:
        :class:`BatchResult` (counts; ``exit_code`` 0 or 3).

    Raises:
        InputError, OutputExistsError, WeightsError, RnapredictError: usage errors (exit 2),
            all raised before the first record is folded (an unwritable ``out_dir`` too).
        OutputWriteError: writing outputs failed mid-batch (disk full, I/O error; exit 4):
            the batch stops after giving the record a ``failed`` row; finished records stay.
    """
    out_dir = Path(out_dir)
    reporter = reporter or NullReporter()
    t_start = time.perf_counter()
    plan = plan_batch(source, out_dir, options)
    check_output_dir(out_dir)
    device = resolve_device(options.device)
    if engine is None and plan.todo > 0:
        engine = schedule.engine_for(options, device)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the output directory: {exc.strerror}", file=str(out_dir)
        ) from None
    # Default: what is available now, shared by the --jobs workers.
    max_memory = options.max_memory or available_memory() // options.jobs
    if plan.todo > 0 and options.jobs == 1:
        apply_threads(options.worker_threads)
    ctx = RecordContext(
        out_dir=out_dir,
        options=options,
        fold_options=options.fold_options(device),
        engine=engine,
        max_memory=max_memory,
    )
    result = BatchResult(out_dir=out_dir)
    summary = SummaryWriter(out_dir / SUMMARY, interval=options.summary_interval)
    claimed: set[str] = set()
    stop: OutputWriteError | None = None
    reporter.start(plan.todo, plan.complete)
    for message in plan.warnings:
        schedule.warn(reporter, message)
    items = schedule.prepared_items(ctx, source, claimed, reporter, plan.ss_ids)
    try:
        with schedule.folding(ctx, items) as steps:
            for k, item, res in steps:
                if isinstance(res, OutputWriteError):
                    stop = res
                    outcome = _stopped(item, k, stop)
                else:
                    outcome = res
                result.add(outcome)
                try:
                    summary.add(outcome.summary_row())
                except OSError as exc:
                    stop = stop or write_error(exc, out_dir / SUMMARY)
                reporter.done(outcome)
                if stop is not None:
                    break
    finally:
        try:
            summary.flush()
            ensure_summary(out_dir / SUMMARY)
        except OSError as exc:
            stop = stop or write_error(exc, out_dir / SUMMARY)
        result.elapsed_s = time.perf_counter() - t_start
        reporter.finish(result)
    if stop is not None:
        kept = result.ok + result.skipped
        raise OutputWriteError(
            f"{stop.message}; stopped after {result.total} of {plan.selected} records "
            f"({kept} finished record(s) are kept in {out_dir}); free space or fix the output "
            "directory, then rerun with --resume to fold the rest"
        )
    return result


def _stopped(item: Item, k: int, err: OutputWriteError) -> RecordOutcome:
    """The ``failed`` row of the record whose outputs could not be written."""
    if isinstance(item, Record):
        rid, length = item.id, len(item.seq)
    else:
        rid, length = item.record, item.length if item.length is not None else -1
    return RecordOutcome(id=rid, index=k, status="failed", length=length, error=err.message)


def fold_inputs(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    options: FoldRunOptions,
    engine: Engine | None = None,
    reporter: Reporter | None = None,
) -> BatchResult:
    """Fold the records of FASTA files (``.gz``, ``-`` for stdin) into ``out_dir``.

    The library entry point of ``rnapredict fold``; see :func:`fold_records`. Standard input is
    spooled to a temporary file so it can be planned and then folded in two streaming passes.
    """
    with input_source(inputs, options.ss_file, options.probing) as source:
        return fold_records(source, out_dir, options, engine=engine, reporter=reporter)
