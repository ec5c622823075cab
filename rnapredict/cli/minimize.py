"""``rnapredict minimize``: relax model files with OpenMM (a thin layer over
:func:`rnapredict.relax.files.minimize_files`).

Results go to stdout (a table, or ``--json``); progress lines to stderr. Exit 0 if every model
relaxed, 3 if some failed (they are written unrelaxed and flagged), 2 for usage errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, out_console, user_errors
from rnapredict.errors import EXIT_SOME_FAILED, InputError
from rnapredict.relax.api import DEFAULT_RESTRAIN_HEAVY, DEFAULT_ROUNDS, RelaxOptions, RelaxResult


def _progress(r: RelaxResult) -> None:
    what = f"{r.source} model {r.model_index}"
    if r.ok:
        text = f"{what}: ok, RMSD {r.rmsd:.2f} Å, {r.seconds:.1f} s"
    elif r.model is None:
        text = f"{r.source}: FAILED ({r.message}); nothing written"
    else:
        text = f"{what}: FAILED ({r.message}); kept unrelaxed"
    err_console.print(text, markup=False, emoji=False, highlight=False)
    for w in r.warnings:
        err_console.print(f"  warning: {w}", markup=False, emoji=False, highlight=False)


@app.command("minimize")
def minimize_command(
    ctx: typer.Context,
    models: list[Path] = typer.Argument(..., metavar="MODEL...", help="PDB/mmCIF model files."),
    out: Path = typer.Option(..., "-o", "--out", help="Output directory."),
    steps: int = typer.Option(
        1000, "--steps", help="Maximum L-BFGS iterations per stage (0: until converged)."
    ),
    restrain_heavy: float = typer.Option(
        DEFAULT_RESTRAIN_HEAVY,
        "--restrain-heavy",
        help="Harmonic restraint on heavy atoms, kcal/mol/Å² (0: none).",
    ),
    rounds: int = typer.Option(
        DEFAULT_ROUNDS,
        "--rounds",
        help="Most GBn2 minimizations; the restraints are re-centred on each result "
        "(1: a single minimization).",
    ),
    keep_h: bool = typer.Option(False, "--keep-h", help="Write hydrogens too."),
    fmt: str = typer.Option(
        None, "--format", help="pdb or cif (default: the format of each input)."
    ),
    platform: str = typer.Option(
        "auto", "--platform", help="OpenMM platform: auto (fastest present), CPU, CUDA, ..."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON summary on stdout."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
) -> None:
    """Relax MODEL files: PDBFixer (missing atoms, hydrogens), then restrained L-BFGS
    minimization with Amber14 RNA.OL3 + GBn2 implicit solvent. Writes OUT/<name>.pdb|cif and
    OUT/summary.tsv; energies in kJ/mol."""
    from rnapredict.relax.files import minimize_files  # OpenMM only when this command runs
    from rnapredict.relax.report import TABLE_HEADER, summary_document, table_row
    from rnapredict.relax.system import select_platform

    with user_errors(ctx):
        if fmt is not None and fmt not in ("pdb", "cif"):
            raise InputError(f"--format must be pdb or cif, not {fmt!r}")
        try:
            options = RelaxOptions(
                steps=steps,
                restrain_heavy=restrain_heavy,
                rounds=rounds,
                keep_h=keep_h,
                platform=platform,
            )
            select_platform(platform)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        results = minimize_files(
            models, out, options, overwrite=overwrite, fmt=fmt, on_result=_progress
        )
        if as_json:
            print(json.dumps(summary_document(results, options), indent=2))
        else:
            table = Table(*TABLE_HEADER)
            for r in results:
                cells = table_row(r)  # status cell has markup; labels in others must not
                table.add_row(*(c if k == 1 else Text(c) for k, c in enumerate(cells)))
            out_console.print(table)
        n_failed = sum(not r.ok for r in results)
        if n_failed:
            err_console.print(
                f"{n_failed} of {len(results)} model(s) failed to relax (kept unrelaxed)",
                markup=False,
            )
            raise typer.Exit(EXIT_SOME_FAILED)
