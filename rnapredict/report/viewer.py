"""Models packed for the page's 3D viewer, and the viewer's scripts.

A 1,000-nt record has ~21,500 heavy atoms per model; five models as PDB text are ~8.7 MB.
The page instead carries, per model, its coordinates as little-endian int32 in units of
0.001 Å (PDB precision, so nothing is lost against the model files) in base64, and its
topology once: residue templates (atom names and elements) and per residue chain, number,
insertion code, name and template index. ``viewer.js`` rebuilds PDB text for 3Dmol.js in the
browser. Cost: 16 bytes per atom per model (~1.7 MB for 5 × 1,000 nt), about a fifth of PDB.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from rnapredict.io.structure import RnaStructure

#: Coordinates are stored as integers in this unit (Å).
COORD_UNIT = 0.001


def asset_text(name: str) -> str:
    """Text of a file in ``rnapredict/report/assets``."""
    return resources.files("rnapredict.report").joinpath("assets").joinpath(name).read_text("utf-8")


def _topology(model: RnaStructure) -> dict[str, Any]:
    """Residue templates and per-residue identity of ``model`` (see the module docstring)."""
    starts = model.residue_starts()
    templates: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}
    tmpl_index: list[int] = []
    for i in range(model.n_residues):
        key = (
            tuple(model.atom_names[starts[i] : starts[i + 1]]),
            tuple(model.elements[starts[i] : starts[i + 1]]),
        )
        tmpl_index.append(templates.setdefault(key, len(templates)))
    return {
        "templates": [{"names": list(n), "elements": list(e)} for n, e in templates],
        "chain": "".join((c or "A")[:1] for c in model.chain_ids),
        "resi": [int(r) for r in model.res_ids],
        "icode": "".join((c or " ")[:1] for c in model.ins_codes),
        "resn": [n[:3] for n in model.res_names],
        "tmpl": tmpl_index,
    }


def pack_coords(coords: np.ndarray) -> str:
    """Base64 of [N, 3] coordinates (Å) as little-endian int32 in :data:`COORD_UNIT`."""
    q = np.rint(np.asarray(coords, dtype=np.float64) / COORD_UNIT).astype("<i4")
    return base64.b64encode(q.tobytes()).decode("ascii")


def unpack_coords(text: str) -> np.ndarray:
    """Inverse of :func:`pack_coords`: [N, 3] float64 Å."""
    q = np.frombuffer(base64.b64decode(text), dtype="<i4")
    return q.reshape(-1, 3).astype(np.float64) * COORD_UNIT


def _finite(value: float | None) -> float | None:
    """A colour value rounded for the page; None (JSON null, drawn grey) when there is none
    (an unaligned residue): NaN is not JSON."""
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), 2)


def pack_models(
    models: Sequence[RnaStructure],
    labels: Sequence[str],
    colour_values: Sequence[Sequence[float] | None],
    *,
    styles: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The viewer's data: models (coordinates as given, so superpose first) and topologies.

    Args:
        models: [S] structures.
        labels: [S] button labels.
        colour_values: [S] per-residue values 0–100 coloured with the pLDDT bands (written
            to the B-factor column), or None to colour the model grey; a None or NaN value
            colours its residue grey.
        styles: [S] ``"confidence"`` or ``"reference"`` (grey, drawn under the others).
    """
    topologies: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    packed = []
    for k, (m, label, values) in enumerate(zip(models, labels, colour_values, strict=True)):
        topo = _topology(m)
        key = repr(topo)
        t = index.setdefault(key, len(topologies))
        if t == len(topologies):
            topologies.append(topo)
        vals = None if values is None else [_finite(v) for v in values]
        packed.append(
            {
                "label": label,
                "topology": t,
                "xyz": pack_coords(m.coords),
                "b": vals,
                "style": styles[k] if styles else "confidence",
            }
        )
    return {"unit": COORD_UNIT, "models": packed, "topologies": topologies}
