"""How many CPU threads a run may use, and setting every library's thread pool to it.

One number bounds torch (OpenMP + MKL), numba, OpenMP in ViennaRNA, BLAS and OpenMM. Its
default is what the job was given, not what the node has: ``SLURM_CPUS_PER_TASK``, else the
process's CPU affinity, capped by the cgroup CPU quota (containers, systemd slices).
``OMP_NUM_THREADS`` and friends are set from it (for child processes and libraries loaded
later), not read: ``--threads`` is the one knob.

Idle OpenMP workers sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``): on a shared node a
spinning pool steals the CPU that other jobs (or the other workers of ``--jobs``) need, and a
fold under contention then costs far more than its lost CPU share. The wait policy is read when
the OpenMP runtime loads, so the CLI calls :func:`configure_environment` before importing
torch; :func:`apply_threads` sets the pools of libraries already loaded.

OpenMM is the exception to "N threads": its CPU platform sums forces in a thread-dependent
order, so it stays on ``OPENMM_CPU_THREADS`` (default one) threads for reproducible bytes,
capped by the thread count; ``--jobs`` is the way to relax in parallel.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rnapredict.errors import RnapredictError

#: Environment variables that size the thread pools of the libraries a fold loads.
POOL_VARIABLES = (
    "OMP_NUM_THREADS",  # torch (OpenMP), ViennaRNA, OpenMP in general
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",  # numpy's BLAS
    "NUMBA_NUM_THREADS",
)
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Subcommands with ``--threads`` / ``--jobs`` as defined here.
THREADED_COMMANDS = frozenset({"fold", "minimize"})


@dataclass(frozen=True)
class ThreadChoice:
    """A thread count and where it came from (printed with ``-v``)."""

    threads: int
    source: str

    def __str__(self) -> str:
        return f"{self.threads} thread{'s' if self.threads != 1 else ''} ({self.source})"


def _positive_int(value: str | None) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def _cgroup_v2_quota(root: Path, rel: str) -> float | None:
    """Smallest ``cpu.max`` quota (CPUs) from the process's cgroup up to the root."""
    best: float | None = None
    path = root / rel.lstrip("/")
    while True:
        try:
            quota, period = (path / "cpu.max").read_text().split()[:2]
            if quota != "max":
                cpus = int(quota) / int(period)
                best = cpus if best is None else min(best, cpus)
        except (OSError, ValueError):
            pass
        if path == root or root not in path.parents:
            return best
        path = path.parent


def _cgroup_v1_quota(root: Path) -> float | None:
    for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        try:
            quota = int((root / name / "cpu.cfs_quota_us").read_text())
            period = int((root / name / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        if quota > 0 and period > 0:
            return quota / period
    return None


def cgroup_cpu_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path | None = None) -> int | None:
    """CPUs the cgroup CPU quota allows (rounded up; at least 1), or None without a quota.

    Args:
        root: the cgroup file system mount.
        proc_cgroup: the process's ``/proc/self/cgroup`` (cgroup v2 line ``0::/path``).
    """
    proc_cgroup = proc_cgroup or Path("/proc/self/cgroup")
    quota: float | None = None
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line.startswith("0::"):
            quota = _cgroup_v2_quota(root, line[3:])
    if quota is None and not (root / "cpu.max").exists():
        quota = _cgroup_v1_quota(root)
    return None if quota is None else max(1, math.ceil(quota - 1e-9))


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_threads(env: Mapping[str, str] | None = None, quota: int | None = -1) -> ThreadChoice:
    """The thread count a run uses without ``--threads``.

    ``SLURM_CPUS_PER_TASK``, else the CPU affinity capped by the cgroup quota. ``quota`` -1
    reads the cgroup (tests pass a value).
    """
    env = os.environ if env is None else env
    n = _positive_int(env.get("SLURM_CPUS_PER_TASK"))
    if n is not None:
        return ThreadChoice(n, "SLURM_CPUS_PER_TASK")
    n, source = _affinity(), "CPU affinity"
    quota = cgroup_cpu_quota() if quota == -1 else quota
    if quota is not None and quota < n:
        n, source = quota, "cgroup CPU quota"
    return ThreadChoice(n, source)


def choose_threads(threads: int | None, env: Mapping[str, str] | None = None) -> ThreadChoice:
    """``--threads`` when given (validated), else :func:`default_threads`.

    Raises:
        RnapredictError: ``threads`` below 1 (a usage error).
    """
    if threads is None:
        return default_threads(env)
    if threads < 1:
        raise RnapredictError(f"--threads {threads}: must be a positive integer")
    return ThreadChoice(threads, "--threads")


def check_jobs(jobs: int) -> int:
    """``jobs`` if it is a usable ``--jobs`` value.

    Raises:
        RnapredictError: below 1 (a usage error).
    """
    if jobs < 1:
        raise RnapredictError(f"--jobs {jobs}: must be a positive integer")
    return jobs


def split_threads(threads: int, jobs: int) -> int:
    """Threads per worker when ``jobs`` workers share ``threads`` (at least one each)."""
    return max(1, threads // max(1, jobs))


def pool_environment(threads: int, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables that size every pool to ``threads`` and keep idle OpenMP workers asleep
    (a user's own ``OMP_WAIT_POLICY`` is kept); ``OPENMM_CPU_THREADS`` is capped."""
    env = os.environ if env is None else env
    out = {key: str(threads) for key in POOL_VARIABLES}
    out["OMP_WAIT_POLICY"] = env.get("OMP_WAIT_POLICY") or "PASSIVE"
    openmm = _positive_int(env.get("OPENMM_CPU_THREADS"))
    if openmm is not None:
        out["OPENMM_CPU_THREADS"] = str(min(openmm, threads))
    return out


def apply_threads(threads: int, env: MutableMapping[str, str] | None = None) -> None:
    """Size the pools of this process to ``threads``: the environment (for libraries not
    loaded yet and child processes) and the live pools of torch and numba."""
    env = os.environ if env is None else env
    env.update(pool_environment(threads, env))
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)  # OpenMP and MKL
    numba = sys.modules.get("numba")
    if numba is not None:
        try:
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        except (AttributeError, ValueError):  # pragma: no cover - numba without a pool
            pass


def _flag_value(argv: Sequence[str], flag: str) -> str | None:
    for k, arg in enumerate(argv):
        if arg == flag and k + 1 < len(argv):
            return argv[k + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def configure_environment(argv: Sequence[str], env: MutableMapping[str, str] | None = None) -> None:
    """Before the heavy imports of a CLI run: size the pools from ``--threads`` / ``--jobs``
    in ``argv`` (or the default) and make idle OpenMP workers sleep.

    Only the environment changes; an unparsable value is left for the command to refuse.
    """
    env = os.environ if env is None else env
    command = next((a for a in argv if not a.startswith("-")), None)
    ours = command in THREADED_COMMANDS  # other commands' --jobs (templates build) differ
    threads = _positive_int(_flag_value(argv, "--threads")) if ours else None
    if threads is None:
        threads = default_threads(env).threads
    jobs = (_positive_int(_flag_value(argv, "--jobs")) if ours else None) or 1
    env.update(pool_environment(split_threads(threads, jobs), env))
