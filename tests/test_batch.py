"""Batch behaviour of ``fold_inputs`` with a stand-in engine: outputs, isolation, resume,
overwrite, sharding, hostile ids, JSON Lines, pre-flight refusals."""

from __future__ import annotations

import io
import json
from pathlib import Path

import gemmi
import numpy as np
import pytest

from rnapredict.errors import InputError, OutputExistsError
from rnapredict.fold import FoldRunOptions, Shard, fold_inputs
from rnapredict.fold.progress import JsonLinesReporter
from rnapredict.io.atomic import TMP_PREFIX
from rnapredict.io.pdbio import read_models
from rnapredict.pipeline.api import record_seed
from rnapredict.results.summary import read_summary
from tests.test_fold_support import StubEngine

SEQS = {
    "r1": "GGGAAACCCAGC",
    "r2": "ACGUACGUACGUAAG",
    "r3": "GCGCUUCGGCGC",
    "r4": "AUGGCUACGUAGCUAGCUAG",
    "r5": "CCCCUUUUGGGG",
}


def write_fasta(path: Path, entries: dict[str, str] | list[tuple[str, str]]) -> Path:
    items = entries.items() if isinstance(entries, dict) else entries
    path.write_text("".join(f">{rid}\n{seq}\n" for rid, seq in items))
    return path


def opts(**kw) -> FoldRunOptions:
    return FoldRunOptions(**{"n_samples": 3, "device": "cpu", **kw})


