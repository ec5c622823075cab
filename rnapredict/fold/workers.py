"""Worker processes for ``--jobs N``: each folds one record at a time, sent by the parent.

Workers are started with ``spawn`` (never ``fork`` after torch has its thread pools) and get
the batch's :class:`~rnapredict.fold.record.RecordContext` (engine included) pickled once. The
parent sends one task at a time over a pipe to an idle worker, so it always knows which record
each worker holds: a worker that dies (killed for memory, a crash) fails that record alone.

Signals: workers ignore SIGINT, so Ctrl-C reaches the parent only, which kills its workers
(SIGKILL: OpenMM and torch would not return to Python for seconds) and removes the temp files
of the records they held; every file at a final name is whole (temp + rename). A worker also
dies with its parent (``PR_SET_PDEATHSIG`` on Linux), so a killed parent leaves no orphans.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from rnapredict.errors import OutputWriteError, RnapredictError
from rnapredict.fold import outputs
from rnapredict.fold.results import RecordOutcome
from rnapredict.io.records import Record

_PR_SET_PDEATHSIG = 1
#: A worker's first message: it imported everything and has its context (it can fold).
_READY = "ready"


@dataclass(frozen=True)
class FoldTask:
    """A record the parent has checked and named, to be folded into ``directory``."""

    record: Record
    name: str
    directory: Path


#: What folding a task gave: its outcome, or the write error that stops the batch.
TaskResult = RecordOutcome | OutputWriteError


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; else a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _worker_main(conn: Connection, payload: bytes, threads: int) -> None:
    """Worker loop: receive a :class:`FoldTask` (None: stop), fold it, send the result."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _die_with_parent()
    from rnapredict.fold.record import fold_record
    from rnapredict.threads import apply_threads

    apply_threads(threads)
    ctx = pickle.loads(payload)
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if task is None:
            return
        result: Any
        try:
            result = fold_record(ctx, task.record, task.name, task.directory)
        except OutputWriteError as err:
            result = err
        except OSError as exc:
            why = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
            result = OutputWriteError(f"cannot write {exc.filename or task.directory}: {why}")
        conn.send(result)


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = f"killed by {name}" + (" (out of memory?)" if -exitcode == signal.SIGKILL else "")
    else:
        why = f"exited with code {exitcode}"
    return f"the worker process folding it died ({why}); not folded"


def _start_failure(process: multiprocessing.process.BaseProcess) -> RnapredictError:
    process.join(5)
    return RnapredictError(
        f"--jobs: a worker process could not start (exit code {process.exitcode}; its error "
        "is above); a Python script that folds with jobs > 1 must guard its entry point with "
        "`if __name__ == '__main__':`"
    )


class _Worker:
    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.task: FoldTask | None = None
        self.ready = False


class WorkerPool:
    """``jobs`` worker processes, each running ``threads`` threads, started on first use.

    Args:
        payload: the pickled :class:`~rnapredict.fold.record.RecordContext` (engine included).
        on_death: turns a task whose worker died into its outcome (the record fails).
        env: environment overrides while the workers start (their libraries' thread pools).
    """

    def __init__(
        self,
        jobs: int,
        threads: int,
        payload: Callable[[], bytes],
        on_death: Callable[[FoldTask, str], TaskResult],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.jobs = jobs
        self.threads = threads
        self._payload_fn = payload
        self._payload: bytes | None = None
        self._on_death = on_death
        self._env = dict(env or {})
        self._mp = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []

    def _start_one(self) -> _Worker:
        if self._payload is None:
            self._payload = self._payload_fn()
        parent, child = self._mp.Pipe(duplex=True)
        saved = {k: os.environ.get(k) for k in self._env}
        os.environ.update(self._env)  # spawn copies the environment at start
        try:
            process = self._mp.Process(
                target=_worker_main,
                args=(child, self._payload, self.threads),
                name="rnapredict-fold-worker",
                daemon=True,
            )
            process.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        child.close()
        worker = _Worker(process, parent)
        self._workers.append(worker)
        return worker

    @property
    def busy(self) -> int:
        return sum(w.task is not None for w in self._workers)

    def has_idle(self) -> bool:
        return self.busy < self.jobs

    def submit(self, task: FoldTask) -> None:
        """Send ``task`` to an idle worker (starting one if fewer than ``jobs`` run)."""
        idle = [w for w in self._workers if w.task is None]
        worker = idle[0] if idle else self._start_one()
        worker.task = task
        worker.conn.send(task)

    def results(self) -> Iterator[tuple[FoldTask, TaskResult]]:
        """Block until at least one busy worker finishes (or dies); its tasks and results."""
        busy = [w for w in self._workers if w.task is not None]
        if not busy:
            return
        ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
        for w in busy:
            task = w.task
            assert task is not None
            result: TaskResult | None = None
            if w.conn in ready:
                with contextlib.suppress(EOFError, OSError):
                    result = w.conn.recv()
                if result == _READY:
                    w.ready, result = True, None
                    continue
            if result is None and (w.conn in ready or w.process.sentinel in ready):
                if not w.ready:
                    raise _start_failure(w.process)
                w.process.join(5)
                if w.process.is_alive():  # a broken pipe from a live worker: end it
                    w.process.kill()
                    w.process.join()
                outputs.remove_temps(task.directory)
                result = self._on_death(task, _death_message(w.process.exitcode))
                w.conn.close()
                self._workers.remove(w)
            if result is not None:
                w.task = None
                yield task, result

    def close(self) -> None:
        """Stop idle workers cleanly; kill any still folding and clear their temp files."""
        for w in self._workers:
            if w.task is None:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
        for w in self._workers:
            if w.task is None:
                w.process.join(10)
        self.kill()

    def kill(self) -> None:
        """Kill every worker at once (Ctrl-C, a stopped batch) and remove the temp files of
        the records they held, so no partial file is left."""
        for w in self._workers:
            if w.process.is_alive():
                w.process.kill()
        for w in self._workers:
            w.process.join()
            w.conn.close()
            if w.task is not None:
                outputs.remove_temps(w.task.directory)
        self._workers = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill() if exc[0] is not None else self.close()
