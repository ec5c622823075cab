"""C1′ coordinate tables in the Stanford RNA 3D Folding (Kaggle) layout.

``ID,resname,resid,x_1,y_1,z_1,…,x_5,y_5,z_5`` — one row per residue, ``ID`` =
``<target>_<resid>``, ``resid`` the 1-based position in the concatenated chains (not the
author numbering), ``resname`` the parent base (``A C G U``; ``N`` unknown), coordinates in Å
with 3 decimals. Residues missing from a structure (a jump in its numbering inside a chain,
:mod:`rnapredict.io.numbering`) keep their positions: they get no row, the next row's
``resid`` counts them, and a warning names them. Reading fills such gaps with ``N`` and NaN.

Fewer than 5 models: the missing columns repeat model 1 (the competition needs all five and
scores the best of five, so a copy of the top model is neutral). More than 5: the first five
are kept. Both cases come back as notes for the user.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnapredict.errors import InputError, StructureError
from rnapredict.io.numbering import gap_warning, sequence_positions
from rnapredict.io.structure import RnaStructure
from rnapredict.io.textio import iter_lines

N_MODELS = 5
HEADER = ["ID", "resname", "resid"] + [f"{a}_{k}" for k in range(1, N_MODELS + 1) for a in "xyz"]


def c1_coords(models: Sequence[RnaStructure], source: str = "") -> tuple[str, np.ndarray]:
    """Sequence and C1′ coordinates of an ensemble.

    Returns:
        seq: [L] parent bases; xyz: [S, L, 3] float64 Å.
    Raises:
        StructureError: a residue without C1′, or models with different residues.
    """
    seq = models[0].seq
    out = []
    for k, m in enumerate(models, 1):
        if m.seq != seq or m.res_names != models[0].res_names:
            raise StructureError(
                f"model {k} has different residues than model 1 ({m.n_residues} vs {len(seq)})",
                file=source or None,
            )
        xyz, present = m.atom_coords("C1'")
        if not present.all():
            i = int(np.flatnonzero(~present)[0])
            raise StructureError(
                f"model {k}: residue {m.residue_labels()[i]} has no C1' atom",
                file=source or None,
                position=i + 1,
            )
        out.append(xyz)
    return seq, np.stack(out)


def c1_csv_text(
    targets: Sequence[tuple[str, Sequence[RnaStructure]]], sources: Sequence[str] | None = None
) -> tuple[str, list[str], list[str]]:
    """CSV text for ``(target id, models)`` pairs, notes on padded/cut model lists and
    warnings on missing residues (numbering gaps)."""
    rows = [",".join(HEADER)]
    notes: list[str] = []
    warnings: list[str] = []
    for t, (tid, models) in enumerate(targets):
        source = sources[t] if sources is not None and t < len(sources) else tid
        if not models:
            raise StructureError("no models", file=source)
        if len(models) > N_MODELS:
            notes.append(f"{tid}: {len(models)} models, kept the first {N_MODELS}")
        elif len(models) < N_MODELS:
            notes.append(
                f"{tid}: {len(models)} model(s); columns {len(models) + 1}-5 repeat model 1"
            )
        use = list(models[:N_MODELS]) + [models[0]] * max(0, N_MODELS - len(models))
        seq, xyz = c1_coords(use, source)
        pos, gaps = sequence_positions(use[0])
        if gaps:
            warnings.append(gap_warning(tid, gaps, "no rows for them; resid counts them"))
        flat = np.transpose(xyz, (1, 0, 2)).reshape(len(seq), -1)  # [L, 5*3]
        for i, base in enumerate(seq):
            rows.append(f"{tid}_{pos[i]},{base},{pos[i]}," + ",".join(f"{v:.3f}" for v in flat[i]))
    return "\n".join(rows) + "\n", notes, warnings


def read_c1_csv(path: str | Path) -> dict[str, tuple[str, np.ndarray]]:
    """Targets of a C1′ CSV as ``{target: (seq [L], xyz [S, L, 3])}`` (S = number of x_k columns).

    Rows of a target must be contiguous with increasing ``resid`` from 1; a skipped ``resid``
    (a missing residue) reads as ``N`` with NaN coordinates.
    """
    name = str(path)
    lines = (line for _, line in iter_lines(path))
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or header[:3] != HEADER[:3] or (len(header) - 3) % 3:
        raise InputError("not a C1' CSV (expected ID,resname,resid,x_1,y_1,z_1,...)", file=name)
    n_models = (len(header) - 3) // 3
    out: dict[str, tuple[list[str], list[list[float]]]] = {}
    for lineno, row in enumerate(reader, 2):
        if not row:
            continue
        try:
            tid, resid = row[0].rsplit("_", 1)
            values = [float(v) for v in row[3:]]
            if int(row[2]) != int(resid) or len(values) != 3 * n_models:
                raise ValueError
        except ValueError:
            raise InputError("malformed row", file=name, line=lineno) from None
        seq, xyz = out.setdefault(tid, ([], []))
        if int(resid) <= len(seq) or (not seq and int(resid) != 1):
            raise InputError(f"resid {resid} out of order for {tid}", file=name, line=lineno)
        for _ in range(int(resid) - len(seq) - 1):  # a gap: missing residues
            seq.append("N")
            xyz.append([float("nan")] * 3 * n_models)
        seq.append(row[1])
        xyz.append(values)
    return {
        t: (
            "".join(s),
            np.asarray(x, dtype=np.float64).reshape(len(s), n_models, 3).transpose(1, 0, 2),
        )
        for t, (s, x) in out.items()
    }
