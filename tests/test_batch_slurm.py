"""examples/slurm_array.sh: array tasks run concurrently into one OUT, summary merges safely."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnapredict.results.outputs import read_complete
from rnapredict.results.summary import read_summary
from tests.test_fold_support import random_seq

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "examples" / "slurm_array.sh"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_slurm_array_tasks_share_one_out(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(2)
    ids = [f"r{k:02d}" for k in range(12)]
    fasta = tmp_path / "in.fa"
    fasta.write_text("".join(f">{rid}\n{random_seq(rng, 20)}\n" for rid in ids))
    # `rnapredict` on PATH = the real CLI with the stand-in engine (slow enough to overlap).
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "rnapredict"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m tests.test_fold_support "$@"\n')
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "RNAPREDICT_STUB_DELAY": "0.05",
        "SLURM_ARRAY_TASK_COUNT": "3",
        "SLURM_ARRAY_TASK_MIN": "1",
    }
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            ["bash", str(SCRIPT), str(fasta), str(out), "-n", "1", "--device", "cpu"],
            cwd=REPO,
            env={**env, "SLURM_ARRAY_TASK_ID": str(task)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for task in (1, 2, 3)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [r[1][-2000:] for r in results]
    # Each task printed its own records as JSON Lines: every 3rd record.
    for k, (stdout, _) in enumerate(results):
        assert [json.loads(x)["id"] for x in stdout.splitlines()] == ids[k::3]
    rows = list(read_summary(out / "summary.tsv"))
    assert [r.id for r in rows] == ids and all(r.status == "ok" for r in rows)
    assert all(read_complete(out / rid) is not None for rid in ids)
