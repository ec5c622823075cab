"""``fold --jobs N``: records folded in worker processes give the serial run's bytes, in input
order; a bad record or a dead worker fails alone; ``--resume`` and Ctrl-C keep their meaning.

The stand-in engines below are pickled into the (spawned) workers, so they live at module level.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.fold.progress import JsonLinesReporter
from rnapredict.io.atomic import TMP_PREFIX
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions, Prediction
from rnapredict.results.outputs import read_complete
from rnapredict.results.summary import read_summary
from tests.test_fold_support import StubEngine

REPO = Path(__file__).resolve().parents[1]
SEQS = [
    ("r0", "GGGAAACCCAGCUUAGC"),
    ("r1", "ACGUACGUACGUAAG"),
    ("r2", "GCGCUUCGGCGC"),
    ("bad", "ACGZU"),  # fails in the reader, in the middle of the stream
    ("boom", "ACGUACGU"),  # fails in the engine
    ("r5", "AUGGCUACGUAGCUAGCUAG"),
    ("r6", "CCCCUUUUGGGG"),
    ("r7", "GGAUCCGAUCCAAGGAUCC"),
]


class SlowFirstEngine(StubEngine):
    """The first record is slow, so the workers finish out of input order."""

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        if record.index == 0:
            time.sleep(1.0)
        return super().predict(record, options)


class CrashEngine(StubEngine):
    """Kills the process folding record ``crash`` (a worker killed for memory, a segfault)."""

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        if record.id == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        return super().predict(record, options)


class BlockingEngine(StubEngine):
    """Records in ``block`` leave a temp file in their directory (a write in progress), say
    so in ``marks/<id>.pid`` and never return."""

    def __init__(self, out: Path, marks: Path, block: set[str]) -> None:
        super().__init__()
        self.out, self.marks, self.block = out, marks, block

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        if record.id in self.block:
            (self.out / record.id / f"{TMP_PREFIX}model_1.pdb").write_text("partial")
            (self.marks / f"{record.id}.pid").write_text(str(os.getpid()))
            time.sleep(600)
        return super().predict(record, options)


def write_fasta(path: Path, entries: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f">{rid}\n{seq}\n" for rid, seq in entries))
    return path


def opts(**kw: Any) -> FoldRunOptions:
    return FoldRunOptions(**{"n_samples": 2, "device": "cpu", "summary_interval": 0.0, **kw})


def _run(fa: Path, out: Path, engine: StubEngine, **kw: Any) -> tuple[Any, list[dict]]:
    stream = io.StringIO()
    result = fold_inputs(
        [fa], out, opts(**kw), engine=engine, reporter=JsonLinesReporter(out, stream)
    )
    return result, [json.loads(line) for line in stream.getvalue().splitlines()]


def _untimed(value: Any) -> Any:
    """A confidence.json document without its wall-clock times."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "time_s"}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _record_files(out: Path) -> dict[str, Any]:
    """Every record file: bytes, except confidence.json (parsed, times dropped)."""
    files: dict[str, Any] = {}
    for p in sorted(out.glob("*/*")):
        key = str(p.relative_to(out))
        files[key] = (
            _untimed(json.loads(p.read_text())) if p.name == "confidence.json" else p.read_bytes()
        )
    return files


def _rows(out: Path) -> list[tuple]:
    return [
        (r.id, r.index, r.status, r.name, r.mean_plddt, r.error)
        for r in read_summary(out / "summary.tsv")
    ]


