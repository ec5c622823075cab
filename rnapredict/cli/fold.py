"""``rnapredict fold``: predict 3D structures for every record of FASTA inputs.

A thin layer over :func:`rnapredict.fold.runner.fold_inputs`: parse flags, build the options
and the progress reporter, fold, exit 0 (all ok), 3 (some records failed) or 2 (usage error).
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, user_errors
from rnapredict.fold.options import FoldRunOptions
from rnapredict.fold.preflight import parse_size
from rnapredict.fold.progress import make_reporter
from rnapredict.fold.runner import fold_inputs
from rnapredict.fold.shard import Shard, parse_shard, shard_from_env


@app.command("fold")
def fold_command(
    ctx: typer.Context,
    inputs: list[str] = typer.Argument(
        ..., metavar="INPUT", help="FASTA files (.gz allowed) or - for standard input."
    ),
    out: Path = typer.Option(..., "-o", "--out", help="Output directory (one folder per record)."),
    n_samples: int = typer.Option(
        5, "-n", "--num-models", help="Models per record, ranked best first."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Run seed (each record's seed derives from it and its id)."
    ),
    ss: Path | None = typer.Option(
        None, "--ss", help="Secondary structures by record id: dot-bracket FASTA, BPSEQ or CT."
    ),
    relax: bool = typer.Option(
        False, "--relax", help="Relax every model with OpenMM after ranking."
    ),
    cleanup: bool = typer.Option(
        True,
        "--cleanup/--no-cleanup",
        help="Remove clashes from the all-atom models (fast; C1′ moves ≤ ~0.5 Å RMS).",
    ),
    fmt: str = typer.Option("pdb", "--format", help="Model file format: pdb, cif or both."),
    max_len: int | None = typer.Option(
        None, "--max-len", help="Fail records longer than this (nt) instead of folding them."
    ),
    chunk_size: int | None = typer.Option(
        None, "--chunk-size", help="Residues per decoder chunk (lower: less memory)."
    ),
    steps: int | None = typer.Option(
        None, "--steps", help="Diffusion steps (default: the model's)."
    ),
    shard: str | None = typer.Option(
        None,
        "--shard",
        metavar="I/N",
        help="Fold every N-th record starting with the I-th (1-based); default from "
        "SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT.",
    ),
    resume: bool = typer.Option(False, "--resume", help="Skip complete records, redo the rest."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing record outputs."),
    json_lines: bool = typer.Option(
        False, "--json", help="Print one JSON object per record on stdout as it completes."
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    max_memory: str | None = typer.Option(
        None,
        "--max-memory",
        help="Refuse records estimated to need more memory than this (e.g. 8G); "
        "default: the memory available at start.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar; failures only."),
    weights: Path | None = typer.Option(
        None, "--weights", hidden=True, help="Weights directory (default: the shipped weights)."
    ),
) -> None:
    """Predict 3D structures: OUT/<id>/model_*.pdb, confidence.json, OUT/summary.tsv."""
    with user_errors(ctx):
        chosen = parse_shard(shard) if shard else shard_from_env()
        if chosen is not None and shard is None and not quiet:
            err_console.print(f"shard {chosen} (from SLURM_ARRAY_TASK_ID)", markup=False)
        options = FoldRunOptions(
            n_samples=n_samples,
            seed=seed,
            ss_file=ss,
            relax=relax,
            cleanup=cleanup,
            fmt=fmt.lower(),
            max_len=max_len,
            chunk_size=chunk_size,
            steps=steps,
            shard=chosen or Shard(),
            resume=resume,
            overwrite=overwrite,
            device=device.lower(),
            max_memory=parse_size(max_memory) if max_memory else None,
            weights_dir=weights,
        )
        reporter = make_reporter(out, json_lines=json_lines, quiet=quiet, console=err_console)
        result = fold_inputs(inputs, out, options, reporter=reporter)
    raise typer.Exit(result.exit_code)
