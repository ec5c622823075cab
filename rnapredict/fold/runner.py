"""The batch loop behind ``rnapredict fold``: stream records, fold, write, report.

Two passes over the (streamed) input: a cheap planning pass that validates the input as a whole
and finds existing outputs — so every usage error (exit 2) comes before any folding — and the
folding pass. Records are never held in memory beyond the one being folded; the batch keeps
counts only, so memory stays flat over any number of records.
"""

from __future__ import annotations

import contextlib
import pickle
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rnapredict.engine.api import Engine, resolve_device
from rnapredict.errors import (
    InputError,
    OutputExistsError,
    OutputWriteError,
    RecordError,
    WeightsError,
)
from rnapredict.fold.inputs import Item, ProbingMatches, RecordSource, input_source
from rnapredict.fold.options import RUNTIME_SETTINGS, FoldRunOptions
from rnapredict.fold.preflight import available_memory
from rnapredict.fold.progress import NullReporter, Reporter
from rnapredict.fold.record import (
    RecordContext,
    fail_record,
    fold_record,
    outcome_from_confidence,
)
from rnapredict.fold.results import BatchResult, RecordOutcome
from rnapredict.fold.workers import (
    FoldHandler,
    FoldTask,
    TaskResult,
    died,
    remove_temps,
    write_error,
)
from rnapredict.io.atomic import check_output_dir
from rnapredict.io.names import name_key, safe_name
from rnapredict.io.records import Record
from rnapredict.io.ssfiles import read_ss_entries
from rnapredict.results import outputs
from rnapredict.results.summary import SUMMARY, SummaryWriter, ensure_summary, printable
from rnapredict.threads import apply_threads, pool_environment
from rnapredict.workers import WorkerPool, in_order

#: ``(stream index, item, outcome settled by the parent | task to fold)``.
Prepared = tuple[int, Item, TaskResult | FoldTask]

#: Records read ahead per worker with ``--jobs`` (bounds memory; lets fast records pass a slow one).
_WINDOW_PER_JOB = 4


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


def _shard_items(source: RecordSource, options: FoldRunOptions) -> Iterator[tuple[int, Item]]:
    """``(stream index, item)`` for the items of this shard."""
    for k, item in enumerate(source()):
        if options.shard.selects(k):
            yield k, item


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


def _load_engine(options: FoldRunOptions, device: str) -> Engine:
    """The shipped (or ``--weights``) engine; torch and weights load only when there is work.

    Raises:
        WeightsError: no usable weights (exit 2, before any folding).
    """
    try:
        from rnapredict.engine import load_engine
    except ImportError as exc:  # an install without the model code
        raise WeightsError(f"no weights: the folding engine is not available ({exc})") from None
    return load_engine(options.weights_dir, device=device)


def _failed_item(err: RecordError, k: int, out_dir: Path, claimed: set[str]) -> RecordOutcome:
    """A record the reader rejected: ``error.txt`` in its own directory, or
    ``error-<k>.txt`` in the directory of the earlier record that owns its name (duplicate id,
    colliding names); nothing is written for a record without an id."""
    rid = err.record
    # The reader sets ``safe_name`` (None for a duplicate / colliding id: not this record's).
    default = safe_name(rid) if rid else None
    name = getattr(err, "safe_name", default)
    length = err.length if err.length is not None else -1
    directory = borrowed = None
    if name is not None and name_key(name) not in claimed:
        claimed.add(name_key(name))
        directory = outputs.record_dir(out_dir, name)
    elif rid:
        borrowed = outputs.record_dir(out_dir, name or safe_name(rid))
    return fail_record(rid, k, name, directory, str(err), length=length, borrowed=borrowed)


def _resumed(directory: Path, name: str, k: int, record: Record) -> RecordOutcome | None:
    doc = outputs.read_complete(directory)
    if doc is None or not outputs.made_from(doc, record.seq, record.ss):
        return None
    outputs.remove_temps(directory)
    outcome = outcome_from_confidence(doc, status="skipped")
    if outcome.index != k or outcome.name != name:  # same record, input reordered
        outcome = RecordOutcome(**{**outcome.__dict__, "index": k, "name": name})
    return outcome


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
        engine = _load_engine(options, device)
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
        _warn(reporter, message)
    prepared = _prepared(ctx, source, claimed, reporter, plan.ss_ids)
    try:
        with contextlib.ExitStack() as stack:
            if options.jobs > 1:
                pool = stack.enter_context(_pool(ctx))
                steps = in_order(prepared, pool, window=_WINDOW_PER_JOB * options.jobs)
            else:
                steps = _serial(ctx, prepared)
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


