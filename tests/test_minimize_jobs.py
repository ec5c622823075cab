"""``minimize --jobs``: files relaxed in worker processes give the serial run's bytes and
rows, in input order; an unreadable file still fails alone."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from rnapredict.io.atomic import TMP_PREFIX
from rnapredict.relax.files import minimize_files
from rnapredict.relax.options import FOLD_RELAX
from tests.conftest import shared_path


@pytest.mark.slow
def test_jobs_give_the_serial_bytes_in_input_order(tmp_path: Path) -> None:
    hairpin = shared_path("fixtures", "score", "natives", "1ATO_A.pdb")
    inputs = []
    for name in ("a", "empty", "b"):
        p = tmp_path / "in" / f"{name}.pdb"
        p.parent.mkdir(exist_ok=True)
        if name == "empty":
            p.write_text("")
        else:
            shutil.copy(hairpin, p)
        inputs.append(p)
    options = replace(FOLD_RELAX, steps=5)
    serial = minimize_files(inputs, tmp_path / "serial", options, jobs=1, threads=1)
    parallel = minimize_files(inputs, tmp_path / "jobs", options, jobs=2, threads=2)
    rows = [(Path(r.source).name, r.model_index, r.ok, r.rmsd, r.energy_after) for r in serial]
    assert [
        (Path(r.source).name, r.model_index, r.ok, r.rmsd, r.energy_after) for r in parallel
    ] == rows
    assert [row[:3] for row in rows] == [
        ("a.pdb", 1, True),
        ("empty.pdb", 1, False),
        ("b.pdb", 1, True),
    ]
    for name in ("a.pdb", "b.pdb"):
        assert (tmp_path / "jobs" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
    assert not list((tmp_path / "jobs").glob(f"{TMP_PREFIX}*"))
