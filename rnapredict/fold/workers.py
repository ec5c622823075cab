"""``fold --jobs``: what a worker process does with a record, and what a dead worker means.

The parent decides every record's fate that needs no folding (reader error, ``--resume`` skip,
name clash) and sends the rest as :class:`FoldTask` s to a
:class:`~rnapredict.workers.WorkerPool`, whose workers hold a :class:`FoldHandler` (the batch's
record context, engine included).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnapredict.errors import OutputWriteError, RecordError
from rnapredict.fold.record import RecordContext, fail_record, fold_record
from rnapredict.fold.results import RecordOutcome
from rnapredict.io.records import Record
from rnapredict.results import outputs
from rnapredict.workers import Task

#: What folding a task gave: its outcome, or the write error that stops the batch.
TaskResult = RecordOutcome | OutputWriteError


@dataclass(frozen=True)
class FoldTask(Task):
    """A record the parent has checked and named, to be folded into ``directory``."""

    record: Record
    name: str
    directory: Path


@dataclass
class FoldHandler:
    """Folds one task in a worker (the serial path's :func:`fold_record`, same bytes)."""

    ctx: RecordContext

    def __call__(self, task: FoldTask) -> TaskResult:
        try:
            return fold_record(self.ctx, task.record, task.name, task.directory)
        except OutputWriteError as err:
            return err
        except OSError as exc:
            return write_error(exc, task.directory)


def write_error(exc: BaseException, path: Path) -> OutputWriteError:
    """An output write failure as :class:`OutputWriteError` naming the path."""
    if isinstance(exc, OutputWriteError):
        return exc
    assert isinstance(exc, OSError)
    where = exc.filename or path
    why = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
    return OutputWriteError(f"cannot write {where}: {why}")


def died(task: FoldTask, message: str) -> RecordOutcome:
    """The ``failed`` outcome (and ``error.txt``) of a record whose worker died; its partial
    files (temp files included) are cleared."""
    record = task.record
    return fail_record(
        record.id,
        record.index,
        task.name,
        task.directory,
        str(RecordError(f"{message}; not folded", file=record.source, record=record.id)),
        length=len(record.seq),
    )


def remove_temps(task: FoldTask) -> None:
    """Remove the temp files a killed worker left in the record's directory."""
    outputs.remove_temps(task.directory)
