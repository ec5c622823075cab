"""``rnapredict score``: compare models with a reference structure.

A thin layer over :mod:`rnapredict.score.api`: the reference is read once, each model is scored
(a bad model file is reported on stderr and the others go on; exit 3 at the end), results go
to stdout as a rich table, ``--tsv`` or ``--json``; messages and the best-of-N line to stderr.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, out_console, user_errors
from rnapredict.errors import EXIT_SOME_FAILED, InputError, RnapredictError
from rnapredict.io.structure import RnaStructure
from rnapredict.score.api import (
    ScoreOptions,
    ScoreResult,
    prepare_reference,
    read_for_scoring,
    score_against,
)
from rnapredict.score.report import summary_line, table, to_json, to_tsv

ALIGN_MODES = ("index", "structure")


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
        "index", "--align", help="index: match residues by number; structure: TM-align."
    ),
    lddt_radius: float = typer.Option(15.0, "--lddt-radius", help="lDDT inclusion radius (Å)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout (full details)."),
    as_tsv: bool = typer.Option(False, "--tsv", help="Tab-separated table on stdout."),
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
        reference = prepare_reference(read_for_scoring(ref), options, str(ref))
        results: list[ScoreResult] = []
        scored: list[RnaStructure] = []
        failures: list[dict[str, str]] = []
        for path in models:
            try:
                structure = read_for_scoring(path)
                result = score_against(structure, reference, options, str(path))
            except RnapredictError as err:
                _message(str(err), error=True)
                failures.append({"model": str(path), "error": str(err)})
                continue
            if result.skipped_model:
                _message(
                    f"warning: {path}: {result.skipped_model} residue(s) without atom "
                    f"{options.atom} skipped"
                )
            if result.matched_by in ("order", "number (chain ignored)"):
                _message(f"note: {path}: residues matched to the reference by {result.matched_by}")
            results.append(result)
            if report is not None:
                scored.append(structure)
        if as_json:
            typer.echo(to_json(results, failures))
        elif as_tsv:
            typer.echo(to_tsv(results), nl=False)
        elif results:
            out_console.print(table(results))
        _message(summary_line(results))
        if report is not None and results:
            from rnapredict.report.scores import write_score_report

            _message(
                f"report: {write_score_report(report, results, scored, reference.structure)[0]}"
            )
        if failures:
            raise typer.Exit(EXIT_SOME_FAILED)