@pytest.mark.slow
def test_jobs_give_the_serial_bytes_in_input_order(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", SEQS)
    serial, parallel = tmp_path / "serial", tmp_path / "jobs2"
    res1, lines1 = _run(fa, serial, SlowFirstEngine(fail_ids=["boom"]), jobs=1, threads=1)
    res2, lines2 = _run(fa, parallel, SlowFirstEngine(fail_ids=["boom"]), jobs=2, threads=2)
    assert (
        (res2.ok, res2.failed, res2.exit_code)
        == (res1.ok, res1.failed, res1.exit_code)
        == (6, 2, 3)
    )
    ids = [rid for rid, _ in SEQS]
    assert [d["id"] for d in lines2] == [d["id"] for d in lines1] == ids
    assert [d["index"] for d in lines2] == list(range(len(SEQS)))
    assert {d["id"]: d["status"] for d in lines2 if d["status"] != "ok"} == {
        "bad": "failed",
        "boom": "failed",
    }
    assert _rows(parallel) == _rows(serial)
    assert [r[0] for r in _rows(parallel)] == ids
    files = _record_files(parallel)
    assert files == _record_files(serial)
    assert files["r0/confidence.json"]["settings"]["threads"] == 1  # 2 threads over 2 jobs
    assert not list(parallel.rglob(f"{TMP_PREFIX}*"))


@pytest.mark.slow
def test_a_dead_worker_fails_its_record_only(tmp_path: Path) -> None:
    entries = [
        ("a", "GGGAAACCC"),
        ("crash", "ACGUACGUAC"),
        ("b", "GCGCUUCGGCGC"),
        ("c", "CCCCUUUUGGGG"),
    ]
    fa = write_fasta(tmp_path / "in.fa", entries)
    out = tmp_path / "out"
    result, lines = _run(fa, out, CrashEngine(), jobs=2, threads=2)
    assert (result.ok, result.failed, result.exit_code) == (3, 1, 3)
    assert [d["id"] for d in lines] == ["a", "crash", "b", "c"]
    (crash,) = [d for d in lines if d["status"] == "failed"]
    assert (
        crash["id"] == "crash"
        and "worker process running it died (killed by SIGKILL" in crash["error"]
    )
    assert "record 'crash'" in (out / "crash" / "error.txt").read_text()
    assert all(read_complete(out / rid) is not None for rid in ("a", "b", "c"))


@pytest.mark.slow
def test_resume_with_jobs_completes_a_partial_run(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", SEQS)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    _run(write_fasta(tmp_path / "part.fa", SEQS[:3]), out, StubEngine(), threads=2)
    # --threads 2 --jobs 2 folds with 1 thread per record: a runtime setting, not a reason to
    # refuse --resume.
    result, lines = _run(fa, out, StubEngine(fail_ids=["boom"]), jobs=2, threads=2, resume=True)
    assert (result.skipped, result.ok, result.failed) == (3, 3, 2)
    assert [d["id"] for d in lines] == [rid for rid, _ in SEQS]
    assert [d["status"] for d in lines[:3]] == ["skipped"] * 3
    _run(fa, fresh, StubEngine(fail_ids=["boom"]), threads=1)
    assert _rows(out) == _rows(fresh)
    assert {k: v for k, v in _record_files(out).items() if not k.endswith("confidence.json")} == {
        k: v for k, v in _record_files(fresh).items() if not k.endswith("confidence.json")
    }


CHILD = """
import sys
from pathlib import Path
import rnapredict.fold.schedule as schedule
from tests.test_batch_jobs import BlockingEngine
fasta, out, marks = sys.argv[1:4]
schedule.engine_for = lambda options, device: BlockingEngine(Path(out), Path(marks), {"r2", "r5"})
sys.argv = ["rnapredict", "fold", fasta, "-o", out, "--jobs", "2", "--threads", "2", "-n", "2",
            "--json", "-q"]
from rnapredict.cli import main
main()
"""


@pytest.mark.slow
def test_ctrl_c_stops_workers_and_leaves_no_partial_file(tmp_path: Path) -> None:
    entries = [(rid, seq) for rid, seq in SEQS if rid not in ("bad", "boom")]
    fa = write_fasta(tmp_path / "in.fa", entries)
    out, marks = tmp_path / "out", tmp_path / "marks"
    marks.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(fa), str(out), str(marks)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait (not a timing assertion) until both workers hold a record mid-write.
        deadline = time.monotonic() + 240
        while len(list(marks.glob("*.pid"))) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "workers never reached the blocked records"
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        workers = [int(p.read_text()) for p in marks.glob("*.pid")]
        assert len(list(out.rglob(f"{TMP_PREFIX}*"))) == 2  # the writes in progress
        os.kill(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr
    for pid in workers:  # joined by the parent: not running, not even a zombie
        assert not Path(f"/proc/{pid}").exists()
    assert not list(out.rglob(f"{TMP_PREFIX}*"))
    done = [json.loads(line)["id"] for line in stdout.splitlines()]
    assert done == ["r0", "r1"]  # r2 blocked, so nothing after it was reported
    assert [r.id for r in read_summary(out / "summary.tsv")] == ["r0", "r1"]
    assert read_complete(out / "r2") is None and read_complete(out / "r5") is None


@pytest.mark.slow
def test_real_models_do_not_depend_on_threads_or_jobs(tmp_path: Path) -> None:
    """The shipped engine gives the same bytes on 1 or 2 torch threads, in this process or a
    worker (measured at 60–450 nt too: bench/throughput.py checks every model file)."""
    import torch

    from rnapredict.engine import load_engine

    rng = np.random.default_rng(3)
    entries = [(f"x{n}", "".join(rng.choice(list("ACGU"), size=n))) for n in (36, 64)]
    fa = write_fasta(tmp_path / "in.fa", entries)
    engine = load_engine()
    before = torch.get_num_threads()
    runs = {}
    try:
        for jobs, threads in ((1, 1), (1, 2), (2, 2)):
            out = tmp_path / f"out_{jobs}x{threads}"
            result, _ = _run(fa, out, engine, jobs=jobs, threads=threads, n_samples=3)
            assert result.ok == 2
            files = _record_files(out)
            for key, value in files.items():
                if key.endswith("confidence.json"):
                    value["settings"].pop("threads")
            runs[(jobs, threads)] = files
    finally:
        torch.set_num_threads(before)
    assert runs[(1, 2)] == runs[(1, 1)]
    assert runs[(2, 2)] == runs[(1, 1)]
