"""``rnapredict score``: compare models with a reference structure.

A thin layer over :mod:`rnapredict.score.api`: the reference is read once, each model is scored
(a bad model file is reported on stderr and the others go on; exit 3 at the end), results go
to stdout as a rich table, ``--tsv`` (``NA`` where a metric cannot be computed) or ``--json``
(JSON Lines: one object per model, written as it is scored, ``null`` where NA); warnings,
notes on NA metrics and the best-of-N line go to stderr.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, out_console, user_errors
from rnapredict.errors import EXIT_SOME_FAILED, InputError, RnapredictError
from rnapredict.io.structure import RnaStructure
from rnapredict.score.api import (
    NA_LABELS,
    Reference,
    ScoreOptions,
    ScoreResult,
    failure_dict,
    prepare_reference,
    read_first_model,
    score_against,
)
from rnapredict.score.report import json_line, summary_line, table, to_tsv

ALIGN_MODES = ("index", "structure", "sequence")


def _message(text: str, *, error: bool = False) -> None:
    """One plain line on stderr (no markup or emoji codes: residue labels contain colons)."""
    if error:
        err_console.print("[bold red]error:[/] ", end="")
    err_console.print(text, markup=False, emoji=False, highlight=False)


@app.command("score")
def score_command(
    ctx: typer.Context,
    models: list[Path] = typer.Argument(..., metavar="MODEL...", help="Model PDB/mmCIF files."),
    ref: Path = typer.Option(..., "--ref", help="Reference (native) structure file."),
    atom: str = typer.Option("C3'", "--atom", help="Representative atom per residue."),
    align: str = typer.Option(
        "index",
        "--align",
        help="index: match residues by number; structure: TM-align; sequence: global "
        "sequence alignment (references of a slightly different sequence).",
    ),
    lddt_radius: float = typer.Option(15.0, "--lddt-radius", help="lDDT inclusion radius (Å)."),
    as_json: bool = typer.Option(
        False, "--json", help="JSON Lines on stdout: one object per model (full details)."
    ),
    as_tsv: bool = typer.Option(
        False, "--tsv", help="Tab-separated table on stdout (NA where a metric is not computed)."
    ),
    no_inf: bool = typer.Option(False, "--no-inf", help="Skip base-pair annotation and INF."),
    no_clash: bool = typer.Option(False, "--no-clash", help="Skip the clashscore."),
    report: Path | None = typer.Option(
        None, "--report", help="Also write this HTML report (+ .png, .svg beside it)."
    ),
) -> None:
    """Score MODEL files against --ref: TM-score (US-align conventions), RMSD, GDT-TS, lDDT,
    INF and clashscore."""
    with user_errors(ctx):
        if as_json and as_tsv:
            raise InputError("--json and --tsv are mutually exclusive")
        if align not in ALIGN_MODES:
            raise InputError(f"--align must be one of {', '.join(ALIGN_MODES)}, not {align!r}")
        if lddt_radius <= 0:
            raise InputError("--lddt-radius must be positive")
        options = ScoreOptions(
            atom=atom.strip(),
            align=align,  # type: ignore[arg-type]
            lddt_radius=lddt_radius,
            interactions=not no_inf,
            clashes=not no_clash,
        )
        if report is not None:
            from rnapredict.report.scores import check_report_paths

            check_report_paths(report)  # before any work
        ref_structure, n_ref_models = read_first_model(ref)
        reference = prepare_reference(ref_structure, options, str(ref))
        if n_ref_models > 1:
            _message(
                f"note: {ref} (reference): {n_ref_models} models in the file; model 1 is the "
                "reference"
            )
        _reference_notes(reference, options)
        results: list[ScoreResult] = []
        failed = 0
        scored: list[RnaStructure] = []
        for path in models:
            try:
                structure, n_models = read_first_model(path)
                result = score_against(structure, reference, options, str(path))
            except RnapredictError as err:
                _message(str(err), error=True)
                failed += 1
                if as_json:
                    typer.echo(json_line(failure_dict(str(path), str(ref), str(err), options)))
                continue
            if n_models > 1:
                _message(
                    f"warning: {path}: {n_models} models in the file; only model 1 is scored "
                    "(split them with: rnapredict export --to pdb --split-models)"
                )
            _model_notes(result, reference, options)
            results.append(result)
            if as_json:
                typer.echo(json_line(result))
            if report is not None:
                scored.append(structure)
        if as_tsv:
            typer.echo(to_tsv(results), nl=False)
        elif results and not as_json:
            out_console.print(table(results))
        _message(summary_line(results))
        if report is not None and results:
            from rnapredict.report.scores import write_score_report

            _message(
                f"report: {write_score_report(report, results, scored, reference.structure)[0]}"
            )
        if failed:
            raise typer.Exit(EXIT_SOME_FAILED)


def _reference_notes(reference: Reference, options: ScoreOptions) -> None:
    """Once per run: reference residues left out, and INF NA because of the reference."""
    if reference.skipped:
        _message(
            f"warning: {reference.name} (reference): {reference.skipped} residue(s) without "
            f"atom {options.atom} skipped"
        )
    if reference.inf_na:
        _message(f"note: {reference.name} (reference): INF NA for every model: {reference.inf_na}")


def _model_notes(result: ScoreResult, reference: Reference, options: ScoreOptions) -> None:
    """Per model: residues left out, residue matching fallbacks and NA metrics (one line each)."""
    if result.skipped_model:
        _message(
            f"warning: {result.model}: {result.skipped_model} residue(s) without atom "
            f"{options.atom} skipped"
        )
    if result.seq_identity is not None and result.seq_coverage is not None:
        _message(
            f"note: {result.model}: sequence alignment with the reference: identity "
            f"{result.seq_identity:.3f}, coverage {result.seq_coverage:.3f} of its residues"
        )
    if result.matched_by in ("order", "number (chain ignored)"):
        _message(f"note: {result.model}: residues matched to the reference by {result.matched_by}")
    na = {k: v for k, v in result.na.items() if not (k == "inf" and v == reference.inf_na)}
    if na:
        why = "; ".join(f"{NA_LABELS[k]} ({v})" for k, v in na.items())
        _message(f"note: {result.model}: NA: {why}")
