"""Command-line interface: ``rnapredict fold | minimize | score | export | report | templates``.

Each subcommand lives in its own module and is a thin layer over a library function. The
subcommands (and torch with them) are imported on first use of :data:`app` or in :func:`main`,
so that :func:`main` can size the thread pools before any library creates one.
"""

from __future__ import annotations

import sys
from typing import Any


def _load_app() -> Any:
    from rnapredict.cli import (  # noqa: F401  (registers commands)
        export,
        fold,
        minimize,
        report,
        score,
        templates,
    )
    from rnapredict.cli.app import app

    globals()["app"] = app  # importing the submodule bound the name to it
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _load_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    from rnapredict.threads import configure_environment

    configure_environment(sys.argv[1:])  # before torch / OpenMP / BLAS load
    _load_app()()


__all__ = ["app", "main"]
