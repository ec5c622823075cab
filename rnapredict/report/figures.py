"""Static figures (matplotlib, no pyplot state): per-residue confidence lines, the secondary
structure as an arc diagram, and ViennaRNA's 2D layout, all in the AlphaFold pLDDT colours.

Rendering is deterministic (fixed SVG hash salt, no dates), so the same outputs give the same
bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

#: AlphaFold confidence bands: (lower bound, colour, label), highest first.
BANDS: tuple[tuple[float, str, str], ...] = (
    (90.0, "#0053D6", "very high (≥ 90)"),
    (70.0, "#65CBF3", "confident (70–90)"),
    (50.0, "#FFDB13", "low (50–70)"),
    (-np.inf, "#FF7D45", "very low (< 50)"),
)
MODEL_COLOURS = ("#1b1b1b", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_RC = {"svg.hashsalt": "rnapredict", "svg.fonttype": "none"}
_ARC_POINTS = 24


def band_colour(value: float) -> str:
    """Colour of a confidence value (0–100) in the AlphaFold bands; grey for NaN."""
    if not np.isfinite(value):
        return "#bdbdbd"
    for lower, colour, _ in BANDS:
        if value >= lower:
            return colour
    return BANDS[-1][1]


def _arcs(pairs: Sequence[tuple[int, int]], below: Sequence[bool]) -> list[np.ndarray]:
    """Half-ellipse polylines [_ARC_POINTS, 2] from i+1 to j+1 (1-based x), height (j-i)/2."""
    t = np.linspace(0.0, np.pi, _ARC_POINTS)
    out = []
    for (i, j), down in zip(pairs, below, strict=True):
        centre, half = (i + j) / 2 + 1, (j - i) / 2
        y = half * np.sin(t) * (-1.0 if down else 1.0)
        out.append(np.column_stack([centre - half * np.cos(t), y]))
    return out


def _figure(width: float, height: float):  # -> matplotlib.figure.Figure
    # Fixed margins, not constrained layout: the layout engine re-measures every tick label
    # and took about half of the figure time for 1,000 nt.
    from matplotlib.figure import Figure  # imported on use: no matplotlib cost at import

    return Figure(figsize=(width, height), dpi=100)


def confidence_figure(
    values: np.ndarray,
    labels: Sequence[str],
    *,
    ylabel: str = "pLDDT",
    pairs: Sequence[tuple[int, int]] | None = None,
    pair_values: Sequence[float] | None = None,
    pseudoknot: Sequence[bool] | None = None,
    title: str = "",
):
    """Per-residue confidence lines (one per model) over a band background, and below them
    the secondary structure as an arc diagram (pairs coloured by ``pair_values``).

    Args:
        values: [S, L] confidence 0–100 (NaN: no value) of S models.
        labels: [S] legend labels.
        pairs: 0-based (i, j), i < j, or None for no arc panel.
        pair_values: per pair confidence 0–100; pseudoknot: per pair, drawn below the axis.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    n = values.shape[1]
    x = np.arange(1, n + 1)
    with_arcs = pairs is not None
    fig = _figure(10.0, 5.6 if with_arcs else 3.2)
    if with_arcs:
        ax, ax_arc = fig.subplots(2, 1, sharex=True, height_ratios=(1.0, 0.9))
        fig.subplots_adjust(left=0.07, right=0.985, top=0.94, bottom=0.09, hspace=0.28)
    else:
        ax, ax_arc = fig.subplots(1, 1), None
        fig.subplots_adjust(left=0.07, right=0.985, top=0.9, bottom=0.15)
    edges = [100.0, 90.0, 70.0, 50.0, 0.0]
    for (_, colour, _), top, bottom in zip(BANDS, edges[:-1], edges[1:], strict=True):
        ax.axhspan(bottom, top, color=colour, alpha=0.12, lw=0)
    for k in range(values.shape[0] - 1, -1, -1):  # model 1 drawn last, on top
        ax.plot(
            x,
            values[k],
            color=MODEL_COLOURS[k % len(MODEL_COLOURS)],
            lw=1.6 if k == 0 else 0.9,
            alpha=1.0 if k == 0 else 0.75,
            label=labels[k],
        )
    ax.set_ylim(0, 100)
    ax.set_xlim(0.5, n + 0.5)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title.replace("$", r"\$"), loc="left", fontsize=10)  # no mathtext
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="lower left", ncol=min(6, len(labels)), fontsize=8)
    ax.grid(axis="y", color="#cccccc", lw=0.5)
    if ax_arc is None:
        ax.set_xlabel("residue")
        return fig
    pairs = list(pairs or [])
    below = list(pseudoknot) if pseudoknot is not None else [False] * len(pairs)
    colours = [band_colour(v) for v in (pair_values or [np.nan] * len(pairs))]
    if pairs:
        ax_arc.add_collection(LineCollection(_arcs(pairs, below), colors=colours, linewidths=0.9))
    ax_arc.axhline(0.0, color="#555555", lw=0.8)
    top = max([(j - i) / 2 for (i, j), d in zip(pairs, below, strict=True) if not d] or [1.0])
    low = max([(j - i) / 2 for (i, j), d in zip(pairs, below, strict=True) if d] or [0.0])
    ax_arc.set_ylim(-low * 1.05 - 0.5, top * 1.05 + 0.5)
    ax_arc.set_yticks([])
    for side in ("left", "right", "top"):
        ax_arc.spines[side].set_visible(False)
    ax_arc.set_xlabel("residue")
    ax_arc.set_title(
        "secondary structure used (arcs coloured by the pair's mean pLDDT, model 1"
        + ("; pseudoknot pairs below the axis)" if any(below) else ")"),
        loc="left",
        fontsize=9,
    )
    legend = [Line2D([], [], color=c, lw=2, label=lab) for _, c, lab in BANDS]
    ax_arc.legend(handles=legend, loc="upper right", fontsize=7, frameon=False)
    return fig


