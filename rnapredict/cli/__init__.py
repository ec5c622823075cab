"""Command-line interface: ``rnapredict fold | minimize | score | export | report``.

Each subcommand lives in its own module and is a thin layer over a library function.
"""

from __future__ import annotations

from rnapredict.cli import export, fold, minimize, report, score  # noqa: F401  (registers commands)
from rnapredict.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
