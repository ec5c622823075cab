"""Rendering of score results: rich table, TSV, JSON Lines and the best-of-N summary line.

A metric that could not be computed (see ``ScoreResult.na``) or was switched off is ``NA`` in
the table and TSV and ``null`` in JSON.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from rnapredict.score.api import ScoreResult

#: (header, key in ScoreResult.to_dict(details=False), format)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("model", "model", "s"),
    ("tm_ref", "tm_ref", ".4f"),
    ("tm_model", "tm_model", ".4f"),
    ("rmsd", "rmsd", ".2f"),
    ("aligned", "aligned", "d"),
    ("len_ref", "len_ref", "d"),
    ("gdt_ts", "gdt_ts", ".4f"),
    ("lddt", "lddt", ".4f"),
    ("rmsd_all_atom", "rmsd_all_atom", ".2f"),
    ("inf_all", "inf_all", ".3f"),
    ("inf_wc", "inf_wc", ".3f"),
    ("inf_nwc", "inf_nwc", ".3f"),
    ("inf_stack", "inf_stack", ".3f"),
    ("clashscore", "clashscore", ".1f"),
)


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return format(value, spec)


def to_tsv(results: Sequence[ScoreResult]) -> str:
    """Header line plus one tab-separated row per result (``NA`` for missing values)."""
    rows = ["\t".join(h for h, _, _ in COLUMNS)]
    for r in results:
        d = r.to_dict(details=False)
        rows.append("\t".join(_fmt(d.get(k), f) for _, k, f in COLUMNS))
    return "\n".join(rows) + "\n"


def json_line(result: ScoreResult | dict[str, Any]) -> str:
    """One JSON Lines record (no newline): a result with full details, or a failure dict
    (:func:`rnapredict.score.api.failure_dict`)."""
    doc = result.to_dict(details=True) if isinstance(result, ScoreResult) else result
    return json.dumps(doc, allow_nan=False)


#: Columns of the terminal table (a subset of COLUMNS, to fit 80 characters).
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("TM", "tm_ref", ".4f"),
    ("RMSD", "rmsd", ".2f"),
    ("ali", "aligned", "d"),
    ("GDT-TS", "gdt_ts", ".3f"),
    ("lDDT", "lddt", ".3f"),
    ("INF", "inf_all", ".3f"),
    ("clash", "clashscore", ".1f"),
)


def _short_names(paths: Sequence[str]) -> list[str]:
    """Model names relative to their common directory (file names when in one folder)."""
    if len(paths) < 2:
        return [os.path.basename(p) for p in paths]
    try:
        root = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    except ValueError:
        return list(paths)
    return [os.path.relpath(os.path.abspath(p), root) for p in paths]


def table(results: Sequence[ScoreResult]) -> Table:
    """Rich table of the main metrics, best TM-score in bold."""
    ref = os.path.basename(results[0].ref) if results else ""
    align = results[0].align if results else ""
    atom = results[0].atom if results else ""
    t = Table(title=f"vs {ref} ({align}, {atom})", title_justify="left")
    t.add_column("model", overflow="fold")
    for header, _, _ in TABLE_COLUMNS:
        t.add_column(header, justify="right", no_wrap=True)
    best = best_of(results)
    for r, name in zip(results, _short_names([r.model for r in results]), strict=True):
        d = r.to_dict(details=False)
        style = "bold" if best and d["model"] == best["model"] and len(results) > 1 else None
        t.add_row(name, *(_fmt(d.get(k), f) for _, k, f in TABLE_COLUMNS), style=style)
    return t


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def best_of(results: Sequence[ScoreResult]) -> dict[str, Any] | None:
    """The model with the highest reference-normalized TM-score, the mean over the models that
    have one, and the best model's lDDT and INF (None where NA); None if no model has a TM."""
    scored = [r for r in results if _finite(r.tm_ref)]
    if not scored:
        return None
    best = max(scored, key=lambda r: r.tm_ref)
    d = best.to_dict(details=False)
    return {
        "model": best.model,
        "tm_ref": best.tm_ref,
        "n_models": len(results),
        "n_scored": len(scored),
        "mean_tm_ref": sum(r.tm_ref for r in scored) / len(scored),
        "lddt": d["lddt"],
        "inf_all": d["inf_all"],
    }


def summary_line(results: Sequence[ScoreResult]) -> str:
    """``best of N: MODEL TM-score 0.8123 (mean 0.7012), lDDT 0.654, INF NA``."""
    b = best_of(results)
    if b is None:
        return "no model scored" if not results else f"none of {len(results)} has a TM-score"
    n = (
        f"{b['n_models']}"
        if b["n_scored"] == b["n_models"]
        else (f"{b['n_scored']} scored of {b['n_models']}")
    )
    return (
        f"best of {n}: {b['model']} TM-score {b['tm_ref']:.4f} "
        f"(mean {b['mean_tm_ref']:.4f}), lDDT {_fmt(b['lddt'], '.3f')}, "
        f"INF {_fmt(b['inf_all'], '.3f')}"
    )
