"""``rnapredict fold``: predict 3D structures for every record of FASTA inputs.

A thin layer over :func:`rnapredict.fold.runner.fold_inputs`: parse flags, build the options
and the progress reporter, fold. Exit codes: 0 all records ok, 2 usage error (before any
folding), 3 some records failed, 4 writing outputs failed mid-batch (disk full: finished records
are kept, rerun with ``--resume``). ``--debug`` adds tracebacks, never changes the code.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, user_errors
from rnapredict.features.vienna import ENERGY_PARAM_CHOICES
from rnapredict.fold.options import FoldRunOptions
from rnapredict.fold.preflight import parse_size
from rnapredict.fold.shard import Shard, parse_shard, shard_from_env
from rnapredict.threads import choose_threads


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
    shape: Path | None = typer.Option(
        None,
        "--shape",
        help="SHAPE reactivities by record id: two-column .shape file (>id headers for "
        "several records), a directory of <id>.shape files, or RDAT.",
    ),
    dms: Path | None = typer.Option(
        None, "--dms", help="DMS reactivities by record id (same formats as --shape; A/C used)."
    ),
    shape_slope: float = typer.Option(
        FoldRunOptions.shape_slope, "--shape-slope", help="Deigan slope m (kcal/mol)."
    ),
    shape_intercept: float = typer.Option(
        FoldRunOptions.shape_intercept, "--shape-intercept", help="Deigan intercept b (kcal/mol)."
    ),
    probing_weight: bool = typer.Option(
        True,
        "--probing-weight/--no-probing-weight",
        help="Scale the pseudo-energies by how far the data agree with the thermodynamic "
        "ensemble beyond chance (protects against uninformative data); --no-probing-weight "
        "applies them at full strength.",
    ),
    relax: bool = typer.Option(
        False, "--relax", help="Relax every model with OpenMM after ranking."
    ),
    cleanup: bool = typer.Option(
        True,
        "--cleanup/--no-cleanup",
        help="Remove clashes from the all-atom models (fast; C1′ moves ≤ ~0.5 Å RMS).",
    ),
    energy_params: str = typer.Option(
        FoldRunOptions.energy_params,
        "--energy-params",
        help="ViennaRNA energy parameters of the predicted and sampled secondary structures: "
        f"{', '.join(ENERGY_PARAM_CHOICES)} (auto: chosen by length; consensus: the pairs "
        "found by at least 3 of the 4 sets). Like RNAfold's -P.",
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
    prior: str = typer.Option(
        "assembly",
        "--prior",
        help="Where sampling starts: assembly (motif-library candidates) or aform (old rule).",
    ),
    templates: str = typer.Option(
        "default",
        "--templates",
        metavar="LIB|none",
        help="Template library from 'rnapredict templates build' (default: the shipped one, "
        "train-split chains); none: no templates.",
    ),
    cutoff: str | None = typer.Option(
        None,
        "--cutoff",
        "--template-cutoff",
        metavar="YYYY-MM-DD",
        help="Use no experimental structure released on or after this date: templates and "
        "motif-library instances alike (honest benchmarks; to fold a sequence whose structure "
        "is deposited, set it before that release). --template-cutoff is an alias.",
    ),
    max_memory: str | None = typer.Option(
        None,
        "--max-memory",
        help="Refuse records estimated to need more memory than this (e.g. 8G); "
        "default: the memory available at start.",
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        help="CPU threads in all (torch, numba, BLAS, ViennaRNA; OpenMM see README); default: "
        "SLURM_CPUS_PER_TASK, else the CPUs this process may use (affinity, cgroup quota).",
        show_default=False,
    ),
    jobs: int = typer.Option(
        1,
        "--jobs",
        help="Fold records in this many worker processes, sharing --threads (same outputs, "
        "input order kept).",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also print the threads and jobs chosen."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar; failures only."),
    report: bool = typer.Option(
        False, "--report", help="Also write OUT/<id>/report.html (+ .png, .svg) per record."
    ),
    weights: Path | None = typer.Option(
        None,
        "--weights",
        hidden=True,
        help="Network weights directory (default: the shipped weights). The motif and template "
        "libraries still come from $RNAPREDICT_WEIGHTS or the shipped directory; set "
        "RNAPREDICT_WEIGHTS to move everything.",
    ),
) -> None:
    """Predict 3D structures: OUT/<id>/model_*.pdb, confidence.json, OUT/summary.tsv."""
    with user_errors(ctx):
        thread_choice = choose_threads(threads)
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
            prior=prior.lower(),
            shape_file=shape,
            dms_file=dms,
            shape_slope=shape_slope,
            shape_intercept=shape_intercept,
            probing_weight=probing_weight,
            report=report,
            templates=templates,
            cutoff=cutoff,
            threads=thread_choice.threads,
            jobs=jobs,
            energy_params=energy_params.lower(),
        )
        from rnapredict.fold.progress import make_reporter  # the engine: torch only now
        from rnapredict.fold.runner import fold_inputs

        if verbose:
            per = f", {options.worker_threads} per job" if jobs > 1 else ""
            err_console.print(f"{thread_choice}, {jobs} job(s){per}", markup=False)
        reporter = make_reporter(out, json_lines=json_lines, quiet=quiet, console=err_console)
        result = fold_inputs(inputs, out, options, reporter=reporter)
    if report:
        _write_index(out)
    raise typer.Exit(result.exit_code)


def _write_index(out: Path) -> None:
    """OUT/index.html after ``--report``, with the reports of complete records that have none
    (skipped by ``--resume``); a failure is a warning: the records are done."""
    from rnapredict.report.batch import complete_reports

    try:
        for rid, why in complete_reports(out).failed:
            err_console.print(f"warning: {rid}: report not written: {why}", markup=False)
    except Exception as exc:  # noqa: BLE001
        err_console.print(f"warning: index.html not written: {exc}", markup=False)
