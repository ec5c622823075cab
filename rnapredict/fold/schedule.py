"""Scheduling the folding pass of ``rnapredict fold``: settle what needs no folding, fold
the rest in this process or in ``--jobs`` worker processes, in input order.

The parent decides every record's fate that needs no folding (reader error, ``--resume`` skip,
name clash: :func:`prepared_items`); the rest become :class:`~rnapredict.fold.workers.FoldTask`
s, folded one after the other (:func:`serial`) or by a :class:`~rnapredict.workers.WorkerPool`
(:func:`worker_pool`, results back in input order through :func:`rnapredict.workers.in_order`).
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from rnapredict.errors import OutputWriteError, RecordError, WeightsError
from rnapredict.fold.inputs import Item, RecordSource
from rnapredict.fold.options import FoldRunOptions
from rnapredict.fold.progress import Reporter
from rnapredict.fold.record import RecordContext, fail_record, fold_record, outcome_from_confidence
from rnapredict.fold.results import RecordOutcome
from rnapredict.fold.workers import (
    FoldHandler,
    FoldTask,
    TaskResult,
    died,
    remove_temps,
    write_error,
)
from rnapredict.io.names import name_key, safe_name
from rnapredict.io.records import Record
from rnapredict.pipeline.api import Engine
from rnapredict.results import outputs
from rnapredict.results.summary import printable
from rnapredict.threads import pool_environment
from rnapredict.workers import WorkerPool, in_order

#: ``(stream index, item, outcome settled by the parent | task to fold)``.
Prepared = tuple[int, Item, TaskResult | FoldTask]

#: Records read ahead per worker with ``--jobs`` (bounds memory; lets fast records pass a slow one).
WINDOW_PER_JOB = 4


def engine_for(options: FoldRunOptions, device: str) -> Engine:
    """The shipped (or ``--weights``) engine; torch and weights load only when there is work.

    Raises:
        WeightsError: no usable weights (exit 2, before any folding).
    """
    try:
        from rnapredict.engine import load_engine
    except ImportError as exc:  # an install without the model code
        raise WeightsError(f"no weights: the folding engine is not available ({exc})") from None
    return load_engine(options.weights_dir, device=device)


def _shard_items(source: RecordSource, options: FoldRunOptions) -> Iterator[tuple[int, Item]]:
    """``(stream index, item)`` for the items of this shard."""
    for k, item in enumerate(source()):
        if options.shard.selects(k):
            yield k, item


def prepared_items(
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
        warn(
            reporter,
            f"{ctx.options.ss_file}: no structure for record '{printable(record.id)}'"
            + ("; its structure line is used" if record.ss else "; ViennaRNA MFE is used"),
        )
    if ctx.options.probing is not None and record.probing is None:
        kind, path = ctx.options.probing
        warn(
            reporter,
            f"{path}: no --{kind} data for record '{printable(record.id)}'; folded without any",
        )
    if record.index != k:
        record = replace(record, index=k)
    return FoldTask(record, name, directory)


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


def serial(ctx: RecordContext, prepared: Iterator[Prepared]) -> Iterator[Prepared]:
    """Fold the tasks of ``prepared`` in this process, one after the other."""
    for k, item, prep in prepared:
        if isinstance(prep, FoldTask):
            try:
                if ctx.engine is None:  # the plan found nothing to fold, but this record needs it
                    ctx.engine = engine_for(ctx.options, ctx.fold_options.device)
                prep = fold_record(ctx, prep.record, prep.name, prep.directory)
            except (OutputWriteError, OSError) as exc:
                prep = write_error(exc, ctx.out_dir)
        yield k, item, prep


def worker_pool(ctx: RecordContext) -> WorkerPool:
    """``--jobs`` worker processes sharing ``--threads``; they get ``ctx`` (and its engine,
    loaded here if the plan found nothing to fold) when the first one starts."""

    def payload() -> bytes:
        if ctx.engine is None:
            ctx.engine = engine_for(ctx.options, ctx.fold_options.device)
        return pickle.dumps(FoldHandler(ctx))

    threads = ctx.options.worker_threads
    env = pool_environment(threads)
    return WorkerPool(ctx.options.jobs, threads, payload, died, remove_temps, env=env)


def warn(reporter: Reporter, message: str) -> None:
    """Give ``reporter`` a warning for the user (if it takes warnings)."""
    sink = getattr(reporter, "warn", None)  # reporters written before warnings existed
    if callable(sink):
        sink(message)


@contextlib.contextmanager
def folding(ctx: RecordContext, items: Iterator[Prepared]) -> Iterator[Iterator[Prepared]]:
    """``items`` with every task folded (outcomes in input order): in this process, or, with
    ``--jobs`` > 1, by a worker pool that lives as long as the ``with`` block (closed when
    it ends, killed when it raises)."""
    if ctx.options.jobs == 1:
        yield serial(ctx, items)
        return
    with worker_pool(ctx) as pool:
        yield in_order(items, pool, window=WINDOW_PER_JOB * ctx.options.jobs)
