"""Shared CLI plumbing: consoles, one-line error reporting and exit codes."""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.text import Text

from rnapredict.errors import EXIT_USAGE, RnapredictError

#: Logs and errors go to stderr so stdout stays clean for --json / --tsv pipelines.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


def is_debug(ctx: typer.Context | None) -> bool:
    return bool(ctx is not None and isinstance(ctx.obj, dict) and ctx.obj.get("debug"))


def report_error(err: BaseException) -> None:
    """Print ``err`` as one readable line on stderr."""
    # Text, not markup: residue labels like "A:A:103" must not become emoji or rich tags.
    err_console.print(Text.assemble(("error: ", "bold red"), " ".join(str(err).split())))


def _traceback_if_debug(ctx: typer.Context | None) -> None:
    if is_debug(ctx):
        traceback.print_exc(file=sys.stderr)


@contextlib.contextmanager
def user_errors(ctx: typer.Context | None) -> Iterator[None]:
    """Turn our exceptions into one stderr line + exit code; ``--debug`` adds the traceback
    but never changes the exit code."""
    try:
        yield
    except RnapredictError as err:
        _traceback_if_debug(ctx)
        report_error(err)
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise typer.Exit(130) from None
    except (MemoryError, OSError) as err:
        _traceback_if_debug(ctx)
        report_error(err)
        raise typer.Exit(EXIT_USAGE) from None


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
