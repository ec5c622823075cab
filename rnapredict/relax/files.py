"""Relax model files into an output directory: the library behind ``rnapredict minimize``.

Layout: ``OUT/<stem>.<pdb|cif>`` per input file (every model of a multi-model file, relaxed,
in one file) and ``OUT/summary.tsv`` (one row per model). A model that fails to relax is
written unrelaxed and flagged ``failed``; a file that cannot be read (empty, not a structure,
no RNA) gets a ``failed`` row and no output. Nothing is written over an existing file unless
``overwrite``.
"""

from __future__ import annotations

import contextlib
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rnapredict.errors import InputError, StructureError
from rnapredict.io.atomic import TMP_PREFIX, atomic_write_text, check_writable
from rnapredict.io.pdbio import (
    FORMATS,
    format_of,
    not_a_structure_file,
    read_models,
    write_models,
)
from rnapredict.relax.api import RelaxOptions, RelaxResult, relax_model
from rnapredict.relax.report import summary_tsv
from rnapredict.threads import (
    apply_threads,
    check_jobs,
    choose_threads,
    pool_environment,
    split_threads,
)
from rnapredict.workers import Task, WorkerPool, in_order

SUMMARY_NAME = "summary.tsv"


def output_path(source: Path, out_dir: Path, fmt: str | None) -> Path:
    """``OUT/<stem>.<fmt>``; ``fmt`` None keeps the input's format."""
    name = source.name.removesuffix(".gz")
    stem = Path(name).stem
    try:
        in_fmt = format_of(name)
    except StructureError:
        in_fmt = "pdb"
    return out_dir / f"{stem}.{fmt or in_fmt}"


