"""Worker processes for ``--jobs N`` (``fold``, ``minimize``): tasks out, results back in
input order.

Workers are started with ``spawn`` (never ``fork`` after torch has made its thread pools) and
get a pickled *handler* once: a callable that turns one task into its result (for ``fold`` the
record context, engine included). The parent sends one task at a time over a pipe to an idle
worker, so it always knows which task each worker holds: a worker that dies (killed for
memory, a crash) fails that task alone, through the pool's ``on_death``.

Signals: workers ignore SIGINT, so Ctrl-C reaches the parent only, which kills its workers
(SIGKILL: OpenMM and torch would not return to Python for seconds) and calls ``cleanup`` for
each task they held (removing its temp files: every file at a final name is whole, temp +
rename). A worker also dies with its parent (``PR_SET_PDEATHSIG`` on Linux), so a killed
parent leaves no orphans.

:func:`in_order` streams tasks through a pool with at most ``window`` of them read ahead, so
memory stays bounded however long the input, and results leave in input order whichever
worker finishes first.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from multiprocessing.connection import Connection, wait
from typing import Any

from rnapredict.errors import RnapredictError

_PR_SET_PDEATHSIG = 1
#: A worker's first message: it imported everything and has its handler (it can work).
_READY = "__rnapredict_worker_ready__"


class Task:
    """Base class of what the parent sends to a worker (the rest of a stream's items are
    results the parent settled itself)."""


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; else a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _worker_main(conn: Connection, payload: bytes, threads: int) -> None:
    """Worker loop: receive a task (None: stop), run the handler on it, send the result."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _die_with_parent()
    from rnapredict.threads import apply_threads

    apply_threads(threads)
    handler = pickle.loads(payload)
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if task is None:
            return
        try:
            result = handler(task)
        except Exception as exc:  # noqa: BLE001  re-raised in the parent, as a serial run would
            result = _Raised(exc)
        try:
            conn.send(result)
        except (pickle.PicklingError, TypeError, AttributeError):  # an unpicklable exception
            conn.send(_Raised(RuntimeError(f"{type(result.exc).__name__}: {result.exc}")))


class _Raised:
    """An exception the handler raised, carried back to the parent."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


def death_message(exitcode: int | None) -> str:
    """Why a worker ended, for the failure of the task it held."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = f"killed by {name}" + (" (out of memory?)" if -exitcode == signal.SIGKILL else "")
    else:
        why = f"exited with code {exitcode}"
    return f"the worker process running it died ({why})"


def _start_failure(process: multiprocessing.process.BaseProcess) -> RnapredictError:
    process.join(5)
    return RnapredictError(
        f"--jobs: a worker process could not start (exit code {process.exitcode}; its error "
        "is above); a Python script that runs jobs > 1 must guard its entry point with "
        "`if __name__ == '__main__':`"
    )


class _Worker:
    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.task: Task | None = None
        self.ready = False


