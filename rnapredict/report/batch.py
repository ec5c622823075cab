"""``rnapredict report OUT [ID...]``: reports for existing fold outputs and ``OUT/index.html``.

Records come from ``OUT/summary.tsv`` (or, without one, from the record directories holding a
``confidence.json``). A record whose report cannot be built is reported and the others go on.
``index.html`` lists every record of the summary in a sortable table, linking each report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from rnapredict.errors import InputError, RnapredictError
from rnapredict.fold.outputs import CONFIDENCE, record_dir
from rnapredict.fold.summary import SummaryRow, read_summary
from rnapredict.io.atomic import atomic_write_text
from rnapredict.report import page
from rnapredict.report.record import HTML, write_record_report

INDEX = "index.html"
SUMMARY = "summary.tsv"


@dataclass
class BatchReport:
    """What :func:`build_reports` did: reports written, records that failed, the index."""

    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    index: Path | None = None


def _rows(out_dir: Path) -> list[SummaryRow]:
    """Summary rows, or rows rebuilt from the record directories when there is no summary."""
    rows = list(read_summary(out_dir / SUMMARY))
    if rows:
        return rows
    for d in sorted(p for p in out_dir.iterdir() if (p / CONFIDENCE).is_file()):
        try:
            doc = json.loads((d / CONFIDENCE).read_text())
        except (OSError, ValueError):
            continue
        rows.append(
            SummaryRow(
                id=str(doc.get("id", d.name)),
                length=int(doc.get("length", -1)),
                status=str(doc.get("status", "-")),
                mean_plddt=doc.get("mean_plddt"),
                time_s=float(doc.get("time_s", 0.0)),
                name=d.name,
                index=int(doc.get("index", -1)),
                ptm=doc.get("ptm"),
            )
        )
    return sorted(rows, key=lambda r: r.index)


def _select(rows: Sequence[SummaryRow], ids: Sequence[str], out_dir: Path) -> list[SummaryRow]:
    if not ids:
        return [r for r in rows if r.status == "ok"]
    chosen = []
    for wanted in ids:
        hits = [r for r in rows if wanted in (r.id, r.name)]
        if not hits:
            raise InputError(f"no record {wanted!r} in {out_dir} (ids from {SUMMARY})")
        chosen += [r for r in hits if r not in chosen]
    return chosen


def _fmt(value: float | None, spec: str) -> str | None:
    return None if value is None else format(value, spec)


def index_html(out_dir: Path, rows: Sequence[SummaryRow]) -> str:
    """``OUT/index.html``: a sortable table of the summary, linking each record's report."""
    table_rows = []
    for r in rows:
        has_report = r.name not in ("", "-") and (out_dir / r.name / HTML).is_file()
        link = (
            f'<a href="{escape(r.name)}/{HTML}">{escape(r.id)}</a>' if has_report else escape(r.id)
        )
        table_rows.append(
            [
                link,
                r.length,
                r.status,
                _fmt(r.mean_plddt, ".1f"),
                _fmt(r.ptm, ".3f"),
                f"{r.time_s:.1f}",
                r.relax,
                None if r.templates == "-" else r.templates.replace(",", ", "),
                None if r.error == "-" else r.error,
            ]
        )
    headers = ["id", "length", "status", "mean pLDDT", "pTM-like", "time (s)", "relax"]
    headers += ["templates", "error"]
    n_ok = sum(r.status == "ok" for r in rows)
    body = page.card(
        f"{len(rows)} records ({n_ok} ok) — click a column to sort, an id to open its report",
        page.table(headers, table_rows, sortable=True, raw_columns=(0,)),
    )
    return page.document(f"rnapredict · {out_dir.name}", str(out_dir), body, sortable=True)


def build_reports(
    out_dir: Path,
    ids: Sequence[str] = (),
    *,
    on_record: Callable[[str, Path | None, str | None], None] | None = None,
) -> BatchReport:
    """Write ``report.html/.png/.svg`` for the chosen records (all complete ones by default)
    and ``OUT/index.html``.

    Args:
        out_dir: a ``rnapredict fold`` output directory.
        ids: record ids or directory names; empty: every record with status ``ok``.
        on_record: called per record with (id, report path or None, error message or None).
    Raises:
        InputError: ``out_dir`` is not a directory, or an id is not one of its records.
    """
    if not out_dir.is_dir():
        raise InputError("not a directory (expected a rnapredict fold output)", file=str(out_dir))
    rows = _rows(out_dir)
    if not rows:
        raise InputError(f"no {SUMMARY} and no record with {CONFIDENCE}", file=str(out_dir))
    result = BatchReport()
    for row in _select(rows, ids, out_dir):
        try:
            if row.status != "ok":
                raise RnapredictError(f"record failed to fold: {row.error}")
            files = write_record_report(record_dir(out_dir, row.name))
        except (RnapredictError, OSError, ValueError) as err:
            result.failed.append((row.id, str(err)))
            if on_record:
                on_record(row.id, None, str(err))
            continue
        result.written.append(files.html)
        if on_record:
            on_record(row.id, files.html, None)
    try:
        result.index = write_index(out_dir, rows)
    except (RnapredictError, OSError) as err:
        result.failed.append((INDEX, str(err)))
    return result


def missing_reports(out_dir: Path) -> list[str]:
    """Directory names of the ``ok`` records of ``out_dir`` that have no ``report.html``
    (e.g. records a ``fold --resume --report`` skipped as complete)."""
    return [
        r.name
        for r in _rows(out_dir)
        if r.status == "ok" and r.name not in ("", "-") and not (out_dir / r.name / HTML).is_file()
    ]


def write_index(out_dir: Path, rows: Sequence[SummaryRow] | None = None) -> Path:
    """(Re)write ``OUT/index.html`` from the summary (``rows``: already read)."""
    if (out_dir / INDEX).is_dir():  # a record whose id is "index.html"
        raise RnapredictError("is a directory; index not written", file=str(out_dir / INDEX))
    rows = _rows(out_dir) if rows is None else rows
    return atomic_write_text(out_dir / INDEX, index_html(out_dir, rows), overwrite=True)
