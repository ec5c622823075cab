"""`rnapredict score` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from rnapredict.cli.app import app
from rnapredict.cli.common import user_errors
from rnapredict.errors import RnapredictError


@app.command("score")
def score_command(ctx: typer.Context) -> None:
    """Not implemented yet."""
    with user_errors(ctx):
        raise RnapredictError("'score' is not implemented yet")