def test_outputs_of_a_batch(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", SEQS)
    out = tmp_path / "out"
    engine = StubEngine()
    result = fold_inputs([fa], out, opts(seed=7), engine=engine)
    assert (result.ok, result.failed, result.exit_code) == (5, 0, 0)
    rows = list(read_summary(out / "summary.tsv"))
    assert [r.id for r in rows] == list(SEQS)
    assert all(r.status == "ok" and r.length == len(SEQS[r.id]) for r in rows)
    for rid, seq in SEQS.items():
        doc = json.loads((out / rid / "confidence.json").read_text())
        assert doc["id"] == rid and doc["sequence"] == seq and doc["status"] == "ok"
        assert doc["seed"] == record_seed(7, rid) and doc["run_seed"] == 7
        means = [m["mean_plddt"] for m in doc["models"]]
        assert means == sorted(means, reverse=True) and doc["mean_plddt"] == means[0]
        assert sorted(doc["ranking"]) == [0, 1, 2]
        assert doc["secondary_structure"]["dot_bracket"] == "." * len(seq)
        for m in doc["models"]:
            assert len(m["plddt"]) == len(seq) and all(0 <= v <= 100 for v in m["plddt"])
            (model,) = read_models(out / rid / m["files"][0])
            assert model.seq == seq
            # pLDDT travels in the B-factor column (2 decimals in JSON, PDB 2 decimals too).
            st = gemmi.read_structure(str(out / rid / m["files"][0]))
            bfac = [res[0].b_iso for res in st[0][0]]
            np.testing.assert_allclose(bfac, m["plddt"], atol=0.011)
    assert not list(out.rglob(f"{TMP_PREFIX}*"))


def test_failures_are_isolated(tmp_path: Path) -> None:
    fa = tmp_path / "in.fa"
    fa.write_text(
        ">ok1\nACGUAC\n>bad\nACGZU\n>long\n" + "A" * 60 + "\n>boom\nACGU\n>oom\nGGGG\n>ok2\nCCCC\n"
    )
    out = tmp_path / "out"
    engine = StubEngine(fail_ids=["boom"], oom_ids=["oom"])
    result = fold_inputs([fa], out, opts(max_len=50), engine=engine)
    assert (result.ok, result.failed, result.exit_code) == (2, 4, 3)
    rows = {r.id: r for r in read_summary(out / "summary.tsv")}
    assert {k: r.status for k, r in rows.items()} == {
        "ok1": "ok",
        "bad": "failed",
        "long": "failed",
        "boom": "failed",
        "oom": "failed",
        "ok2": "ok",
    }
    assert "position 4" in rows["bad"].error and "in.fa" in rows["bad"].error
    assert "--max-len 50" in rows["long"].error and rows["long"].length == 60
    assert "out of memory" in rows["oom"].error
    assert "stub failure" in rows["boom"].error
    for rid in ("bad", "long", "boom", "oom"):
        assert sorted(p.name for p in (out / rid).iterdir()) == ["error.txt"]
        assert (out / rid / "error.txt").read_text().startswith(f"id: {rid}\n")
    assert "Traceback" in (out / "boom" / "error.txt").read_text()
    assert engine.calls == 4  # bad and long never reached the engine


def test_existing_output_is_refused_before_folding(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", SEQS)
    out = tmp_path / "out"
    fold_inputs([fa], out, opts(), engine=StubEngine())
    engine = StubEngine()
    with pytest.raises(OutputExistsError) as exc:
        fold_inputs([fa], out, opts(), engine=engine)
    assert exc.value.exit_code == 2 and "--resume" in str(exc.value)
    assert engine.calls == 0
    # --resume: nothing left to do; --overwrite: everything again.
    result = fold_inputs([fa], out, opts(resume=True), engine=engine)
    assert (result.skipped, result.ok, engine.calls, result.exit_code) == (5, 0, 0, 0)
    result = fold_inputs([fa], out, opts(overwrite=True), engine=engine)
    assert (result.ok, engine.calls) == (5, 5)


def test_resume_keeps_the_recorded_time_of_skipped_records(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", {"r1": SEQS["r1"], "r2": SEQS["r2"]})
    out = tmp_path / "out"
    fold_inputs([fa], out, opts(), engine=StubEngine())
    conf = out / "r1" / "confidence.json"
    doc = json.loads(conf.read_text())
    conf.write_text(json.dumps({**doc, "time_s": 12.345}))  # as if r1 had taken 12.3 s
    (out / "r2" / "confidence.json").unlink()  # r2 is redone
    stream = io.StringIO()
    fold_inputs(
        [fa], out, opts(resume=True), engine=StubEngine(), reporter=JsonLinesReporter(out, stream)
    )
    rows = {r.id: r for r in read_summary(out / "summary.tsv")}
    assert rows["r1"].time_s == pytest.approx(12.35, abs=0.01)  # was written as 0.00
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines() if '"r1"' in x]
    assert line["status"] == "skipped" and line["time_s"] == pytest.approx(12.345)


def test_resume_redoes_incomplete_and_failed(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", SEQS)
    out = tmp_path / "out"
    fold_inputs([fa], out, opts(), engine=StubEngine(fail_ids=["r4"]))
    before = (out / "r1" / "model_1.pdb").read_text()
    # A killed run: r2 lost its marker, r3 has a stray temp file and a partial model.
    (out / "r2" / "confidence.json").unlink()
    (out / "r3" / "model_2.pdb").unlink()
    (out / "r5" / f"{TMP_PREFIX}abc.pdb").write_text("partial")
    (out / f"{TMP_PREFIX}xyz.tsv").write_text("partial")
    engine = StubEngine()
    result = fold_inputs([fa], out, opts(resume=True), engine=engine)
    assert (result.ok, result.skipped, result.failed) == (3, 2, 0)
    assert engine.calls == 3  # r2, r3 (incomplete) and r4 (failed before)
    assert not (out / "r4" / "error.txt").exists()
    assert (out / "r1" / "model_1.pdb").read_text() == before
    assert not list(out.rglob(f"{TMP_PREFIX}*"))
    assert [r.status for r in read_summary(out / "summary.tsv")] == ["ok"] * 5


def _tree(out: Path) -> dict[str, np.ndarray]:
    coords = {}
    for p in sorted(out.rglob("model_*.pdb")):
        coords[str(p.relative_to(out))] = read_models(p)[0].coords
    return coords


def test_shard_union_equals_unsharded(tmp_path: Path) -> None:
    entries = {f"s{k:02d}": SEQS[f"r{k % 5 + 1}"] for k in range(11)}
    fa = write_fasta(tmp_path / "in.fa", entries)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    fold_inputs([fa], whole, opts(seed=3), engine=StubEngine())
    counts = []
    for i in (1, 2, 3):
        r = fold_inputs([fa], parts, opts(seed=3, shard=Shard(i, 3)), engine=StubEngine())
        counts.append(r.ok)
    assert counts == [4, 4, 3]
    a, b = _tree(whole), _tree(parts)
    assert a.keys() == b.keys() and len(a) == 33
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    strip = lambda rows: [(r.id, r.index, r.status, r.mean_plddt) for r in rows]  # noqa: E731
    assert strip(read_summary(whole / "summary.tsv")) == strip(read_summary(parts / "summary.tsv"))


def test_seed_changes_coordinates_deterministically(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", {"x": SEQS["r1"]})
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        fold_inputs([fa], tmp_path / name, opts(seed=seed), engine=StubEngine())
    a, b, c = (_tree(tmp_path / n) for n in "abc")
    np.testing.assert_array_equal(a["x/model_1.pdb"], b["x/model_1.pdb"])
    assert not np.allclose(a["x/model_1.pdb"], c["x/model_1.pdb"])


HOSTILE = ["../../etc/passwd", "a/b", "..", ".hidden", "x\x1b[31my", "con\x07trol", "/abs"]


def test_hostile_ids_stay_inside_out(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", [(rid, "ACGUAC") for rid in HOSTILE])
    out = tmp_path / "deep" / "out"
    result = fold_inputs([fa], out, opts(n_samples=1), engine=StubEngine())
    assert result.ok == len(HOSTILE)
    every = [p for p in tmp_path.rglob("*")]
    assert all(p == tmp_path / "deep" or out in p.parents or p in (out, fa) for p in every)
    dirs = [p for p in out.iterdir() if p.is_dir()]
    assert len(dirs) == len(HOSTILE)
    ids = set()
    for d in dirs:
        assert not d.name.startswith(".") and all(c.isalnum() or c in "._-" for c in d.name)
        ids.add(json.loads((d / "confidence.json").read_text())["id"])
    assert ids == set(HOSTILE)  # the original ids are kept
    text = (out / "summary.tsv").read_text()
    assert "\x1b" not in text and "\x07" not in text and len(text.splitlines()) == 1 + len(HOSTILE)


def test_json_lines_one_object_per_record(tmp_path: Path) -> None:
    fa = tmp_path / "in.fa"
    fa.write_text(">a\nACGU\n>b\nACGB\n>c\nGGCC\n")
    out = tmp_path / "out"
    buf = io.StringIO()
    fold_inputs([fa], out, opts(), engine=StubEngine(), reporter=JsonLinesReporter(out, buf))
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert [(x["id"], x["status"]) for x in lines] == [("a", "ok"), ("b", "failed"), ("c", "ok")]
    assert all(Path(m).is_file() for m in lines[0]["models"]) and len(lines[0]["models"]) == 3
    assert "ambiguous IUPAC code 'B'" in lines[1]["error"]


def test_preflight_refuses_records_over_the_memory_limit(tmp_path: Path) -> None:
    fa = tmp_path / "in.fa"
    fa.write_text(">small\nACGU\n>big\n" + "ACGU" * 500 + "\n")
    out = tmp_path / "out"
    engine = StubEngine()
    result = fold_inputs([fa], out, opts(max_memory=200 * 2**20), engine=engine)
    assert (result.ok, result.failed, engine.calls) == (1, 1, 1)
    err = (out / "big" / "error.txt").read_text()
    assert "--max-memory" in err and "2000 nt" in err


def test_both_formats_agree(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", {"x": SEQS["r4"]})
    fold_inputs([fa], tmp_path / "out", opts(fmt="both"), engine=StubEngine())
    d = tmp_path / "out" / "x"
    for k in (1, 2, 3):
        pdb, cif = read_models(d / f"model_{k}.pdb")[0], read_models(d / f"model_{k}.cif")[0]
        np.testing.assert_allclose(pdb.coords, cif.coords, atol=1e-3)
    doc = json.loads((d / "confidence.json").read_text())
    assert doc["models"][0]["files"] == ["model_1.pdb", "model_1.cif"]


def test_whole_input_errors_come_before_any_output(tmp_path: Path) -> None:
    good = write_fasta(tmp_path / "in.fa", SEQS)
    notfasta = tmp_path / "x.fa"
    notfasta.write_text("hello world\n")
    engine = StubEngine()
    for inputs in ([good, tmp_path / "missing.fa"], [good, notfasta]):
        with pytest.raises(InputError) as exc:
            fold_inputs(inputs, tmp_path / "out", opts(), engine=engine)
        assert exc.value.exit_code == 2
    assert engine.calls == 0 and not (tmp_path / "out").exists()


def test_resume_with_other_settings_is_refused(tmp_path: Path) -> None:
    fa = write_fasta(tmp_path / "in.fa", SEQS)
    out = tmp_path / "out"
    fold_inputs([fa], out, opts(), engine=StubEngine())
    engine = StubEngine()
    for changed in ({"n_samples": 2}, {"seed": 1}, {"fmt": "cif"}):
        with pytest.raises(OutputExistsError) as exc:
            fold_inputs([fa], out, opts(resume=True, **changed), engine=engine)
        assert "other settings" in str(exc.value) and "--overwrite" in str(exc.value)
    assert engine.calls == 0


def test_resume_refuses_outputs_of_another_meaning_of_auto(tmp_path: Path) -> None:
    """``--energy-params auto`` changed meaning (session 10: a consensus beyond 300 nt); outputs
    recorded under the old rule are not resumed into, the same rule is."""
    fa = write_fasta(tmp_path / "in.fa", SEQS)
    out = tmp_path / "out"
    fold_inputs([fa], out, opts(), engine=StubEngine())
    done = sorted(out.glob("*/confidence.json"))
    for path in done:
        doc = json.loads(path.read_text())
        assert doc["settings"]["energy_rule"].startswith("langdon2018<=120, turner1999<=300")
    engine = StubEngine()
    result = fold_inputs([fa], out, opts(resume=True), engine=engine)
    assert engine.calls == 0 and result.failed == 0
    doc = json.loads(done[0].read_text())
    doc["settings"]["energy_rule"] = "langdon2018<=120, turner1999"  # the session-9 meaning
    done[0].write_text(json.dumps(doc))
    with pytest.raises(OutputExistsError, match="energy_rule"):
        fold_inputs([fa], out, opts(resume=True), engine=engine)
    assert engine.calls == 0


def test_hostile_id_failure_writes_escaped_error(tmp_path: Path) -> None:
    fa = tmp_path / "in.fa"
    fa.write_text(">../x\x1b]0;pwned\x07\nACGQ\n")
    out = tmp_path / "out"
    result = fold_inputs([fa], out, opts(), engine=StubEngine())
    assert result.failed == 1
    (d,) = [p for p in out.iterdir() if p.is_dir()]
    text = (d / "error.txt").read_text()
    assert "\x1b" not in text and "\x07" not in text
    assert text.startswith("id: ../x\\x1b]0;pwned\\x07\n") and "position 4" in text


def test_duplicate_id_fails_without_touching_the_first(tmp_path: Path) -> None:
    fa = tmp_path / "in.fa"
    fa.write_text(">x\nACGUAC\n>y\nGGCC\n>x\nUUUU\n>a|b\nAAAA\n>a_b\nCCCC\n")
    out = tmp_path / "out"
    result = fold_inputs([fa], out, opts(), engine=StubEngine())
    assert (result.ok, result.failed) == (3, 2)
    rows = list(read_summary(out / "summary.tsv"))
    assert [(r.id, r.index, r.status, r.name) for r in rows] == [
        ("x", 0, "ok", "x"),
        ("y", 1, "ok", "y"),
        ("x", 2, "failed", "-"),
        ("a|b", 3, "ok", "a_b"),
        ("a_b", 4, "failed", "-"),
    ]
    assert "duplicate record id" in rows[2].error and "same output name" in rows[4].error
    assert json.loads((out / "x" / "confidence.json").read_text())["sequence"] == "ACGUAC"
    assert not (out / "x" / "error.txt").exists()
    # The plan pass must not count the duplicate's (borrowed) directory twice.
    with pytest.raises(OutputExistsError, match="output for 3 record"):
        fold_inputs([fa], out, opts(), engine=StubEngine())


@pytest.mark.parametrize("mode", ["overwrite", "resume"])
def test_rerun_of_reordered_input_keeps_one_summary_row_per_record(
    tmp_path: Path, mode: str
) -> None:
    """A record's row moves with its directory: rerunning a reordered input into the same OUT
    (``--overwrite`` or ``--resume``) leaves no row of the old order behind."""
    out = tmp_path / "out"
    fold_inputs([write_fasta(tmp_path / "a.fa", SEQS)], out, opts(), engine=StubEngine())
    reordered = write_fasta(tmp_path / "b.fa", list(reversed(SEQS.items())))
    fold_inputs([reordered], out, opts(**{mode: True}), engine=StubEngine())
    rows = list(read_summary(out / "summary.tsv"))
    assert [(r.id, r.index, r.name) for r in rows] == [
        (rid, k, rid) for k, rid in enumerate(reversed(SEQS))
    ]


def test_resume_redoes_a_record_whose_input_changed(tmp_path: Path) -> None:
    """``--resume`` keeps only outputs made from the same sequence and given structure: an
    edited record is folded again, not reported complete with the old sequence's models."""
    out = tmp_path / "out"
    fa = tmp_path / "in.fa"
    fa.write_text(">a\nGGGAAACCC\n>b\nGGGGAAACCCC\n>c\nGCGCUUCGGCGC\n((((....))))\n")
    fold_inputs([fa], out, opts(), engine=StubEngine())
    # a: longer sequence; b: same; c: another given structure.
    fa.write_text(">a\nGGGAAACCCAAAA\n>b\nGGGGAAACCCC\n>c\nGCGCUUCGGCGC\n.(((....))).\n")
    engine = StubEngine()
    result = fold_inputs([fa], out, opts(resume=True), engine=engine)
    assert (result.ok, result.skipped, engine.calls) == (2, 1, 2)
    assert json.loads((out / "a" / "confidence.json").read_text())["sequence"] == "GGGAAACCCAAAA"
    doc_c = json.loads((out / "c" / "confidence.json").read_text())
    assert doc_c["secondary_structure"] == {"dot_bracket": ".(((....))).", "source": "input"}
    rows = list(read_summary(out / "summary.tsv"))
    assert [(r.id, r.length) for r in rows] == [("a", 13), ("b", 11), ("c", 12)]
