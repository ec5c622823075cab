"""``rnapredict fold`` through the CLI: exit codes, stdout/stderr discipline, stdin, sharding
from the SLURM environment. The engine is injected through ``rnapredict.engine.load_engine``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rnapredict.engine
from rnapredict.cli import app
from rnapredict.results.summary import read_summary
from tests.test_fold_support import StubEngine

FASTA = ">a first\nGGGAAACCC\n>b\nACGUACGUAC\n((((..))))\n>c\nGCGCUUCGGCGC\n"


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> StubEngine:
    stub = StubEngine()
    loads: list[tuple] = []

    def load_engine(weights_dir=None, device="cpu"):
        loads.append((weights_dir, device))
        return stub

    monkeypatch.setattr(rnapredict.engine, "load_engine", load_engine, raising=False)
    stub.loads = loads  # type: ignore[attr-defined]
    return stub


@pytest.fixture
def fasta(tmp_path: Path) -> Path:
    p = tmp_path / "in.fa"
    p.write_text(FASTA)
    return p


def run(args: list[str], stdin: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["fold", *args], input=stdin, env=env)


def test_fold_ok_exit_0(engine: StubEngine, fasta: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run([str(fasta), "-o", str(out), "-n", "2", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""  # logs go to stderr
    assert "3 records: 3 folded, 0 failed" in res.stderr
    assert sorted(p.name for p in (out / "a").iterdir()) == [
        "confidence.json",
        "model_1.pdb",
        "model_2.pdb",
    ]
    doc = json.loads((out / "b" / "confidence.json").read_text())
    assert doc["secondary_structure"] == {"dot_bracket": "((((..))))", "source": "input"}
    assert engine.loads == [(None, "cpu")]  # type: ignore[attr-defined]


def test_one_record_is_counted_in_the_singular(engine: StubEngine, tmp_path: Path) -> None:
    fasta = tmp_path / "one.fa"
    fasta.write_text(">a\nGGGAAACCC\n")
    out = str(tmp_path / "out")
    res = run([str(fasta), "-o", out, "-n", "1", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "folding 1 record\n" in res.stderr and "1 record: 1 folded" in res.stderr
    assert "records" not in res.stderr


def test_bad_record_exit_3_one_line(engine: StubEngine, tmp_path: Path) -> None:
    fa = tmp_path / "in.fa"
    fa.write_text(">good\nACGU\n>bad\nACGUXA\n")
    res = run([str(fa), "-o", str(tmp_path / "out"), "-n", "1"])
    assert res.exit_code == 3
    lines = [x for x in res.stderr.splitlines() if x.startswith("error:")]
    assert lines == [
        f"error: {fa}, record 'bad', line 4, position 5: illegal character 'X' in sequence "
        "(allowed: A C G U/T N)"
    ]
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--frobnicate"], "No such option"),
        (["{missing}"], "no such file"),
        (["{notfasta}"], "not FASTA"),
        (["--resume", "--overwrite"], "exclude each other"),
        (["--shard", "5/4"], "1 <= I <= N"),
        (["--max-memory", "lots"], "--max-memory"),
        (["--format", "xyz"], "--format"),
        (["-n", "0"], "at least one model"),
    ],
)
def test_usage_errors_exit_2_before_folding(
    engine: StubEngine, fasta: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    notfasta = tmp_path / "x.txt"
    notfasta.write_text("just text\n")
    subst = {"{missing}": str(tmp_path / "nope.fa"), "{notfasta}": str(notfasta)}
    args = [subst.get(a, a) for a in args]
    res = run([str(fasta), "-o", str(tmp_path / "out"), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert engine.calls == 0 and not (tmp_path / "out").exists()
    assert "Traceback" not in res.output


def test_existing_output_exit_2_then_resume(
    engine: StubEngine, fasta: Path, tmp_path: Path
) -> None:
    out = str(tmp_path / "out")
    assert run([str(fasta), "-o", out, "-n", "1"]).exit_code == 0
    calls = engine.calls
    res = run([str(fasta), "-o", out, "-n", "1"])
    assert res.exit_code == 2 and "already exists" in res.stderr and "--resume" in res.stderr
    assert engine.calls == calls
    res = run([str(fasta), "-o", out, "-n", "1", "--resume"])
    assert res.exit_code == 0 and engine.calls == calls
    assert "3 already complete" in res.stderr


def test_json_lines_on_stdout_stdin_input(engine: StubEngine, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run(["-", "-o", str(out), "-n", "1", "--json"], stdin=FASTA + ">d\nAXG\n")
    assert res.exit_code == 3
    objs = [json.loads(line) for line in res.stdout.splitlines()]
    assert [(o["id"], o["status"]) for o in objs] == [
        ("a", "ok"),
        ("b", "ok"),
        ("c", "ok"),
        ("d", "failed"),
    ]
    assert objs[3]["error"].startswith("<stdin>, record 'd'")
    assert json.loads((out / "a" / "confidence.json").read_text())["source"] == "<stdin>"


def test_shard_defaults_from_slurm(engine: StubEngine, fasta: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "0"}
    res = run([str(fasta), "-o", str(out), "-n", "1"], env=env)
    assert res.exit_code == 0, res.output
    assert "shard 2/2" in res.stderr
    assert [r.id for r in read_summary(out / "summary.tsv")] == ["b"]
    # An explicit --shard wins over the environment.
    res = run([str(fasta), "-o", str(out), "-n", "1", "--shard", "1/2"], env=env)
    assert res.exit_code == 0
    assert [r.id for r in read_summary(out / "summary.tsv")] == ["a", "b", "c"]


def test_quiet_prints_failures_only(engine: StubEngine, tmp_path: Path) -> None:
    """-q: the failure line and nothing else (was: the summary line too); the failed row keeps
    the record's length as written (was: -1)."""
    fa = tmp_path / "in.fa"
    fa.write_text(">good\nACGU\n>bad\nACGUXA\n")
    res = run([str(fa), "-o", str(tmp_path / "out"), "-n", "1", "--quiet"])
    assert res.exit_code == 3
    assert [line.split(":")[0] for line in res.stderr.splitlines()] == ["error"]
    rows = list(read_summary(tmp_path / "out" / "summary.tsv"))
    assert [(r.id, r.status, r.length) for r in rows] == [("good", "ok", 4), ("bad", "failed", 6)]
    assert "\t-1\t" not in (tmp_path / "out" / "summary.tsv").read_text()
