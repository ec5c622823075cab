"""The report of one folded record: ``OUT/<id>/report.html`` (+ ``report.png``, ``report.svg``),
built from the record's finished outputs (``confidence.json`` and the ranked model files)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from rnapredict.errors import RnapredictError
from rnapredict.fold.outputs import CONFIDENCE, read_complete
from rnapredict.io.atomic import atomic_write_bytes, atomic_write_text
from rnapredict.io.pdbio import read_structure
from rnapredict.io.secondary import pair_list, parse_dot_bracket, pseudoknot_levels
from rnapredict.io.structure import RnaStructure
from rnapredict.report import figures, page
from rnapredict.report.ensemble import Ensemble, analyse
from rnapredict.report.viewer import pack_models

HTML, PNG, SVG = "report.html", "report.png", "report.svg"


@dataclass(frozen=True)
class ReportFiles:
    """Paths written for one record."""

    html: Path
    png: Path
    svg: Path


def load_record(directory: Path) -> tuple[dict[str, Any], list[RnaStructure]]:
    """The record's ``confidence.json`` and its ranked models (first file of each).

    Raises:
        RnapredictError: the record is not complete (failed, still running or files missing).
    """
    doc = read_complete(directory)
    if doc is None:
        raise RnapredictError(
            "no complete fold output here (confidence.json missing, failed or incomplete)",
            file=str(directory / CONFIDENCE),
        )
    models = [read_structure(directory / m["files"][0]) for m in doc.get("models", [])]
    if not models:
        raise RnapredictError("confidence.json lists no models", file=str(directory / CONFIDENCE))
    return doc, models


def _shipped_weights_sha256(model_version: str) -> str | None:
    """sha256 of the shipped weights when ``model_version`` is theirs (confidence.json does not
    record the hash), else None."""
    try:
        from rnapredict.engine.weights import default_weights_dir, read_manifest

        manifest = read_manifest(default_weights_dir())
    except Exception:  # noqa: BLE001  provenance is best effort
        return None
    return manifest.get("sha256") if manifest.get("model_version") == model_version else None


#: Shown for a provenance field the outputs do not record (older runs, custom engines).
NOT_RECORDED = "not recorded"


def _shown(value: Any) -> str:
    """A provenance value as text: ``None`` → :data:`NOT_RECORDED`, a mapping → ``k v, …``."""
    if value is None:
        return NOT_RECORDED
    if isinstance(value, dict):
        return ", ".join(f"{k} {_shown(v)}" for k, v in value.items())
    return str(value)


def _options(settings: dict[str, Any]) -> str:
    """Run options as ``k=v``; unset ones (None: the default) are left out."""
    shown = [
        f"{k}=({_shown(v)})" if isinstance(v, dict) else f"{k}={v}"
        for k, v in settings.items()
        if v is not None
    ]
    return ", ".join(shown) or "defaults"


def _template_text(t: dict[str, Any]) -> str:
    """``6AH3_T (identity 0.95, coverage 0.96, released 2018-10-17)``."""
    parts = []
    if t.get("identity") is not None:
        parts.append(f"identity {float(t['identity']):.2f}")
    if t.get("coverage") is not None:
        parts.append(f"coverage {float(t['coverage']):.2f}")
    parts.append(f"released {t.get('release_date') or 'unknown'}")
    if t.get("identical"):
        parts.append("identical to the query")
    return f"{t.get('template', '?')} ({', '.join(parts)})"


def _provenance(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    ss = doc.get("secondary_structure", {})
    settings = doc.get("settings", {})
    sha = doc.get("weights_sha256") or _shipped_weights_sha256(str(doc.get("model_version")))
    templates = doc.get("templates")
    relax_failed = doc.get("relax_failed")
    time_s = doc.get("time_s")
    run_seed = doc.get("run_seed")
    return [
        ("record id", _shown(doc.get("id"))),
        ("input", f"{_shown(doc.get('source'))} (record {int(doc.get('index', -1)) + 1})"),
        ("model version", _shown(doc.get("model_version"))),
        ("weights sha256", _shown(sha)),
        ("rnapredict", _shown(doc.get("rnapredict_version"))),
        (
            "seed",
            _shown(doc.get("seed")) + ("" if run_seed is None else f" (run seed {run_seed})"),
        ),
        ("options", _options(settings)),
        ("secondary structure", _shown(ss.get("source"))),
        ("templates", "; ".join(_template_text(t) for t in templates) if templates else "none"),
        (
            "relaxation",
            "not run"
            if relax_failed is None
            else f"OpenMM, {relax_failed} model(s) left unrelaxed",
        ),
        ("fold time", NOT_RECORDED if time_s is None else f"{float(time_s):.1f} s"),
    ]


def model_start(prior: dict[str, Any] | None) -> str:
    """Where a model started, for tables: ``template 6AH3_T``, ``assembly``, ``aform``."""
    if not prior:
        return NOT_RECORDED
    if prior.get("source") == "template":
        return f"template {prior.get('template', '?')}"
    return str(prior.get("source") or NOT_RECORDED)


def _pairs(ss: str, plddt1: np.ndarray) -> tuple[list[tuple[int, int]], list[float], list[bool]]:
    table = parse_dot_bracket(ss)
    levels = pseudoknot_levels(table)
    pairs = pair_list(table)
    values = [float((plddt1[i] + plddt1[j]) / 2) for i, j in pairs]
    return pairs, values, [levels[p] > 0 for p in pairs]


def _ranking_table(doc: dict[str, Any], ens: Ensemble) -> str:
    rows = []
    for k, m in enumerate(doc["models"]):
        clash = ens.clashscore[k] if ens.clashscore is not None else None
        rows.append(
            [
                f"model {m['rank']}",
                f"{m['ptm']:.3f}",
                f"{m['mean_plddt']:.1f}",
                f"{m['ranking_score']:.3f}",
                None if clash is None else f"{clash:.1f}",
                m["sample_index"],
                model_start(m.get("prior")),
            ]
        )
    headers = ["model", "pTM-like", "mean pLDDT", "ranking score", "clashscore", "sample"]
    headers.append("started from")
    return page.table(headers, rows, sortable=True)


def _rmsd_table(rmsd: np.ndarray) -> str:
    s = len(rmsd)
    spread = rmsd[np.triu_indices(s, 1)] if s > 1 else np.zeros(0)
    rows = [
        [f"model {i + 1}"] + ["·" if i == j else f"{rmsd[i, j]:.1f}" for j in range(s)]
        for i in range(s)
    ]
    text = page.table(["C1′ RMSD (Å)"] + [str(j + 1) for j in range(s)], rows)
    if len(spread):
        text += (
            f"<p>mean pairwise {np.nanmean(spread):.1f} Å, max {np.nanmax(spread):.1f} Å "
            "(each pair optimally superposed)</p>"
        )
    return text


def build_record_report(
    directory: Path,
    doc: dict[str, Any] | None = None,
    models: list[RnaStructure] | None = None,
) -> tuple[str, bytes, bytes]:
    """HTML text, PNG bytes and SVG bytes of the report of the record in ``directory``.

    ``doc`` (its ``confidence.json`` content) and ``models`` (ranked) skip reading them back
    when the caller has them in memory (``fold --report``).
    """
    if doc is None or models is None:
        doc, models = load_record(directory)
    else:  # the precision of the model files, so both ways give the same report
        models = [m.with_coords(np.round(m.coords, 3)) for m in models]
    plddt = np.array([m["plddt"] for m in doc["models"]], dtype=np.float64)
    ens = analyse(models)
    labels = [f"model {m['rank']}" for m in doc["models"]]
    ss = doc.get("secondary_structure", {}).get("dot_bracket") or "." * doc["length"]
    pairs, pair_values, pk = _pairs(ss, plddt[0])
    fig = figures.confidence_figure(
        plddt,
        labels,
        pairs=pairs,
        pair_values=pair_values,
        pseudoknot=pk,
        title=f"{doc['id']}: per-residue pLDDT of the {len(labels)} ranked models",
    )
    png, svg = figures.render(fig, "png"), figures.render(fig, "svg")
    layout = figures.layout_figure(doc["sequence"], ss, plddt[0])
    viewer = pack_models(ens.models, labels, list(plddt))
    body = (
        '<div class="row">'
        + page.card(
            "3D models (superposed on model 1 by C1′; coloured by pLDDT)",
            '<div id="rp-viewer"></div><div id="rp-switch"></div>' + page.legend(),
            element_id="rp-viewer-card",
        )
        + '<div class="side">'
        + page.card("Ranking", _ranking_table(doc, ens))
        + page.card("Ensemble spread", _rmsd_table(ens.rmsd))
        + "</div></div>"
        + page.card(
            "Confidence and secondary structure",
            page.image(png, "image/png", "pLDDT"),
            element_id="rp-confidence",
        )
        + '<div class="row">'
        + (
            page.card(
                "2D layout", page.image(figures.render(layout, "png", dpi=110), "image/png", "2D")
            )
            if layout is not None
            else ""
        )
        + page.card(
            "Provenance",
            page.definitions(_provenance(doc))
            + f"<h2>sequence ({doc['length']} nt)</h2><pre>{escape(doc['sequence'])}</pre>"
            + f"<h2>secondary structure</h2><pre>{escape(ss)}</pre>",
            cls="side",
        )
        + "</div>"
        + page.json_script("rp-models", viewer)
    )
    subtitle = (
        f"{doc['length']} nt · mean pLDDT {doc.get('mean_plddt')} · pTM-like {doc.get('ptm')}"
        f" · {doc.get('model_version')} · secondary structure: "
        f"{doc.get('secondary_structure', {}).get('source')}"
    )
    html = page.document(f"rnapredict · {doc['id']}", subtitle, body, viewer=True, sortable=True)
    return html, png, svg


def write_record_report(
    directory: Path,
    doc: dict[str, Any] | None = None,
    models: list[RnaStructure] | None = None,
) -> ReportFiles:
    """Write ``report.html``, ``report.png`` and ``report.svg`` into ``directory`` (temp +
    rename each; earlier reports of the record are replaced). See :func:`build_record_report`."""
    html, png, svg = build_record_report(directory, doc, models)
    files = ReportFiles(directory / HTML, directory / PNG, directory / SVG)
    atomic_write_bytes(files.png, png, overwrite=True)
    atomic_write_bytes(files.svg, svg, overwrite=True)
    atomic_write_text(files.html, html, overwrite=True)
    return files


def try_record_report(
    directory: Path, doc: dict[str, Any], models: list[RnaStructure]
) -> str | None:
    """:func:`write_record_report` for ``fold --report``: None on success, else a one-line
    message (a report must never fail the record it describes)."""
    try:
        write_record_report(directory, doc, models)
    except Exception as exc:  # noqa: BLE001  the record's outputs are complete without it
        return f"{directory / HTML}: report not written: {type(exc).__name__}: {exc}"
    return None
