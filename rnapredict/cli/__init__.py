"""Command-line interface: ``rnapredict fold | minimize | score | export | report | templates``.

Each subcommand lives in its own module and is a thin layer over a library function.
"""

from __future__ import annotations

from rnapredict.cli import (  # noqa: F401  (registers commands)
    export,
    fold,
    minimize,
    report,
    score,
    templates,
)
from rnapredict.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
