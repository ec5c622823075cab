"""Fault test: SIGKILL a batch in the middle, rerun with --resume, everything is complete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.fold.outputs import read_complete
from rnapredict.fold.summary import read_summary
from rnapredict.io.atomic import TMP_PREFIX
from rnapredict.io.pdbio import read_models
from tests.test_fold_support import StubEngine, random_seq

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import sys
from pathlib import Path
from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.fold.progress import JsonLinesReporter
from tests.test_fold_support import StubEngine
out = Path(sys.argv[2])
fold_inputs([sys.argv[1]], out, FoldRunOptions(n_samples=3, fmt="both", summary_interval=0.0),
            engine=StubEngine(delay=float(sys.argv[3])), reporter=JsonLinesReporter(out))
"""


def _run_and_kill(fasta: Path, out: Path, delay: float, after: int, extra_s: float) -> int:
    """Start a batch in a subprocess, SIGKILL it once ``after`` records are done (+extra_s)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(fasta), str(out), str(delay)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        text=True,
    )
    done = 0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            json.loads(line)
            done += 1
            if done >= after:
                time.sleep(extra_s)
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    return done


@pytest.mark.slow
@pytest.mark.parametrize("delay, extra_s", [(0.3, 0.1), (0.0, 0.02)])
def test_sigkill_then_resume_completes_everything(
    tmp_path: Path, delay: float, extra_s: float
) -> None:
    rng = np.random.default_rng(5)
    n = 30
    ids = [f"rec{k:03d}" for k in range(n)]
    fasta = tmp_path / "in.fa"
    # Long-ish records with the fast engine so the kill lands inside writes, not between them.
    length = 40 if delay else 400
    fasta.write_text("".join(f">{rid}\n{random_seq(rng, length)}\n" for rid in ids))
    out = tmp_path / "out"
    done = _run_and_kill(fasta, out, delay, after=3, extra_s=extra_s)
    assert done >= 3
    complete_before = sum(read_complete(out / rid) is not None for rid in ids)
    assert 3 <= complete_before < n

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
