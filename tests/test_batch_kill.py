"""Fault test: SIGKILL a batch in the middle, rerun with --resume, everything is complete.

The kill is not timed by sleeps: a hook in the child kills the process *inside* a write (the
temp file written, not yet renamed), so the test knows the kill landed mid-record, and checks
the evidence (the temp file and the half-written record) before resuming.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.io.atomic import TMP_PREFIX
from rnapredict.io.pdbio import read_models
from rnapredict.results.outputs import read_complete
from rnapredict.results.summary import read_summary
from tests.test_fold_support import StubEngine, random_seq

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import os, signal, sys
from pathlib import Path
from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.fold.progress import JsonLinesReporter
from tests.test_fold_support import StubEngine
out, kill_at = Path(sys.argv[2]), sys.argv[3]  # kill_at: '<record>/<file name>'
real_replace = os.replace
def replace(src, dst, *a, **k):
    # the temp file is complete and fsynced; SIGKILL before it gets its final name
    if str(dst).endswith(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *a, **k)
os.replace = replace
fold_inputs([sys.argv[1]], out, FoldRunOptions(n_samples=3, fmt="both", summary_interval=0.0),
            engine=StubEngine(), reporter=JsonLinesReporter(out))
"""


def _run_and_kill(fasta: Path, out: Path, kill_at: str) -> int:
    """Run a batch in a subprocess that SIGKILLs itself inside the write of ``kill_at``
    (``record/file``); return the number of records it reported done."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(fasta), str(out), kill_at],
        cwd=REPO,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    return len([json.loads(line) for line in proc.stdout.splitlines()])


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["model_2.cif", "confidence.json"])
def test_sigkill_then_resume_completes_everything(tmp_path: Path, kill_at: str) -> None:
    rng = np.random.default_rng(5)
    n, victim = 12, 4
    ids = [f"rec{k:03d}" for k in range(n)]
    fasta = tmp_path / "in.fa"
    length = 40
    fasta.write_text("".join(f">{rid}\n{random_seq(rng, length)}\n" for rid in ids))
    out = tmp_path / "out"
    done = _run_and_kill(fasta, out, f"{ids[victim]}/{kill_at}")
    assert done == victim  # records before the victim were reported complete
    complete_before = sum(read_complete(out / rid) is not None for rid in ids)
    assert complete_before == victim
    # Evidence that the kill landed mid-record: the victim's temp file and part of its files.
    d = out / ids[victim]
    assert [p.suffix for p in d.glob(f"{TMP_PREFIX}*")] == [Path(kill_at).suffix]
    assert (d / "model_1.pdb").is_file() and not (d / "confidence.json").exists()
    assert not (out / ids[victim + 1]).exists()

    engine = StubEngine()
    result = fold_inputs(
        [fasta], out, FoldRunOptions(n_samples=3, fmt="both", resume=True), engine=engine
    )
    assert result.exit_code == 0 and result.failed == 0
    assert result.skipped == complete_before and result.ok == n - complete_before
    assert engine.calls == n - complete_before
    assert not list(out.rglob(f"{TMP_PREFIX}*"))
    rows = list(read_summary(out / "summary.tsv"))
    assert [r.id for r in rows] == ids and all(r.status == "ok" for r in rows)
    for rid in ids:
        doc = read_complete(out / rid)
        assert doc is not None and doc["id"] == rid
        for m in doc["models"]:
            for f in m["files"]:
                (model,) = read_models(out / rid / f)
                assert model.n_residues == length and np.isfinite(model.coords).all()
