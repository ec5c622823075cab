"""One self-contained HTML page: styles, scripts and data inlined, no network requests.

Everything variable is escaped here (text with :func:`html.escape`, JSON and scripts so that
``</script>`` cannot end their element early). :func:`external_references` finds resource
references to the network (``src=``, ``href=``, ``url(``, ``@import``, ``fetch(``,
``import`` …) that a page must not contain; the vendored 3Dmol.js text merely *mentions* URLs
(RCSB download helpers that are never called), which is not a reference and is not flagged.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from rnapredict.report.figures import BANDS
from rnapredict.report.viewer import asset_text

#: A network reference: an attribute/CSS/JS construct that loads a resource from an http(s)
#: or protocol-relative (``//host``) URL.
_REFERENCE = re.compile(
    r"""(?ix)
    (?: \b(?:src|href|srcset|poster|data|action|formaction|background|xlink:href)\s*=\s*["']?
      | url\(\s*["']?
      | @import\s+(?:url\(\s*)?["']?
      | \bfetch\(\s*["'`]
      | \bimport\(\s*["'`]
      | \bimport\s[^;'"`]*?from\s*["'`]
      | \.open\(\s*["'`]\w+["'`]\s*,\s*["'`]
      | \bnew\s+(?:WebSocket|EventSource|Worker)\(\s*["'`]
      | \bsendBeacon\(\s*["'`]
    )
    \s*(?:https?:)?//
    """
)


def external_references(text: str) -> list[str]:
    """Snippets of ``text`` that reference a network resource (empty for an offline page)."""
    return [text[m.start() : m.end() + 40] for m in _REFERENCE.finditer(text)]


def _script(code: str) -> str:
    # "</script" inside a script would end the element: split it (valid in JS strings/regex).
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


def json_script(element_id: str, payload: Any) -> str:
    """``payload`` as an inline JSON data block (``<`` escaped so no tag can close early)."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


def image(data: bytes, mime: str, alt: str) -> str:
    """An ``<img>`` with the picture inlined as a data URI."""
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img src="data:{mime};base64,{b64}" alt="{escape(alt)}">'


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sortable: bool = False,
    raw_columns: Sequence[int] = (),
) -> str:
    """An HTML table; cells are escaped except columns in ``raw_columns`` (already HTML)."""
    cls = ' class="sortable"' if sortable else ""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for k, cell in enumerate(row):
            text = "–" if cell is None else str(cell)
            cells.append(f"<td>{text if k in raw_columns else escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def definitions(items: Iterable[tuple[str, Any]]) -> str:
    """A ``<dl>`` of label/value pairs (values escaped; None shown as a dash)."""
    parts = [
        f"<dt>{escape(k)}</dt><dd>{escape('–' if v is None else str(v))}</dd>" for k, v in items
    ]
    return "<dl>" + "".join(parts) + "</dl>"


def legend(title: str = "pLDDT") -> str:
    """The confidence band legend."""
    spans = "".join(
        f'<span><i style="background:{c}"></i>{escape(lab)}</span>' for _, c, lab in BANDS
    )
    return f'<div class="legend"><b>{escape(title)}</b>: {spans}</div>'


def card(title: str, body: str, *, element_id: str | None = None, cls: str = "") -> str:
    ident = f' id="{escape(element_id)}"' if element_id else ""
    return f'<section class="card {cls}"{ident}><h2>{escape(title)}</h2>{body}</section>'


def document(
    title: str,
    subtitle: str,
    body: str,
    *,
    viewer: bool = False,
    sortable: bool = False,
) -> str:
    """The whole page: inline CSS, the body, then inline scripts (3Dmol.js only with a viewer)."""
    scripts = []
    if viewer:
        scripts += [_script(asset_text("3Dmol-min.js")), _script(asset_text("viewer.js"))]
    if sortable:
        scripts.append(_script(asset_text("table.js")))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{asset_text('report.css')}</style></head>"
        f"<body><header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<main>{body}</main>{''.join(scripts)}</body></html>\n"
    )
