"""Issue 12, fold/io half: hostile-input and fault reliability of ``rnapredict fold``.

Each test failed before its fix: degenerate models reported ok, a silently ignored ``--ss``
file, raw ``OSError`` on a full disk with missing rows, ``--resume`` trusting truncated models,
PDB limits found only after folding, unclear ``-o`` errors.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rnapredict.engine
import rnapredict.io.pdbio as pdbio
from rnapredict.cli import app
from rnapredict.errors import EXIT_OUTPUT_FAILED, InputError, OutputWriteError
from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.geometry.check import MIN_LENGTH, bad_residues, model_problem
from rnapredict.io.pdbio import read_structure
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions, Prediction
from rnapredict.results.outputs import choose_format, read_complete
from rnapredict.results.summary import read_summary
from tests.conftest import REPO, shared_path
from tests.test_fold_support import StubEngine

WEIGHTS = REPO / "weights"


def opts(**kw) -> FoldRunOptions:
    return FoldRunOptions(**{"n_samples": 2, "device": "cpu", **kw})


def fasta(path: Path, items: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f">{rid}\n{seq}\n" for rid, seq in items))
    return path


class CollapsingEngine(StubEngine):
    """Puts every atom of the models of ``bad_ids`` on one point (the 1-nt defect), or scales
    and shifts them."""

    def __init__(self, bad_ids: set[str], scale: float = 0.0, shift: float = 0.0) -> None:
        super().__init__()
        self.bad_ids = bad_ids
        self.scale = scale
        self.shift = shift

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        pred = super().predict(record, options)
        if record.id in self.bad_ids:
            pred.models = [m.with_coords(m.coords * self.scale + self.shift) for m in pred.models]
        return pred


# --------------------------------------------------------------------- 1. physical models
def test_model_check_on_a_real_structure_and_its_defects() -> None:
    native = read_structure(shared_path("fixtures", "score", "natives", "1ehz_A.pdb"))
    assert model_problem(native) is None  # crystal bonds are within tolerance
    c = native.coords.copy()
    c[5] = c[4] + 0.3  # two atoms 0.52 Å apart: not coincident...
    assert "closer than" not in (model_problem(native.with_coords(c)) or "")
    c[5] = c[4] + 0.1  # ...0.17 Å apart: coincident
    assert "of one residue closer than 0.5" in (model_problem(native.with_coords(c)) or "")
    c = native.coords.copy()
    i = native.atom_names.index("O2'")
    j = next(k for k in range(i) if native.atom_names[k] == "C2'" and native.atom_res[k] == 0)
    bond = c[i] - c[j]
    c[i] = c[j] + bond * (1.0 + 0.5 / np.linalg.norm(bond))  # C2'-O2' stretched by 0.5 Å
    assert "bond C2'-O2'" in (model_problem(native.with_coords(c)) or "")
    c = native.coords.copy()
    c[7, 1] = np.nan
    assert "non-finite" in (model_problem(native.with_coords(c)) or "")


def test_bad_residues_are_exactly_what_model_problem_rejects() -> None:
    """One defect of each kind in three residues: bad_residues names those three, and putting
    their native coordinates back makes the model pass (the per-residue clean-up revert)."""
    native = read_structure(shared_path("fixtures", "score", "natives", "1ehz_A.pdb"))
    assert bad_residues(native) == []
    c = native.coords.copy()
    starts = native.residue_starts()
    c[starts[3] + 1] = c[starts[3]] + 0.1  # coincident atoms in residue 3
    i = next(k for k in range(starts[10], starts[11]) if native.atom_names[k] == "O2'")
    j = next(k for k in range(starts[10], starts[11]) if native.atom_names[k] == "C2'")
    c[i] = c[j] + (c[i] - c[j]) * 1.4  # C2'-O2' of residue 10 stretched by ~0.57 Å
    c[starts[20] + 2, 0] = np.nan  # non-finite atom in residue 20
    broken = native.with_coords(c)
    assert model_problem(broken) is not None
    bad = bad_residues(broken)
    assert bad == [3, 10, 20]
    mended = c.copy()
    for r in bad:
        mended[starts[r] : starts[r + 1]] = native.coords[starts[r] : starts[r + 1]]
    assert model_problem(native.with_coords(mended)) is None


def test_degenerate_model_is_not_reported_ok(tmp_path: Path) -> None:
    fa = fasta(tmp_path / "in.fa", [("good", "GGGAAACCC"), ("flat", "GGGAAACCC")])
    out = tmp_path / "out"
    result = fold_inputs([fa], out, opts(), engine=CollapsingEngine({"flat"}))
    assert (result.ok, result.failed, result.exit_code) == (1, 1, 3)
    rows = {r.id: r for r in read_summary(out / "summary.tsv")}
    assert rows["good"].status == "ok" and rows["flat"].status == "failed"
    assert "not physical" in rows["flat"].error and "closer than 0.5" in rows["flat"].error
    assert sorted(p.name for p in (out / "flat").iterdir()) == ["error.txt"]


def test_one_nt_record_fails_with_the_stated_minimum(tmp_path: Path) -> None:
    fa = fasta(tmp_path / "in.fa", [("one", "A"), ("two", "AC")])
    out = tmp_path / "out"
    engine = StubEngine()
    result = fold_inputs([fa], out, opts(), engine=engine)
    assert (result.ok, result.failed) == (1, 1) and engine.calls == 1  # 1 nt never folded
    rows = {r.id: r for r in read_summary(out / "summary.tsv")}
    assert rows["one"].length == 1 and f"{MIN_LENGTH} nt minimum" in rows["one"].error


@pytest.mark.skipif(not (WEIGHTS / "model.safetensors").is_file(), reason="no shipped weights")
def test_shipped_engine_builds_real_models_from_two_nt(tmp_path: Path) -> None:
    """What the geometry builder really does: 2 and 3 nt give physical models (so 2 is the
    honest minimum); 1 nt collapses to one point, which the model check refuses."""
    engine = rnapredict.engine.load_engine(None, device="cpu")
    one = engine.predict(Record("x", "A"), FoldOptions(n_samples=1, steps=10))
    assert "closer than 0.5" in (model_problem(one.models[0]) or "")
    fa = fasta(tmp_path / "in.fa", [("two", "AC"), ("three", "GCU")])
    result = fold_inputs([fa], tmp_path / "out", opts(steps=10), engine=engine)
    assert (result.ok, result.failed) == (2, 0)


# --------------------------------------------------------------------- 2. --ss by id
def _ss_file(path: Path, items: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f">{rid}\n{ss}\n" for rid, ss in items))
    return path


class Collect:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def start(self, total: int, skipped: int) -> None: ...
    def begin(self, index: int, record_id: str | None) -> None: ...
    def done(self, outcome) -> None: ...  # noqa: ANN001
    def finish(self, result) -> None: ...  # noqa: ANN001

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def test_ss_file_matching_no_record_is_a_usage_error(tmp_path: Path) -> None:
    fa = fasta(tmp_path / "in.fa", [("a", "GGGAAACCC"), ("b", "GGGGAAACCCC")])
    ss = _ss_file(tmp_path / "ss.fa", [("x", "(((...)))"), ("y", "((((...))))")])
    out = tmp_path / "out"
    with pytest.raises(InputError) as exc:
        fold_inputs([fa], out, opts(ss_file=ss), engine=StubEngine())
    msg = str(exc.value)
    assert exc.value.exit_code == 2 and str(ss) in msg
    assert "'x', 'y'" in msg and "'a', 'b'" in msg
    assert not out.exists()


def test_records_missing_from_the_ss_file_are_warned_about(tmp_path: Path) -> None:
    fa = fasta(tmp_path / "in.fa", [("a", "GGGAAACCC"), ("b", "GGGGAAACCCC")])
    ss = _ss_file(tmp_path / "ss.fa", [("a", "(((...)))")])
    out = tmp_path / "out"
    rep = Collect()
    result = fold_inputs([fa], out, opts(ss_file=ss), engine=StubEngine(), reporter=rep)
    assert result.exit_code == 0
    assert len(rep.warnings) == 1 and "record 'b'" in rep.warnings[0]
    assert str(ss) in rep.warnings[0] and "ViennaRNA" in rep.warnings[0]
    doc = json.loads((out / "a" / "confidence.json").read_text())
    assert doc["secondary_structure"] == {"dot_bracket": "(((...)))", "source": "input"}


# --------------------------------------------------------------------- 3. disk full
def _fill_disk_after(monkeypatch: pytest.MonkeyPatch, n_ok: int) -> None:
    """Fault injection: the model writer's ``n_ok + 1``-th write fails with ENOSPC."""
    real = pdbio.atomic_write_text
    calls = {"n": 0}

    def full(path, text, overwrite=False):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, text, overwrite)

    monkeypatch.setattr(pdbio, "atomic_write_text", full)


