"""Folding a stream of records on worker processes, results in input order.

The parent reads the input and decides every record's fate (failed by the reader, skipped by
``--resume``, a name clash) itself; only :class:`~rnapredict.fold.workers.FoldTask` s go to the
workers. At most ``window`` records are between "read" and "reported", so memory stays bounded
however long the input, and results leave in input order (``summary.tsv``, ``--json``,
progress) whichever worker finishes first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from rnapredict.fold.workers import FoldTask, TaskResult, WorkerPool

#: One prepared item: ``(stream index, item, outcome already known | task to fold)``.
Prepared = tuple[int, Any, TaskResult | FoldTask]


def in_order(
    prepared: Iterator[Prepared], pool: WorkerPool, window: int
) -> Iterator[tuple[int, Any, TaskResult]]:
    """``(k, item, result)`` for every prepared item, in input order, folding tasks on
    ``pool``; never more than ``window`` items (at least one per worker) read ahead."""
    window = max(window, pool.jobs)
    slots: deque[list[Any]] = deque()  # [k, item, result or None]
    waiting: deque[tuple[list[Any], FoldTask]] = deque()
    in_flight: dict[int, list[Any]] = {}
    exhausted = False
    while True:
        while not exhausted and len(slots) < window:
            try:
                k, item, prep = next(prepared)
            except StopIteration:
                exhausted = True
                break
            slot = [k, item, None if isinstance(prep, FoldTask) else prep]
            slots.append(slot)
            if isinstance(prep, FoldTask):
                waiting.append((slot, prep))
        while waiting and pool.has_idle():
            slot, task = waiting.popleft()
            pool.submit(task)
            in_flight[id(task)] = slot
        while slots and slots[0][2] is not None:
            k, item, result = slots.popleft()
            yield k, item, result
        if not slots:
            if exhausted:
                return
            continue
        if slots[0][2] is None:
            for task, result in pool.results():
                in_flight.pop(id(task))[2] = result