def plan_outputs(
    paths: Sequence[str | Path], out_dir: str | Path, fmt: str | None, overwrite: bool
) -> list[Path]:
    """Output file of each input; checks everything before any work.

    Raises:
        InputError: an input does not exist, or two inputs map to the same output name.
        OutputExistsError: an output (or ``summary.tsv``) exists and not ``overwrite``.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (expected pdb or cif)")
    out_dir = Path(out_dir)
    outputs: list[Path] = []
    seen: dict[Path, Path] = {}
    for p in map(Path, paths):
        if not p.is_file():
            raise InputError(not_a_structure_file(p), file=str(p))
        out = output_path(p, out_dir, fmt)
        if out in seen:
            hint = (
                " (same file name in different folders, e.g. fold records: give each folder its own -o)"
                if p.parent.resolve() != seen[out].parent.resolve()
                else ""
            )
            raise InputError(
                f"{seen[out]} and {p} would both be written to {out}; rename one{hint}",
                file=str(p),
            )
        if out.resolve() == p.resolve() and overwrite:
            raise InputError("output would replace the input file; choose another -o", file=str(p))
        seen[out] = p
        check_writable(out, overwrite)
        outputs.append(out)
    check_writable(out_dir / SUMMARY_NAME, overwrite)
    return outputs


def _write(results: list[RelaxResult], out: Path, fmt: str, overwrite: bool) -> None:
    """Write the models of one input file; all in ``out`` if they share atoms, else one each."""
    models = [r.model for r in results if r.model is not None]
    first = models[0]
    same = all(m.atom_names == first.atom_names and m.res_names == first.res_names for m in models)
    if same:
        write_models(models, out, fmt=fmt, overwrite=overwrite, title=out.stem)
        for r in results:
            r.output = str(out)
        return
    # Relaxed and failed models differ in atoms (hydrogens, completed atoms): one file each.
    for r in results:
        path = out.with_name(f"{out.stem}_model_{r.model_index}.{fmt}")
        write_models([r.model], path, fmt=fmt, overwrite=overwrite, title=path.stem)
        r.output = str(path)


@dataclass(frozen=True)
class FileTask(Task):
    """One input file and its output path."""

    source: Path
    out: Path


@dataclass
class FileHandler:
    """Relaxes every model of one file and writes them (in a worker with ``--jobs``)."""

    options: RelaxOptions
    fmt: str | None
    overwrite: bool
    on_result: Callable[[RelaxResult], None] | None = None

    def __call__(self, task: FileTask) -> list[RelaxResult]:
        src, out = task.source, task.out
        t0 = time.perf_counter()
        try:
            models = read_models(src)
        except StructureError as exc:
            bad = RelaxResult(model=None, ok=False, message=exc.message, source=str(src))
            bad.seconds = time.perf_counter() - t0
            self._report(bad)
            return [bad]
        file_results: list[RelaxResult] = []
        for k, model in enumerate(models, 1):
            r = relax_model(model, self.options)
            r.source, r.model_index = str(src), k
            file_results.append(r)
            self._report(r)
        out_fmt = self.fmt or format_of(out)
        try:
            _write(file_results, out, out_fmt, self.overwrite)
        except StructureError as exc:  # e.g. too large for PDB: say so per model, go on
            for r in file_results:
                r.ok, r.message = False, f"not written: {exc}"
        return file_results

    def _report(self, result: RelaxResult) -> None:
        if self.on_result is not None:
            self.on_result(result)


def _worker_died(task: FileTask, message: str) -> list[RelaxResult]:
    return [
        RelaxResult(
            model=None, ok=False, message=f"{message}; not relaxed", source=str(task.source)
        )
    ]


def minimize_files(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    options: RelaxOptions | None = None,
    overwrite: bool = False,
    *,
    fmt: str | None = None,
    on_result: Callable[[RelaxResult], None] | None = None,
    jobs: int = 1,
    threads: int | None = None,
) -> list[RelaxResult]:
    """Relax every model of every file in ``paths`` into ``out_dir``.

    Args:
        paths: PDB/mmCIF files (``.gz`` allowed); all models of each are relaxed.
        out_dir: output directory (created).
        options: relaxation options.
        overwrite: replace existing outputs.
        fmt: ``pdb`` or ``cif`` for every output; None keeps each input's format.
        on_result: called with each result as soon as it is known (progress reporting; with
            ``jobs`` > 1, per file as it completes, in input order).
        jobs: files relaxed in parallel by this many worker processes (same bytes).
        threads: CPU threads in all, split over ``jobs`` (None: the default of
            :func:`rnapredict.threads.default_threads`).

    Returns:
        One :class:`RelaxResult` per model, in input order (``ok`` false for failed models
        and for unreadable files, which have ``model`` None).

    Raises:
        InputError / OutputExistsError: before any work, see :func:`plan_outputs`.
        RnapredictError: ``jobs`` or ``threads`` below 1.
    """
    opts = options or RelaxOptions()
    out_dir = Path(out_dir)
    check_jobs(jobs)
    outputs = plan_outputs(paths, out_dir, fmt, overwrite)
    per_job = split_threads(choose_threads(threads).threads, jobs)
    tasks = [FileTask(src, out) for src, out in zip(map(Path, paths), outputs, strict=True)]
    results: list[RelaxResult] = []
    if jobs == 1:
        apply_threads(per_job)
        handler = FileHandler(opts, fmt, overwrite, on_result)
        for task in tasks:
            results.extend(handler(task))
    else:
        payload = pickle.dumps(FileHandler(opts, fmt, overwrite))
        pool = WorkerPool(
            jobs,
            per_job,
            lambda: payload,
            _worker_died,
            lambda task: _remove_temps(out_dir),
            env=pool_environment(per_job),
        )
        with pool:
            prepared = ((k, task, task) for k, task in enumerate(tasks))
            for _k, _task, file_results in in_order(prepared, pool, window=4 * jobs):
                for r in file_results:
                    if on_result:
                        on_result(r)
                results.extend(file_results)
        _remove_temps(out_dir)  # a worker that died mid-write
    atomic_write_text(out_dir / SUMMARY_NAME, summary_tsv(results), overwrite=overwrite)
    return results


def _remove_temps(out_dir: Path) -> None:
    """Temp files of writes that killed workers left in ``out_dir`` (all workers are dead)."""
    for p in out_dir.glob(f"{TMP_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
