"""Thread counts: the default a job gets (SLURM, affinity, cgroup quota), how ``--threads``
and ``--jobs`` size every library's pool, and the CLI reporting its choice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rnapredict.engine
from rnapredict.cli import app
from rnapredict.errors import RnapredictError
from rnapredict.fold import FoldRunOptions
from rnapredict.threads import (
    apply_threads,
    cgroup_cpu_quota,
    choose_threads,
    configure_environment,
    default_threads,
    pool_environment,
    split_threads,
)
from tests.test_fold_support import StubEngine


def _cgroup_v2(tmp_path: Path, quotas: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup v2 tree with ``cpu.max`` per level, and a /proc/self/cgroup naming its leaf."""
    root = tmp_path / "cgroup"
    leaf = "/"
    for rel, text in quotas.items():
        d = root / rel.lstrip("/")
        d.mkdir(parents=True, exist_ok=True)
        (d / "cpu.max").write_text(text + "\n")
        leaf = max(leaf, rel, key=len)
    proc = tmp_path / "proc_cgroup"
    proc.write_text(f"0::{leaf}\n")
    return root, proc


def test_cgroup_v2_quota_is_the_tightest_level_rounded_up(tmp_path: Path) -> None:
    root, proc = _cgroup_v2(
        tmp_path, {"/": "max 100000", "/slice": "350000 100000", "/slice/job": "150000 100000"}
    )
    assert cgroup_cpu_quota(root, proc) == 2  # 1.5 CPUs: two threads, not one
    root, proc = _cgroup_v2(tmp_path / "b", {"/": "max 100000", "/job": "max 100000"})
    assert cgroup_cpu_quota(root, proc) is None
    root, proc = _cgroup_v2(tmp_path / "c", {"/": "max 100000", "/job": "20000 100000"})
    assert cgroup_cpu_quota(root, proc) == 1  # a fifth of a CPU still gets one thread


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    cpu = tmp_path / "cgroup" / "cpu,cpuacct"
    cpu.mkdir(parents=True)
    (cpu / "cpu.cfs_quota_us").write_text("400000\n")
    (cpu / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "proc_cgroup"
    proc.write_text("4:cpu,cpuacct:/job\n")
    assert cgroup_cpu_quota(tmp_path / "cgroup", proc) == 4
    (cpu / "cpu.cfs_quota_us").write_text("-1\n")  # no limit
    assert cgroup_cpu_quota(tmp_path / "cgroup", proc) is None


def test_default_threads_order() -> None:
    affinity = len(os.sched_getaffinity(0))
    slurm = default_threads({"SLURM_CPUS_PER_TASK": "3", "OMP_NUM_THREADS": "7"}, quota=None)
    assert (slurm.threads, slurm.source) == (3, "SLURM_CPUS_PER_TASK")
    # OMP_NUM_THREADS is an output of the choice, not an input.
    plain = default_threads({"OMP_NUM_THREADS": "7"}, quota=None)
    assert (plain.threads, plain.source) == (affinity, "CPU affinity")
    capped = default_threads({}, quota=1)
    assert (capped.threads, capped.source) == (1, "cgroup CPU quota")
    assert default_threads({}, quota=affinity + 8).threads == affinity
    assert default_threads({"SLURM_CPUS_PER_TASK": "junk"}, quota=None).source == "CPU affinity"


def test_choose_and_split() -> None:
    assert choose_threads(5).threads == 5 and choose_threads(5).source == "--threads"
    with pytest.raises(RnapredictError, match="--threads 0"):
        choose_threads(0)
    assert [split_threads(t, j) for t, j in [(8, 2), (2, 2), (3, 2), (2, 4), (6, 1)]] == [
        4,
        1,
        1,
        1,
        6,
    ]
    with pytest.raises(RnapredictError, match="--jobs 0"):
        FoldRunOptions(jobs=0)


def test_pool_environment_sizes_every_pool_and_sleeps_idle_workers() -> None:
    env = pool_environment(3, {"OPENMM_CPU_THREADS": "8"})
    assert {k: env[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")} == {
        "OMP_NUM_THREADS": "3",
        "MKL_NUM_THREADS": "3",
        "OPENBLAS_NUM_THREADS": "3",
    }
    assert env["NUMBA_NUM_THREADS"] == "3" and env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert env["OPENMM_CPU_THREADS"] == "3"  # capped, never raised
    assert "OPENMM_CPU_THREADS" not in pool_environment(3, {})  # OpenMM keeps its one thread
    assert pool_environment(2, {"OMP_WAIT_POLICY": "ACTIVE"})["OMP_WAIT_POLICY"] == "ACTIVE"


def test_configure_environment_reads_the_command_line() -> None:
    env: dict[str, str] = {"SLURM_CPUS_PER_TASK": "4"}
    configure_environment(["fold", "in.fa", "-o", "out", "--threads", "6", "--jobs=3"], env)
    assert env["OMP_NUM_THREADS"] == "2" and env["OMP_WAIT_POLICY"] == "PASSIVE"
    env = {"SLURM_CPUS_PER_TASK": "4"}
    configure_environment(["fold", "in.fa", "-o", "out"], env)  # the default: SLURM's 4
    assert env["OMP_NUM_THREADS"] == "4" and env["MKL_NUM_THREADS"] == "4"
    env = {"SLURM_CPUS_PER_TASK": "4"}
    configure_environment(["fold", "--threads", "x"], env)  # left for the command to refuse
    assert env["OMP_NUM_THREADS"] == "4"
    env = {"SLURM_CPUS_PER_TASK": "4"}
    configure_environment(["--debug", "templates", "build", "d", "--jobs", "4"], env)
    assert env["OMP_NUM_THREADS"] == "4"  # not fold's --jobs


def test_apply_threads_sets_the_live_torch_pool() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    env: dict[str, str] = {}
    try:
        apply_threads(1, env)
        assert torch.get_num_threads() == 1 and env["OMP_NUM_THREADS"] == "1"
    finally:
        torch.set_num_threads(before)


def test_fold_verbose_reports_threads_and_confidence_records_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rnapredict.engine, "load_engine", lambda *a, **k: StubEngine())
    fa = tmp_path / "in.fa"
    fa.write_text(">a\nGGGAAACCC\n")
    out = tmp_path / "out"
    args = ["fold", str(fa), "-o", str(out), "-n", "2", "--threads", "3", "-v", "-q"]
    import torch

    before = torch.get_num_threads()
    try:
        res = CliRunner().invoke(app, args, env={"SLURM_CPUS_PER_TASK": "8"})
    finally:
        torch.set_num_threads(before)
    assert res.exit_code == 0, res.output
    assert "3 threads (--threads), 1 job(s)" in res.stderr
    doc = json.loads((out / "a" / "confidence.json").read_text())
    assert doc["settings"]["threads"] == 3
    res = CliRunner().invoke(app, ["fold", str(fa), "-o", str(tmp_path / "o2"), "--jobs", "0"])
    assert res.exit_code == 2 and "--jobs 0" in res.stderr
