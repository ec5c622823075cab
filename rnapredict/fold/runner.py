"""The batch loop behind ``rnapredict fold``: stream records, fold, write, report.

Two passes over the (streamed) input: a cheap planning pass that validates the input as a whole
and finds existing outputs — so every usage error (exit 2) comes before any folding — and the
folding pass. Records are never held in memory beyond the one being folded; the batch keeps
counts only, so memory stays flat over any number of records.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rnapredict.engine.api import Engine
from rnapredict.errors import InputError, OutputExistsError, RecordError, WeightsError
from rnapredict.fold import outputs
from rnapredict.fold.inputs import Item, RecordSource, input_source
from rnapredict.fold.options import FoldRunOptions, resolve_device
from rnapredict.fold.preflight import available_memory
from rnapredict.fold.progress import NullReporter, Reporter
from rnapredict.fold.record import (
    RecordContext,
    fail_record,
    fold_record,
    outcome_from_confidence,
)
from rnapredict.fold.results import BatchResult, RecordOutcome
from rnapredict.fold.summary import SUMMARY, SummaryWriter, ensure_summary, printable
from rnapredict.io.names import name_key, safe_name
from rnapredict.io.records import Record


@dataclass
class Plan:
    """What the planning pass found in this shard."""

    selected: int = 0
    complete: int = 0

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


def plan_batch(source: RecordSource, out_dir: Path, options: FoldRunOptions) -> Plan:
    """Planning pass: count this shard's records and refuse existing outputs.

    Raises:
        InputError: the input as a whole is unusable (raised by the source).
        OutputExistsError: some ``OUT/<id>`` exists and neither ``resume`` nor ``overwrite``.
    """
    plan = Plan()
    clashes: list[str] = []
    n_clashes = 0
    out_exists = out_dir.is_dir()
    check_existing = out_exists and not (options.resume or options.overwrite)
    for _, item in _shard_items(source, options):
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
            if doc is not None:
                plan.complete += 1
                if plan.complete == 1:
                    _check_resumable(doc, directory, options)
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
    diff = [f"{k} {before.get(k)!r} → {now[k]!r}" for k in now if before.get(k) != now[k]]
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
    """A record the reader rejected: error.txt in its own directory unless another record of
    this run owns that directory (duplicate id, colliding names)."""
    rid = err.record
    # The reader sets ``safe_name`` (None for a duplicate / colliding id: not this record's).
    default = safe_name(rid) if rid else None
    name = getattr(err, "safe_name", default)
    directory = None
    if name is not None and name_key(name) not in claimed:
        claimed.add(name_key(name))
        directory = outputs.record_dir(out_dir, name)
    return fail_record(rid, k, name, directory, str(err))


def _resumed(directory: Path, name: str, k: int) -> RecordOutcome | None:
    doc = outputs.read_complete(directory)
    if doc is None:
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
            all raised before the first record is folded.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("output path exists and is not a directory", file=str(out_dir))
    reporter = reporter or NullReporter()
    t_start = time.perf_counter()
    plan = plan_batch(source, out_dir, options)
    device = resolve_device(options.device)
    if engine is None and plan.todo > 0:
        engine = _load_engine(options, device)
    out_dir.mkdir(parents=True, exist_ok=True)
    max_memory = options.max_memory if options.max_memory is not None else available_memory()
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
    reporter.start(plan.todo, plan.complete)
    try:
        for k, item in _shard_items(source, options):
            if isinstance(item, RecordError):
                reporter.begin(k, item.record)
                outcome = _failed_item(item, k, out_dir, claimed)
            else:
                outcome = _one(ctx, item, k, claimed, reporter)
            result.add(outcome)
            summary.add(outcome.summary_row())
            reporter.done(outcome)
    finally:
        summary.flush()
        ensure_summary(out_dir / SUMMARY)
        result.elapsed_s = time.perf_counter() - t_start
        reporter.finish(result)
    return result


def _one(
    ctx: RecordContext, record: Record, k: int, claimed: set[str], reporter: Reporter
) -> RecordOutcome:
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
        )
    claimed.add(name_key(name))
    directory = outputs.record_dir(ctx.out_dir, name)
    if ctx.options.resume:
        done = _resumed(directory, name, k)
        if done is not None:
            return done
    reporter.begin(k, record.id)
    if ctx.engine is None:  # the plan found nothing to fold, but this record needs it
        ctx.engine = _load_engine(ctx.options, ctx.fold_options.device)
    if record.index != k:
        record = replace(record, index=k)
    return fold_record(ctx, record, name, directory)


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
