"""`rnapredict export`: convert structure files (PDB ⇄ mmCIF, split/merge, C1′ CSV, FASTA, dot-bracket)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, user_errors


class ExportFormat(str, Enum):
    pdb = "pdb"
    cif = "cif"
    c1_csv = "c1-csv"
    dot_bracket = "dot-bracket"
    fasta = "fasta"


@app.command("export")
def export_command(
    ctx: typer.Context,
    inputs: list[Path] = typer.Argument(
        ..., metavar="IN", help="PDB/mmCIF files (.gz allowed).", show_default=False
    ),
    to: ExportFormat = typer.Option(..., "--to", help="Output format.", show_default=False),
    out: Path = typer.Option(
        ...,
        "-o",
        "--out",
        help="Output file ('-' for standard output, '.gz' gzip-compressed); a directory for "
        "several pdb/cif inputs "
        "or --split-models (an existing directory or a path ending in '/' always means a "
        "directory).",
        show_default=False,
    ),
    split_models: bool = typer.Option(
        False, "--split-models", help="Write each model to its own file <stem>_model_<k>."
    ),
    merge: bool = typer.Option(
        False,
        "--merge",
        help="Put all models of all inputs into one file (pdb/cif: one multi-model file; "
        "c1-csv: the models of one target).",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
) -> None:
    """Convert structures: PDB ⇄ mmCIF, split or merge models, or extract C1′ coordinates (Kaggle CSV), chain sequences (FASTA) or base pairs (dot-bracket).

    pdb/cif conversion keeps every model, chain, ligand and water. c1-csv, fasta and dot-bracket collect all inputs in one file; c1-csv writes ID,resname,resid,x_1,y_1,z_1,…,x_5,y_5,z_5 and repeats model 1 when a target has fewer than 5 models; fold outputs OUT/<id>/model_N.pdb take <id> as their target name.
    """
    from rnapredict.io.export import ExportOptions, export

    with user_errors(ctx):
        opts = ExportOptions(
            to=to.value, split_models=split_models, merge=merge, overwrite=overwrite
        )
        result = export(inputs, out, opts)
        for note in result.notes:
            err_console.print(f"note: {note}", markup=False)
        for warning in result.warnings:
            err_console.print(f"warning: {warning}", markup=False)
        if result.stdout is not None:
            typer.echo(result.stdout, nl=False)
        for path in result.written:
            err_console.print(f"wrote {path}", markup=False)
