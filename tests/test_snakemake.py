"""The Snakemake example (examples/Snakefile) runs locally: shards fold, summaries merge, and
the merged result equals an unsharded run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.io.pdbio import read_models
from rnapredict.results.summary import read_summary
from tests.test_fold_support import StubEngine

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "examples" / "Snakefile"
FASTA = """>h1 hairpin
GGCGAAAGCC
>h2
GGCACUUCGGUGCC
((((((..))))))
>broken
GGCXAA
>h3
GCGGAUUUAGCUCAGUUGGGAGAGC
>h4
GGGAGCUCCCAAAGGGAGCUCCC
"""


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("snakemake") is None, reason="snakemake not installed")
def test_snakemake_example_shards_and_merges(tmp_path: Path) -> None:
    fasta = tmp_path / "in.fa"
    fasta.write_text(FASTA)
    # The workflow starts `rnapredict` as a program; this runs the real CLI with the stand-in
    # engine so the test checks the workflow's plumbing (shards, resume, exit 3, merge).
    cmd = f"{sys.executable} -m tests.test_fold_support"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(SNAKEFILE),
            "--cores",
            "2",
            "--directory",
            str(tmp_path),
            "--config",
            f"fasta={fasta}",
            "out=res",
            "shards=2",
            "fold_args=-n 2 --device cpu --seed 4",
            f"rnapredict={cmd}",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    merged = list(read_summary(tmp_path / "res" / "summary.tsv"))
    assert [(r.id, r.status) for r in merged] == [
        ("h1", "ok"),
        ("h2", "ok"),
        ("broken", "failed"),
        ("h3", "ok"),
        ("h4", "ok"),
    ]
    assert [r.name for r in merged] == [
        "shard_1of2/h1",
        "shard_2of2/h2",
        "shard_1of2/broken",
        "shard_2of2/h3",
        "shard_1of2/h4",
    ]
    # Same as folding the whole file at once.
    whole = tmp_path / "whole"
    fold_inputs([fasta], whole, FoldRunOptions(n_samples=2, seed=4), engine=StubEngine())
    single = list(read_summary(whole / "summary.tsv"))
    assert [(r.id, r.mean_plddt) for r in single] == [(r.id, r.mean_plddt) for r in merged]
    for row in merged:
        if row.status != "ok":
            assert (tmp_path / "res" / row.name / "error.txt").is_file()
            continue
        for k in (1, 2):
            a = read_models(tmp_path / "res" / row.name / f"model_{k}.pdb")[0].coords
            b = read_models(whole / row.id / f"model_{k}.pdb")[0].coords
            np.testing.assert_array_equal(a, b)
