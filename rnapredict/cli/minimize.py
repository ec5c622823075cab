"""`rnapredict minimize` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import user_errors
from rnapredict.errors import RnapredictError


@app.command("minimize")
def minimize_command(ctx: typer.Context) -> None:
    """Not implemented yet."""
    with user_errors(ctx):
        raise RnapredictError("'minimize' is not implemented yet")