class WorkerPool:
    """``jobs`` worker processes of ``threads`` threads each, started on first use.

    Args:
        payload: returns the pickled handler (called once, when the first worker starts).
        on_death: the result of a task whose worker died (its message says why).
        cleanup: called for each task that workers held when the pool killed them all
            (Ctrl-C, an error): remove its temp files. Every worker is dead by then.
        env: environment while the workers start (their libraries' thread pools).
    """

    def __init__(
        self,
        jobs: int,
        threads: int,
        payload: Callable[[], bytes],
        on_death: Callable[[Any, str], Any],
        cleanup: Callable[[Any], None] = lambda task: None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.jobs = jobs
        self.threads = threads
        self._payload_fn = payload
        self._payload: bytes | None = None
        self._on_death = on_death
        self._cleanup = cleanup
        self._env = dict(env or {})
        self._mp = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []

    def _start_one(self) -> _Worker:
        if self._payload is None:
            self._payload = self._payload_fn()
        parent, child = self._mp.Pipe(duplex=True)
        saved = {k: os.environ.get(k) for k in self._env}
        os.environ.update(self._env)  # spawn copies the environment at start
        # An ignored SIGINT survives exec: a Ctrl-C during the worker's start-up reaches the
        # parent only (not possible outside the main thread: then the worker sets it itself).
        main_thread = threading.current_thread() is threading.main_thread()
        sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
        try:
            process = self._mp.Process(
                target=_worker_main,
                args=(child, self._payload, self.threads),
                name="rnapredict-worker",
                daemon=True,
            )
            process.start()
        finally:
            if main_thread and sigint is not None:
                signal.signal(signal.SIGINT, sigint)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        child.close()
        worker = _Worker(process, parent)
        self._workers.append(worker)
        return worker

    def has_idle(self) -> bool:
        return sum(w.task is not None for w in self._workers) < self.jobs

    def submit(self, task: Task) -> None:
        """Send ``task`` to an idle worker (starting one if fewer than ``jobs`` run)."""
        idle = [w for w in self._workers if w.task is None]
        worker = idle[0] if idle else self._start_one()
        try:
            worker.conn.send(task)
        except OSError:  # it died while idle: replace it
            worker.process.kill()
            worker.process.join()
            self._workers.remove(worker)
            worker = self._start_one()
            worker.conn.send(task)
        worker.task = task

    def results(self) -> Iterator[tuple[Task, Any]]:
        """Block until at least one busy worker finishes (or dies); its tasks and results.

        Raises:
            RnapredictError: a worker died before it could work (bad start-up: not a task's
                fault, and every replacement would die the same way).
            Exception: whatever the handler raised for a task (as the serial run would).
        """
        busy = [w for w in self._workers if w.task is not None]
        if not busy:
            return
        ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
        for w in busy:
            task = w.task
            assert task is not None
            result: Any = None
            got = False
            if w.conn in ready:
                with contextlib.suppress(EOFError, OSError):
                    result, got = w.conn.recv(), True
                if got and isinstance(result, str) and result == _READY:
                    w.ready = True
                    continue
                if isinstance(result, _Raised):
                    w.task = None
                    raise result.exc
            if not got and (w.conn in ready or w.process.sentinel in ready):
                if not w.ready:
                    raise _start_failure(w.process)
                w.process.join(5)
                if w.process.is_alive():  # a broken pipe from a live worker: end it
                    w.process.kill()
                    w.process.join()
                result, got = self._on_death(task, death_message(w.process.exitcode)), True
                w.conn.close()
                self._workers.remove(w)
            if got:
                w.task = None
                yield task, result

    def close(self) -> None:
        """Stop idle workers cleanly; kill any still working (see :meth:`kill`)."""
        for w in self._workers:
            if w.task is None:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
        for w in self._workers:
            if w.task is None:
                w.process.join(10)
        self.kill()

    def kill(self) -> None:
        """Kill every worker at once (Ctrl-C, a stopped batch) and clean up the tasks they
        held, so no partial file is left."""
        for w in self._workers:
            if w.process.is_alive():
                w.process.kill()
        for w in self._workers:
            w.process.join()
            w.conn.close()
            if w.task is not None:
                self._cleanup(w.task)
        self._workers = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.kill()
        else:
            self.close()


def in_order(
    prepared: Iterator[tuple[int, Any, Any]], pool: WorkerPool, window: int
) -> Iterator[tuple[int, Any, Any]]:
    """``(k, item, result)`` for each ``(k, item, prep)`` of ``prepared``, in input order:
    ``prep`` is the result itself, or a :class:`Task` that ``pool`` turns into it. At most
    ``window`` items (at least one per worker) are read ahead of the one reported next."""
    window = max(window, pool.jobs)
    slots: deque[list[Any]] = deque()  # [k, item, result, done]
    waiting: deque[tuple[list[Any], Task]] = deque()
    in_flight: dict[int, list[Any]] = {}
    exhausted = False
    while True:
        while not exhausted and len(slots) < window:
            try:
                k, item, prep = next(prepared)
            except StopIteration:
                exhausted = True
                break
            is_task = isinstance(prep, Task)
            slot = [k, item, None if is_task else prep, not is_task]
            slots.append(slot)
            if is_task:
                waiting.append((slot, prep))
        while waiting and pool.has_idle():
            slot, task = waiting.popleft()
            pool.submit(task)
            in_flight[id(task)] = slot
        while slots and slots[0][3]:
            k, item, result, _ = slots.popleft()
            yield k, item, result
        if not slots:
            if exhausted:
                return
            continue
        for task, result in pool.results():
            slot = in_flight.pop(id(task))
            slot[2], slot[3] = result, True
