"""``c1/``: chain rows (``sequences.csv``) and C1′ coordinates (``coords.csv``)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from rnapredict.data.split import in_split


def c1_rows(data_dir: Path, split: str | None = None) -> list[dict[str, str]]:
    """Rows of ``c1/sequences.csv`` in file order: those of ``split``, or every row (None)."""
    with (Path(data_dir) / "c1" / "sequences.csv").open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if split is None or in_split(r, split)]


def read_c1_coords(
    data_dir: Path, wanted: set[str] | None = None, dtype: type = np.float32
) -> dict[str, np.ndarray]:
    """C1′ coordinates [L, 3] (Å, in residue order) of the wanted ``c1/`` target ids (None:
    all)."""
    rows: dict[str, list[tuple[int, float, float, float]]] = {}
    with (Path(data_dir) / "c1" / "coords.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            tid = r["ID"].rsplit("_", 1)[0]
            if wanted is None or tid in wanted:
                rows.setdefault(tid, []).append(
                    (int(r["resid"]), float(r["x"]), float(r["y"]), float(r["z"]))
                )
    return {t: np.array([p[1:] for p in sorted(v)], dtype=dtype) for t, v in rows.items()}
