"""``rnapredict report``: visual reports for existing fold outputs.

A thin layer over :func:`rnapredict.report.batch.build_reports`: one line per record on stderr,
exit 0 when every chosen record got its report, 3 when some could not, 2 for usage errors.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, user_errors
from rnapredict.errors import EXIT_SOME_FAILED


def _line(record_id: str, path: Path | None, error: str | None) -> None:
    text = f"{record_id}: {path}" if error is None else f"{record_id}: no report: {error}"
    err_console.print(text, markup=False, emoji=False, highlight=False)


@app.command("report")
def report_command(
    ctx: typer.Context,
    out: Path = typer.Argument(..., metavar="OUT", help="A rnapredict fold output directory."),
    ids: list[str] = typer.Argument(
        None, metavar="ID", help="Record ids (default: every record that folded)."
    ),
) -> None:
    """Write OUT/<id>/report.html (+ report.png, report.svg) and OUT/index.html: a 3D view of
    the models coloured by pLDDT, confidence plots, the secondary structure and provenance,
    in one file that opens offline. Existing reports are rebuilt."""
    from rnapredict.report.batch import build_reports  # matplotlib only when asked

    with user_errors(ctx):
        result = build_reports(out, ids or (), on_record=_line)
        if result.index is not None:
            err_console.print(
                f"{len(result.written)} report(s), index: {result.index}", markup=False
            )
    if result.failed:
        raise typer.Exit(EXIT_SOME_FAILED)
