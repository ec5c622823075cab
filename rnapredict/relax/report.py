"""Reporting relaxation results: per-model dicts for ``--json``, ``summary.tsv``, table rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from rnapredict import __version__
from rnapredict.relax.api import RelaxOptions, RelaxResult

#: Columns of ``summary.tsv`` (energies kJ/mol, clashscore per 1,000 heavy atoms, RMSD Å).
TSV_COLUMNS = (
    "source",
    "model",
    "output",
    "status",
    "energy_before_kj_mol",
    "energy_after_kj_mol",
    "clashscore_before",
    "clashscore_after",
    "rmsd_heavy_a",
    "seconds",
    "message",
)


def _num(x: float | None) -> float | None:
    """JSON-safe number: None for missing or non-finite values."""
    return None if x is None or not math.isfinite(x) else float(x)


def result_dict(r: RelaxResult) -> dict[str, object]:
    """One result as a JSON-ready dict (keys as in :data:`TSV_COLUMNS`, plus warnings)."""
    return {
        "source": r.source,
        "model": r.model_index,
        "output": r.output,
        "status": r.status,
        "energy_before_kj_mol": _num(r.energy_before),
        "energy_after_kj_mol": _num(r.energy_after),
        "clashscore_before": _num(r.clash_before),
        "clashscore_after": _num(r.clash_after),
        "rmsd_heavy_a": _num(r.rmsd),
        "seconds": round(r.seconds, 3),
        "message": r.message,
        "warnings": list(r.warnings),
        "platform": r.platform,
    }


#: Units of the numbers in results (``--json`` lines carry them too).
UNITS = {"energy": "kJ/mol", "clashscore": "per 1000 heavy atoms", "rmsd": "angstrom"}


def json_line(r: RelaxResult, options: RelaxOptions) -> dict[str, object]:
    """One ``minimize --json`` line (JSON Lines): the result of one model, with the version
    and the options it was relaxed with."""
    return {
        "rnapredict": __version__,
        **result_dict(r),
        "options": {
            "steps": options.steps,
            "restrain_heavy_kcal_mol_a2": options.restrain_heavy,
            "keep_h": options.keep_h,
            "platform": options.platform,
            "tolerance_kj_mol_nm": options.tolerance,
            "cutoff_nm": options.cutoff_nm,
            "rounds": options.rounds,
            "vacuum_prestage": _prestage(options),
        },
        "units": UNITS,
    }


def _prestage(options: RelaxOptions) -> str:
    """When the vacuum pre-stage runs: ``always``, ``if the start's GBn2 energy >= E kJ/mol``
    or ``never`` (a string: JSON has no infinity)."""
    if not options.vacuum_prestage:
        return "never"
    if options.prestage_energy == -math.inf:
        return "always"
    return f"if the start's GBn2 energy >= {options.prestage_energy:g} kJ/mol"


def _cell(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.3f}" if math.isfinite(x) else str(x)
    return str(x).replace("\t", " ").replace("\n", " ")


def summary_tsv(results: Sequence[RelaxResult]) -> str:
    """``summary.tsv`` text: a header and one row per model."""
    lines = ["\t".join(TSV_COLUMNS)]
    for r in results:
        d = result_dict(r)
        d["energy_before_kj_mol"] = r.energy_before  # keep inf visible in the TSV
        lines.append("\t".join(_cell(d[c]) for c in TSV_COLUMNS))
    return "\n".join(lines) + "\n"


def table_row(r: RelaxResult) -> tuple[str, ...]:
    """Cells of one row of the CLI's table (same order as :data:`TABLE_HEADER`)."""

    def f(x: float | None, spec: str) -> str:
        return "-" if x is None else format(x, spec)

    return (
        f"{Path(r.source).name}#{r.model_index}",
        "[green]ok[/]" if r.ok else "[red]failed[/]",
        f"{f(r.energy_before, '.0f')} → {f(r.energy_after, '.0f')}",
        f"{f(r.clash_before, '.1f')} → {f(r.clash_after, '.1f')}",
        f(r.rmsd, ".2f"),
        f"{r.seconds:.1f}",
    )


#: Messages and warnings are printed as lines on stderr (and kept in JSON / summary.tsv).
TABLE_HEADER = ("model", "status", "energy kJ/mol", "clashscore", "RMSD Å", "s")