def test_disk_full_stops_with_exit_4_rows_and_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [(f"r{k}", "GGGAAACCCAGC") for k in range(5)]
    fa = fasta(tmp_path / "in.fa", items)
    out = tmp_path / "out"
    _fill_disk_after(monkeypatch, n_ok=4)  # 2 records × 2 models, then the disk is full
    with pytest.raises(OutputWriteError) as exc:
        fold_inputs([fa], out, opts(), engine=StubEngine())
    msg = str(exc.value)
    assert exc.value.exit_code == EXIT_OUTPUT_FAILED == 4
    assert "[Errno 28]" in msg and str(out / "r2" / "model_1.pdb") in msg
    assert "2 finished record(s) are kept" in msg and "--resume" in msg and "\n" not in msg
    rows = list(read_summary(out / "summary.tsv"))
    assert [(r.id, r.status) for r in rows] == [("r0", "ok"), ("r1", "ok"), ("r2", "failed")]
    assert rows[2].length == 12 and "No space left" in rows[2].error
    assert not (out / "r2" / "model_1.pdb").exists()
    monkeypatch.undo()
    engine = StubEngine()
    result = fold_inputs([fa], out, opts(resume=True), engine=engine)
    assert (result.skipped, result.ok, engine.calls) == (2, 3, 3)
    assert [r.status for r in read_summary(out / "summary.tsv")] == ["ok"] * 5


