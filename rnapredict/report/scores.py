"""``rnapredict score --report``: models against a reference in the report's style.

The viewer shows the reference (grey) with each model moved onto it by the TM-score
superposition and coloured by its per-residue lDDT (× 100, in the pLDDT bands: pLDDT is a
predicted lDDT); the figure plots per-residue lDDT along the reference; the table lists
TM-score, RMSD, GDT-TS, lDDT, INF and clashscore.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnapredict.errors import OutputExistsError
from rnapredict.io.atomic import atomic_write_bytes, atomic_write_text
from rnapredict.io.structure import RnaStructure
from rnapredict.report import figures, page
from rnapredict.report.viewer import pack_models
from rnapredict.score.api import ScoreResult
from rnapredict.score.superpose import apply


def _model_lddt(result: ScoreResult, model: RnaStructure) -> list[float]:
    """Per model residue lDDT × 100 (NaN where the residue is unaligned)."""
    by_ref = {label: v for label, v in result.lddt_per_residue}
    ref_of = dict(result.alignment)
    out = []
    for label in model.residue_labels():
        v = by_ref.get(ref_of.get(label, ""), None)
        out.append(float("nan") if v is None else 100.0 * v)
    return out


def _num(value: float | None, spec: str) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    return format(value, spec)


def _table(results: Sequence[ScoreResult], names: Sequence[str]) -> str:
    rows = []
    for r, name in zip(results, names, strict=True):
        d = r.to_dict(details=False)
        rows.append(
            [
                name,
                _num(d["tm_ref"], ".3f"),
                _num(d["rmsd"], ".2f"),
                _num(d["gdt_ts"], ".3f"),
                _num(d["lddt"], ".3f"),
                _num(d.get("inf_all"), ".3f"),
                _num(d.get("inf_wc"), ".3f"),
                _num(d.get("inf_nwc"), ".3f"),
                _num(d.get("inf_stack"), ".3f"),
                _num(d.get("clashscore"), ".1f"),
                f"{d['aligned']}/{d['len_ref']}",
            ]
        )
    headers = ["model", "TM-score", "RMSD (Å)", "GDT-TS", "lDDT", "INF", "INF wc", "INF nwc"]
    headers += ["INF stack", "clashscore", "aligned"]
    return page.table(headers, rows, sortable=True)


def build_score_report(
    results: Sequence[ScoreResult], models: Sequence[RnaStructure], reference: RnaStructure
) -> tuple[str, bytes, bytes]:
    """HTML text, PNG and SVG bytes of a model-vs-reference report.

    Args:
        results: [S] scores of ``models`` against ``reference`` (same order).
        models: [S] the scored structures, as read; reference: the reference structure.
    """
    names = [Path(r.model).name for r in results]
    ref_labels = reference.residue_labels()
    per_ref = np.full((len(results), reference.n_residues), np.nan)
    index = {label: k for k, label in enumerate(ref_labels)}
    for s, r in enumerate(results):
        for label, v in r.lddt_per_residue:
            if v is not None and label in index:
                per_ref[s, index[label]] = 100.0 * v
    fig = figures.confidence_figure(
        per_ref,
        names,
        ylabel="lDDT × 100",
        title=f"per-residue lDDT against {Path(results[0].ref).name} "
        f"(atom {results[0].atom}, reference residue order)",
    )
    png, svg = figures.render(fig, "png"), figures.render(fig, "svg")
    moved = [
        m.with_coords(apply(m.coords, r.tm.rot, r.tm.trans))
        for m, r in zip(models, results, strict=True)
    ]
    viewer = pack_models(
        [reference, *moved],
        ["reference", *names],
        [None, *(_model_lddt(r, m) for r, m in zip(results, models, strict=True))],
        styles=["reference"] + ["confidence"] * len(moved),
    )
    first = results[0]
    body = (
        '<div class="row">'
        + page.card(
            "Models on the reference (grey); models coloured by per-residue lDDT",
            '<div id="rp-viewer"></div><div id="rp-switch"></div>' + page.legend("lDDT × 100"),
            element_id="rp-viewer-card",
        )
        + '<div class="side">'
        + page.card("Scores", _table(results, names))
        + page.card(
            "Settings",
            page.definitions(
                [
                    ("reference", first.ref),
                    ("representative atom", first.atom),
                    ("alignment", f"{first.align} (residues matched by {first.matched_by})"),
                    ("TM-score", "US-align RNA conventions, normalized by the reference length"),
                ]
            ),
        )
        + "</div></div>"
        + page.card("Per-residue lDDT", page.image(png, "image/png", "per-residue lDDT"))
        + page.json_script("rp-models", viewer)
    )
    best = max(results, key=lambda r: r.tm_ref)
    subtitle = (
        f"{len(results)} model(s) vs {first.ref} · best TM-score {best.tm_ref:.3f} "
        f"({Path(best.model).name})"
    )
    html = page.document("rnapredict score", subtitle, body, viewer=True, sortable=True)
    return html, png, svg


def report_paths(path: Path) -> tuple[Path, Path, Path]:
    """``X.html`` → (``X.html``, ``X.png``, ``X.svg``)."""
    return path.with_suffix(".html"), path.with_suffix(".png"), path.with_suffix(".svg")


def check_report_paths(path: Path) -> None:
    """Refuse to overwrite an existing report (before any scoring work)."""
    for p in report_paths(path):
        if p.exists():
            raise OutputExistsError("exists; remove it or choose another --report", file=str(p))


def write_score_report(
    path: Path,
    results: Sequence[ScoreResult],
    models: Sequence[RnaStructure],
    reference: RnaStructure,
) -> tuple[Path, Path, Path]:
    """Write ``path`` (.html) with the ``.png`` and ``.svg`` figure beside it."""
    html_path, png_path, svg_path = report_paths(path)
    check_report_paths(path)
    html, png, svg = build_score_report(results, models, reference)
    atomic_write_bytes(png_path, png)
    atomic_write_bytes(svg_path, svg)
    atomic_write_text(html_path, html)
    return html_path, png_path, svg_path