def _warn(reporter: Reporter, message: str) -> None:
    warn = getattr(reporter, "warn", None)  # reporters written before warnings existed
    if callable(warn):
        warn(message)


def _prepared(
    ctx: RecordContext,
    source: RecordSource,
    claimed: set[str],
    reporter: Reporter,
    ss_ids: frozenset[str] | None,
) -> Iterator[Prepared]:
    """This shard's items in input order, each with its outcome when the parent settles it
    (reader error, ``--resume`` skip, name clash) or the :class:`FoldTask` that folds it; a
    write failure while settling one is its :class:`OutputWriteError`."""
    for k, item in _shard_items(source, ctx.options):
        prep: TaskResult | FoldTask
        try:
            if isinstance(item, RecordError):
                reporter.begin(k, item.record)
                prep = _failed_item(item, k, ctx.out_dir, claimed)
            else:
                prep = _prepare(ctx, item, k, claimed, reporter, ss_ids)
        except (OutputWriteError, OSError) as exc:
            prep = write_error(exc, ctx.out_dir)
        yield k, item, prep


def _serial(ctx: RecordContext, prepared: Iterator[Prepared]) -> Iterator[Prepared]:
    """Fold the tasks of ``prepared`` in this process, one after the other."""
    for k, item, prep in prepared:
        if isinstance(prep, FoldTask):
            try:
                if ctx.engine is None:  # the plan found nothing to fold, but this record needs it
                    ctx.engine = _load_engine(ctx.options, ctx.fold_options.device)
                prep = fold_record(ctx, prep.record, prep.name, prep.directory)
            except (OutputWriteError, OSError) as exc:
                prep = write_error(exc, ctx.out_dir)
        yield k, item, prep


def _pool(ctx: RecordContext) -> WorkerPool:
    """``--jobs`` worker processes sharing ``--threads``; they get ``ctx`` (and its engine,
    loaded here if the plan found nothing to fold) when the first one starts."""

    def payload() -> bytes:
        if ctx.engine is None:
            ctx.engine = _load_engine(ctx.options, ctx.fold_options.device)
        return pickle.dumps(FoldHandler(ctx))

    threads = ctx.options.worker_threads
    env = pool_environment(threads)
    return WorkerPool(ctx.options.jobs, threads, payload, died, remove_temps, env=env)


def _prepare(
    ctx: RecordContext,
    record: Record,
    k: int,
    claimed: set[str],
    reporter: Reporter,
    ss_ids: frozenset[str] | None = None,
) -> RecordOutcome | FoldTask:
    """A record's outcome when it needs no folding (a name clash, complete under
    ``--resume``), else the task that folds it."""
    name = safe_name(record.id)
    if name_key(name) in claimed:  # the reader should have caught this; never clobber
        reporter.begin(k, record.id)
        return fail_record(
            record.id,
            k,
            name,
            None,
            f"output name {name!r} of record '{printable(record.id)}' is already used by "
            "another record of this input",
            length=len(record.seq),
            borrowed=outputs.record_dir(ctx.out_dir, name),
        )
    claimed.add(name_key(name))
    directory = outputs.record_dir(ctx.out_dir, name)
    if ctx.options.resume:
        done = _resumed(directory, name, k, record)
        if done is not None:
            return done
    reporter.begin(k, record.id)
    if ss_ids is not None and record.id not in ss_ids:
        _warn(
            reporter,
            f"{ctx.options.ss_file}: no structure for record '{printable(record.id)}'"
            + ("; its structure line is used" if record.ss else "; ViennaRNA MFE is used"),
        )
    if ctx.options.probing is not None and record.probing is None:
        kind, path = ctx.options.probing
        _warn(
            reporter,
            f"{path}: no --{kind} data for record '{printable(record.id)}'; folded without any",
        )
    if record.index != k:
        record = replace(record, index=k)
    return FoldTask(record, name, directory)


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
