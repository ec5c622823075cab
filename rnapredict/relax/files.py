"""Relax model files into an output directory: the library behind ``rnapredict minimize``.

Layout: ``OUT/<stem>.<pdb|cif>`` per input file (every model of a multi-model file, relaxed,
in one file) and ``OUT/summary.tsv`` (one row per model). A model that fails to relax is
written unrelaxed and flagged ``failed``; a file that cannot be read (empty, not a structure,
no RNA) gets a ``failed`` row and no output. Nothing is written over an existing file unless
``overwrite``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rnapredict.errors import InputError, StructureError
from rnapredict.io.atomic import atomic_write_text, check_writable
from rnapredict.io.pdbio import (
    FORMATS,
    format_of,
    not_a_structure_file,
    read_models,
    write_models,
)
from rnapredict.relax.api import RelaxOptions, RelaxResult, relax_model
from rnapredict.relax.report import summary_tsv

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


def minimize_files(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    options: RelaxOptions | None = None,
    overwrite: bool = False,
    *,
    fmt: str | None = None,
    on_result: Callable[[RelaxResult], None] | None = None,
) -> list[RelaxResult]:
    """Relax every model of every file in ``paths`` into ``out_dir``.

    Args:
        paths: PDB/mmCIF files (``.gz`` allowed); all models of each are relaxed.
        out_dir: output directory (created).
        options: relaxation options.
        overwrite: replace existing outputs.
        fmt: ``pdb`` or ``cif`` for every output; None keeps each input's format.
        on_result: called with each result as soon as it is known (progress reporting).

    Returns:
        One :class:`RelaxResult` per model (``ok`` false for failed models and for
        unreadable files, which have ``model`` None).

    Raises:
        InputError / OutputExistsError: before any work, see :func:`plan_outputs`.
    """
    opts = options or RelaxOptions()
    out_dir = Path(out_dir)
    outputs = plan_outputs(paths, out_dir, fmt, overwrite)
    results: list[RelaxResult] = []
    for src, out in zip(map(Path, paths), outputs, strict=True):
        t0 = time.perf_counter()
        try:
            models = read_models(src)
        except StructureError as exc:
            bad = RelaxResult(model=None, ok=False, message=exc.message, source=str(src))
            bad.seconds = time.perf_counter() - t0
            results.append(bad)
            if on_result:
                on_result(bad)
            continue
        file_results: list[RelaxResult] = []
        for k, model in enumerate(models, 1):
            r = relax_model(model, opts)
            r.source, r.model_index = str(src), k
            file_results.append(r)
            if on_result:
                on_result(r)
        out_fmt = fmt or format_of(out)
        try:
            _write(file_results, out, out_fmt, overwrite)
        except StructureError as exc:  # e.g. too large for PDB: say so per model, go on
            for r in file_results:
                r.ok, r.message = False, f"not written: {exc}"
        results.extend(file_results)
    atomic_write_text(out_dir / SUMMARY_NAME, summary_tsv(results), overwrite=overwrite)
    return results
