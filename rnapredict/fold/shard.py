"""Sharding a record stream across array jobs: ``--shard I/N`` folds every N-th record.

Shard ``I`` of ``N`` (1-based, as users count: ``1/4`` … ``4/4``) takes the records whose
0-based stream index ``k`` satisfies ``k % N == I - 1``. Which shard a record falls in depends
only on its position in the input stream, and its seed only on its id and ``--seed``, so the
union of all shards is exactly the unsharded run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from rnapredict.errors import RnapredictError


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int = 1
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise RnapredictError(
                f"--shard {self.index}/{self.count}: need 1 <= I <= N (e.g. --shard 1/4)"
            )

    def selects(self, stream_index: int) -> bool:
        """Whether the record at 0-based ``stream_index`` belongs to this shard."""
        return stream_index % self.count == self.index - 1

    @property
    def is_whole(self) -> bool:
        return self.count == 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"I/N"`` → :class:`Shard` (1-based ``I``).

    Raises:
        RnapredictError: malformed text or ``I`` outside ``1..N`` (a usage error, exit 2).
    """
    head, sep, tail = text.strip().partition("/")
    if not sep or not head.strip().isdigit() or not tail.strip().isdigit():
        raise RnapredictError(f"--shard {text!r}: expected I/N with integers, e.g. --shard 2/8")
    return Shard(int(head), int(tail))


def _env_int(env: Mapping[str, str], key: str) -> int | None:
    value = env.get(key, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise RnapredictError(f"environment variable {key}={value!r} is not an integer") from None


def shard_from_env(env: Mapping[str, str] | None = None) -> Shard | None:
    """The shard of this SLURM array task, or None outside an array job.

    Uses ``SLURM_ARRAY_TASK_ID`` and ``SLURM_ARRAY_TASK_COUNT``; ``SLURM_ARRAY_TASK_MIN`` and
    ``SLURM_ARRAY_TASK_STEP`` (set by SLURM for ``--array=0-15`` or ``--array=1-32:2``) map the
    task id onto ``1..N`` whatever the array's first id and step. Without ``..._MIN`` a task id in
    ``0..N-1`` is read as 0-based, one equal to ``N`` as 1-based.
    """
    env = os.environ if env is None else env
    task = _env_int(env, "SLURM_ARRAY_TASK_ID")
    count = _env_int(env, "SLURM_ARRAY_TASK_COUNT")
    if task is None or count is None:
        return None
    first = _env_int(env, "SLURM_ARRAY_TASK_MIN")
    step = _env_int(env, "SLURM_ARRAY_TASK_STEP") or 1
    if first is not None:
        offset, rem = divmod(task - first, step)
        if rem or not 0 <= offset < count:
            raise RnapredictError(
                f"SLURM_ARRAY_TASK_ID={task} does not fit an array of {count} tasks starting at "
                f"{first} with step {step}; pass --shard I/N explicitly"
            )
        return Shard(offset + 1, count)
    if 0 <= task < count:
        return Shard(task + 1, count)
    return Shard(task, count)  # raises if outside 1..count
