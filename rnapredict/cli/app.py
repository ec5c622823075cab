"""The Typer application object and global options (``--version``, ``--debug``)."""

from __future__ import annotations

import typer

from rnapredict import __version__

app = typer.Typer(
    name="rnapredict",
    help="Predict, relax, score and convert RNA 3D structures on an ordinary CPU.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rnapredict {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """rnapredict: RNA 3D structure prediction (fold), relaxation (minimize), evaluation
    (score) and format conversion (export)."""
    ctx.obj = {"debug": debug}