def layout_figure(seq: str, ss: str, values: Sequence[float]):
    """ViennaRNA's naview 2D layout of the nested pairs of ``ss`` (pseudoknot pairs as
    dashed chords), nucleotides and pairs coloured by ``values`` [L] (0–100). None when
    ViennaRNA cannot lay the structure out."""
    import RNA
    from matplotlib.collections import LineCollection

    from rnapredict.io.secondary import pair_list, parse_dot_bracket, pseudoknot_levels

    table = parse_dot_bracket(ss)
    levels = pseudoknot_levels(table)
    nested = ["."] * len(ss)
    for (i, j), level in levels.items():
        if level == 0:
            nested[i], nested[j] = "(", ")"
    try:
        coords = RNA.naview_xy_coordinates("".join(nested))
    except Exception:  # noqa: BLE001  a layout is optional decoration
        return None
    xy = np.array([(coords[i].X, coords[i].Y) for i in range(len(ss))], dtype=np.float64)
    if not np.isfinite(xy).all():
        return None
    vals = np.asarray(values, dtype=np.float64)
    fig = _figure(6.4, 6.4)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.02, right=0.98, top=0.94, bottom=0.02)
    ax.plot(xy[:, 0], xy[:, 1], color="#9e9e9e", lw=0.8, zorder=1)
    segs, cols, styles = [], [], []
    for i, j in pair_list(table):
        segs.append(xy[[i, j]])
        cols.append(band_colour((vals[i] + vals[j]) / 2))
        styles.append("dashed" if levels[(i, j)] > 0 else "solid")
    if segs:
        ax.add_collection(LineCollection(segs, colors=cols, linestyles=styles, lw=1.2, zorder=2))
    size = 22 if len(ss) <= 120 else 8 if len(ss) <= 400 else 3
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=[band_colour(v) for v in vals], zorder=3, lw=0)
    if len(ss) <= 120:
        for k, base in enumerate(seq):
            ax.annotate(base, xy[k], fontsize=6, ha="center", va="center", zorder=4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("2D layout (ViennaRNA naview), coloured by pLDDT of model 1", fontsize=9)
    return fig


def render(fig, fmt: str, *, dpi: int = 150) -> bytes:  # fig: matplotlib.figure.Figure
    """The figure as ``svg`` or ``png`` bytes, the same bytes for the same figure."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None})
        elif fmt == "png":
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        else:
            raise ValueError(f"unknown figure format {fmt!r}")
    return buf.getvalue()
