"""``rnapredict templates build``: index PDB/mmCIF files into a template library."""

from __future__ import annotations

from pathlib import Path

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, user_errors
from rnapredict.errors import InputError

templates_app = typer.Typer(
    help="Template structure libraries (homologous experimental structures for fold).",
    no_args_is_help=True,
)
app.add_typer(templates_app, name="templates")


@templates_app.command("build")
def build_command(
    ctx: typer.Context,
    inputs: list[Path] = typer.Argument(
        ...,
        metavar="PDB_OR_CIF_OR_DIR",
        help="Structure files (.pdb/.ent/.cif/.mmcif, .gz too) or directories (searched "
        "recursively, e.g. a local PDB mirror).",
    ),
    out: Path = typer.Option(..., "-o", "--out", help="Library file to write (.npz)."),
    dates: Path | None = typer.Option(
        None,
        "--dates",
        help="CSV pdb_id,release_date overriding the files' header dates "
        "(e.g. ../shared/data/pdb_release_dates.csv).",
    ),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel parser processes."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing library."),
) -> None:
    """Index every RNA chain (sequence, release date, C1' coordinates) into LIB."""
    from rnapredict.io.atomic import check_output_file
    from rnapredict.templates.build import build_library, read_dates

    with user_errors(ctx):
        if jobs < 1:
            raise InputError(f"--jobs {jobs}: must be a positive integer")
        check_output_file(out, overwrite)  # before parsing anything, as fold checks -o
        date_map = read_dates(dates) if dates is not None else None

        def skipped(path: str, reason: str) -> None:
            err_console.print(f"skipped {path}: {reason}", markup=False)

        lib, report = build_library(inputs, date_map, jobs, on_skip=skipped)
        if len(lib) == 0:
            raise InputError("no RNA chain found in the inputs; nothing written")
        lib.save(out, overwrite=overwrite)
        undated = int((lib.date == "").sum())
        err_console.print(
            f"{_count(report.chains, 'RNA chain')} from {_count(report.files, 'file')} -> {out}"
            f" ({_count(len(report.skipped), 'file')} skipped,"
            f" {_count(report.duplicates, 'duplicate chain')},"
            f" {_count(undated, 'chain')} without a release date)",
            markup=False,
        )
    raise typer.Exit(3 if report.skipped else 0)


def _count(n: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