@pytest.mark.parametrize("debug", [False, True])
def test_cli_disk_full_exit_4_one_line_debug_same_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug: bool
) -> None:
    monkeypatch.setattr(rnapredict.engine, "load_engine", lambda *a, **k: StubEngine())
    fa = fasta(tmp_path / "in.fa", [("a", "GGGAAACCC"), ("b", "GGGAAACCC")])
    _fill_disk_after(monkeypatch, n_ok=1)
    out = tmp_path / "out"
    args = ["--debug"] if debug else []
    res = CliRunner().invoke(app, [*args, "fold", str(fa), "-o", str(out), "-n", "1"])
    assert res.exit_code == 4, res.output
    # the record's failure line, then the one-line batch message last
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and errors[0].startswith("error: record 'b': cannot write")
    assert "[Errno 28]" in errors[1] and "--resume" in errors[1] and "1 finished" in errors[1]
    assert "internal error" not in res.stderr
    assert ("Traceback" in res.stderr) is debug
    assert [r.status for r in read_summary(out / "summary.tsv")] == ["ok", "failed"]


def test_output_under_a_regular_file_is_a_clear_usage_error(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    fa = fasta(tmp_path / "in.fa", [("a", "GGGAAACCC")])
    res = CliRunner().invoke(app, ["fold", str(fa), "-o", str(afile / "sub"), "-n", "1"])
    assert res.exit_code == 2
    assert "is under a file" in res.stderr and "Errno" not in res.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
def test_unwritable_output_is_refused_before_folding(tmp_path: Path) -> None:
    """/proc refuses new files even for root (chmod would not stop root)."""
    fa = fasta(tmp_path / "in.fa", [("a", "GGGAAACCC")])
    engine = StubEngine()
    with pytest.raises(InputError, match="not writable") as exc:
        fold_inputs([fa], Path("/proc/rnapredict-out"), opts(), engine=engine)
    assert exc.value.exit_code == 2 and engine.calls == 0


# --------------------------------------------------------------------- 4. resume checksums
@pytest.mark.parametrize("damage", ["truncate", "same_size_edit"])
def test_resume_redoes_a_record_whose_model_changed(tmp_path: Path, damage: str) -> None:
    fa = fasta(tmp_path / "in.fa", [("a", "GGGAAACCCAGC"), ("b", "GGGGAAACCCC")])
    out = tmp_path / "out"
    fold_inputs([fa], out, opts(fmt="both"), engine=StubEngine())
    doc = read_complete(out / "a")
    assert doc is not None
    model = out / "a" / "model_1.pdb"
    good = model.read_bytes()
    assert doc["checksums"]["model_1.pdb"]["bytes"] == len(good)
    if damage == "truncate":
        model.write_bytes(good[: len(good) // 2])
    else:
        model.write_bytes(good.replace(b"ATOM  ", b"HETATM", 1))
    assert read_complete(out / "a") is None and read_complete(out / "b") is not None
    engine = StubEngine()
    result = fold_inputs([fa], out, opts(fmt="both", resume=True), engine=engine)
    assert (result.ok, result.skipped, engine.calls) == (1, 1, 1)
    assert model.read_bytes() == good  # same seed, same bytes


# --------------------------------------------------------------------- 5. duplicate ids
def test_duplicate_gets_its_own_error_file_beside_the_first(tmp_path: Path) -> None:
    fa = tmp_path / "in.fa"
    fa.write_text(">x\nACGUAC\n>x\nUUUU\n>a|b\nAAAA\n>a_b\nCCCC\n")
    out = tmp_path / "out"
    fold_inputs([fa], out, opts(), engine=StubEngine())
    first = sorted(p.name for p in (out / "x").iterdir())
    assert first == ["confidence.json", "error-1.txt", "model_1.pdb", "model_2.pdb"]
    assert "duplicate record id" in (out / "x" / "error-1.txt").read_text()
    assert "same output name" in (out / "a_b" / "error-3.txt").read_text()
    assert read_complete(out / "x") is not None  # the first record's outputs untouched
    rows = list(read_summary(out / "summary.tsv"))
    assert [(r.id, r.length) for r in rows] == [("x", 6), ("x", 4), ("a|b", 4), ("a_b", 4)]
    # rerun with --overwrite: the same files, no leftovers, no clobbering
    fold_inputs([fa], out, opts(overwrite=True), engine=StubEngine())
    assert sorted(p.name for p in (out / "x").iterdir()) == first


# --------------------------------------------------------------------- 8. PDB limits
def test_format_is_decided_before_folding() -> None:
    assert choose_format("pdb", "ACGU" * 1000) == ("pdb", None)  # 4,000 nt: 86,000 atoms
    fmt, note = choose_format("pdb", "G" * 4400)  # 101,200 atoms
    assert fmt == "cif" and note is not None and "101,200 atoms" in note
    fmt, note = choose_format("both", "ACGU" * 2500)  # the 10,000-nt record of the issue
    assert fmt == "cif" and "10,000 nt" in note and "--format both" in note
    assert choose_format("cif", "G" * 20000) == ("cif", None)


def test_models_beyond_pdb_columns_are_written_as_mmcif_with_a_note(tmp_path: Path) -> None:
    fa = fasta(tmp_path / "in.fa", [("big", "GGGAAACCCAGC"), ("small", "GGGAAACCCAGC")])
    out = tmp_path / "out"
    # coordinates past -999.999 Å (shifted: scaling would also stretch the chain apart)
    engine = CollapsingEngine({"big"}, scale=1.0, shift=-1500.0)
    result = fold_inputs([fa], out, opts(), engine=engine)
    assert (result.ok, result.failed) == (2, 0)
    doc = json.loads((out / "big" / "confidence.json").read_text())
    assert doc["models"][0]["files"] == ["model_1.cif"] and "mmCIF" in doc["notes"][0]
    assert "coordinates too large for PDB columns" in doc["notes"][0]
    assert read_complete(out / "big") is not None
    assert json.loads((out / "small" / "confidence.json").read_text())["notes"] == []
    assert (out / "small" / "model_1.pdb").is_file()


def test_models_with_different_atoms_still_get_a_file_each(tmp_path: Path) -> None:
    """Each model has its own file, so models need not share atoms (a relaxed model beside
    an unrelaxed one): the PDB-limits check looks at them one by one."""
    import dataclasses

    from rnapredict.results.outputs import write_model_files

    pred = StubEngine().predict(Record("x", "GGGAAACCC"), FoldOptions(n_samples=2))
    other = dataclasses.replace(pred.models[1], res_names=["XYZ"] * 9)
    files, note = write_model_files([pred.models[0], other], tmp_path, "pdb", title="x")
    assert files == [["model_1.pdb"], ["model_2.pdb"]] and note is None
    assert " XYZ A   1" in (tmp_path / "model_2.pdb").read_text()


def test_record_too_big_for_pdb_is_written_as_mmcif_without_trying_pdb(tmp_path: Path) -> None:
    """4,400 G = 101,200 heavy atoms: mmCIF chosen from the sequence, noted in
    confidence.json and on stderr (the cheap one-atom engine keeps the test fast)."""
    from rnapredict.fold.progress import PlainReporter
    from tests.test_fold_support import CheapEngine

    fa = fasta(tmp_path / "in.fa", [("long", "G" * 4400)])
    out = tmp_path / "out"
    log = tmp_path / "log.txt"
    with open(log, "w") as stream:
        result = fold_inputs(
            [fa], out, opts(n_samples=1), engine=CheapEngine(), reporter=PlainReporter(stream)
        )
    assert result.exit_code == 0
    doc = json.loads((out / "long" / "confidence.json").read_text())
    assert doc["models"][0]["files"] == ["model_1.cif"] and doc["settings"]["format"] == "pdb"
    assert "101,200 atoms exceed the PDB format limits" in doc["notes"][0]
    assert "note: long: model files written as mmCIF" in log.read_text()
