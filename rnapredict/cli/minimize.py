"""``rnapredict minimize``: relax model files with OpenMM (a thin layer over
:func:`rnapredict.relax.files.minimize_files`).

Results go to stdout (a table, or ``--json``: JSON Lines, one object per model); progress
lines to stderr. Exit 0 if every model relaxed, 3 if some failed (they are written unrelaxed
and flagged; unreadable files get no output), 2 for usage errors, 130 on Ctrl-C (within a
moment: the work runs in a worker thread, which OpenMM's minimizer lets go of the
interpreter).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from rnapredict.cli.app import app
from rnapredict.cli.common import err_console, out_console, user_errors
from rnapredict.errors import EXIT_SOME_FAILED, InputError
from rnapredict.relax.options import (
    DEFAULT_RESTRAIN_HEAVY,
    DEFAULT_ROUNDS,
    FOLD_RELAX,
    RelaxOptions,
)
from rnapredict.threads import check_jobs, choose_threads

if TYPE_CHECKING:
    from rnapredict.relax.api import RelaxResult

T = TypeVar("T")
#: Exit status after Ctrl-C (128 + SIGINT), as a shell reports it.
EXIT_INTERRUPTED = 130


def run_interruptible(work: Callable[[], T]) -> T:
    """Run ``work`` in a daemon thread; Ctrl-C stops the process at once with exit 130.

    OpenMM's minimizer releases the GIL but does not return to Python for seconds, so a
    KeyboardInterrupt would wait for it; here the main thread only waits, sees the interrupt
    at once, and leaves without waiting for the worker (outputs are written atomically, so
    no partial file is left behind).
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # noqa: BLE001  - re-raised in the main thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="minimize", daemon=True)
    try:
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


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
    restrain_heavy: float | None = typer.Option(
        None,
        "--restrain-heavy",
        help=f"Harmonic restraint on heavy atoms, kcal/mol/Å² (0: none; default "
        f"{DEFAULT_RESTRAIN_HEAVY:g}, with --fast {FOLD_RELAX.restrain_heavy:g}).",
        show_default=False,
    ),
    rounds: int = typer.Option(
        DEFAULT_ROUNDS,
        "--rounds",
        help="Most GBn2 minimizations; the restraints are re-centred on each result "
        "(1: a single minimization).",
    ),
    fast: bool = typer.Option(
        False,
        "--fast",
        help="The fold --relax settings: a vacuum pre-stage, then one GBn2 minimization to "
        "100 kJ/mol/nm under 2 kcal/mol/Å² restraints (overrides --rounds; ~10x faster at "
        "100 nt, for clash-free models).",
    ),
    keep_h: bool = typer.Option(False, "--keep-h", help="Write hydrogens too."),
    fmt: str = typer.Option(
        None, "--format", help="pdb or cif (default: the format of each input)."
    ),
    platform: str = typer.Option(
        "auto", "--platform", help="OpenMM platform: auto (fastest present), CPU, CUDA, ..."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="JSON Lines on stdout: one object per model."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
    threads: int | None = typer.Option(
        None,
        "--threads",
        help="CPU threads in all (default: SLURM_CPUS_PER_TASK, else the CPUs this process may "
        "use); OpenMM itself stays on OPENMM_CPU_THREADS (default 1) per job.",
        show_default=False,
    ),
    jobs: int = typer.Option(
        1, "--jobs", help="Relax files in this many worker processes (same outputs, same order)."
    ),
) -> None:
    """Relax MODEL files: PDBFixer (missing atoms, hydrogens), then restrained L-BFGS
    minimization with Amber14 RNA.OL3 + GBn2 implicit solvent. Writes OUT/<name>.pdb|cif and
    OUT/summary.tsv; energies in kJ/mol."""
    from rnapredict.relax.files import minimize_files, plan_outputs  # OpenMM only now
    from rnapredict.relax.report import TABLE_HEADER, json_line, table_row
    from rnapredict.relax.system import select_platform

    with user_errors(ctx):
        if fmt is not None and fmt not in ("pdb", "cif"):
            raise InputError(f"--format must be pdb or cif, not {fmt!r}")
        try:
            base = FOLD_RELAX if fast else RelaxOptions(rounds=rounds)
            options = replace(
                base,
                steps=steps,
                restrain_heavy=base.restrain_heavy if restrain_heavy is None else restrain_heavy,
                keep_h=keep_h,
                platform=platform,
            )
            select_platform(platform)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        plan_outputs(models, out, fmt, overwrite)  # usage errors before any message
        check_jobs(jobs), choose_threads(threads)  # usage errors before any message
        err_console.print(f"relaxing {len(models)} file(s) → {out}", markup=False)

        def work() -> list[RelaxResult]:
            return minimize_files(
                models,
                out,
                options,
                overwrite=overwrite,
                fmt=fmt,
                on_result=_progress,
                jobs=jobs,
                threads=threads,
            )

        # With workers the main thread only waits on them, and Ctrl-C kills them at once.
        results = run_interruptible(work) if jobs == 1 else work()
        if as_json:
            for r in results:
                print(json.dumps(json_line(r, options)))
        else:
            table = Table(*TABLE_HEADER)
            for r in results:
                cells = table_row(r)  # status cell has markup; labels in others must not
                table.add_row(*(c if k == 1 else Text(c) for k, c in enumerate(cells)))
            out_console.print(table)
        n_unread = sum(r.model is None for r in results)
        n_kept = sum(not r.ok and r.model is not None for r in results)
        if n_unread or n_kept:
            parts = []
            if n_kept:
                parts.append(
                    f"{n_kept} of {len(results)} model(s) failed to relax (kept unrelaxed)"
                )
            if n_unread:
                parts.append(f"{n_unread} file(s) could not be read (nothing written)")
            err_console.print("; ".join(parts), markup=False)
            raise typer.Exit(EXIT_SOME_FAILED)
