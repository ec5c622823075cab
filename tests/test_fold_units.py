"""Unit tests of the fold pipeline's parts: shards, sizes, memory model, summary table, paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnapredict.errors import RnapredictError
from rnapredict.fold.options import FoldRunOptions
from rnapredict.fold.preflight import (
    GIB,
    MIB,
    _cgroup_headroom,
    available_memory,
    estimate_memory,
    memory_refusal,
    parse_size,
)
from rnapredict.fold.shard import Shard, parse_shard, shard_from_env
from rnapredict.io.atomic import TMP_PREFIX
from rnapredict.pipeline.api import FoldOptions
from rnapredict.results import outputs
from rnapredict.results.summary import (
    HEADER_LINE,
    SummaryRow,
    merge_into,
    merge_summaries,
    printable,
    read_summary,
)


# ------------------------------------------------------------------------------------ shards
def test_shards_partition_the_stream() -> None:
    n = 4
    owners = [[s for s in range(1, n + 1) if Shard(s, n).selects(k)] for k in range(103)]
    assert all(len(o) == 1 for o in owners)
    assert [o[0] for o in owners[:6]] == [1, 2, 3, 4, 1, 2]


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "a/b", "3", "1/2/3", "-1/2", ""])
def test_parse_shard_rejects(text: str) -> None:
    with pytest.raises(RnapredictError) as exc:
        parse_shard(text)
    assert exc.value.exit_code == 2


def test_parse_shard() -> None:
    assert parse_shard(" 3/8 ") == Shard(3, 8)
    assert str(Shard(3, 8)) == "3/8"


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, None),
        ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4"}, Shard(1, 4)),
        ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"}, Shard(4, 4)),
        (
            {
                "SLURM_ARRAY_TASK_ID": "7",
                "SLURM_ARRAY_TASK_COUNT": "4",
                "SLURM_ARRAY_TASK_MIN": "5",
            },
            Shard(3, 4),
        ),
        (
            {
                "SLURM_ARRAY_TASK_ID": "7",
                "SLURM_ARRAY_TASK_COUNT": "4",
                "SLURM_ARRAY_TASK_MIN": "1",
                "SLURM_ARRAY_TASK_STEP": "2",
            },
            Shard(4, 4),
        ),
        ({"SLURM_ARRAY_TASK_ID": "3"}, None),  # not an array job without a count
    ],
)
def test_shard_from_slurm_env(env: dict[str, str], expected: Shard | None) -> None:
    assert shard_from_env(env) == expected


def test_shard_from_bad_slurm_env() -> None:
    with pytest.raises(RnapredictError):
        shard_from_env({"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "4"})
    with pytest.raises(RnapredictError):
        shard_from_env({"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"})


# ------------------------------------------------------------------------------- pre-flight
@pytest.mark.parametrize(
    "text, value",
    [
        ("8G", 8 * GIB),
        ("512M", 512 * MIB),
        ("16GiB", 16 * GIB),
        ("1.5gb", 3 * GIB // 2),
        ("1000", 1000),
    ],
)
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "G", "-1G", "0", "8X", "1e9"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(RnapredictError):
        parse_size(text)


def test_memory_estimate_grows_linearly_and_refuses() -> None:
    opts = FoldOptions(n_samples=5, chunk_size=64)
    e1, e2, e4 = (estimate_memory(n, opts) for n in (1000, 2000, 4000))
    # Linear in L (no L×L term): equal increments per 1000/2000 nt beyond the chunk.
    assert e4 - e2 == pytest.approx(2 * (e2 - e1))
    assert estimate_memory(1000, FoldOptions(n_samples=1, chunk_size=64)) < e1
    # The design target: 4,000 nt × 5 samples fits in 8 GB.
    assert e4 < 8 * GIB
    assert memory_refusal(e1, None) is None and memory_refusal(e1, e1) is None
    msg = memory_refusal(e4, e1)
    assert msg is not None and "--max-memory" in msg


def test_engine_memory_hook_wins() -> None:
    class Hooked:
        def memory_estimate(self, length: int, options: FoldOptions) -> int:
            return 7 * length

    assert estimate_memory(100, FoldOptions(), Hooked()) == 700


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def test_available_memory_matches_meminfo() -> None:
    """``MemAvailable`` capped by the cgroup limit: never above what /proc/meminfo says
    (read just before and after, as it moves), and equal to it (within what other processes
    change meanwhile) unless a cgroup limit is lower."""
    before = _meminfo_available()
    if before is None:
        pytest.skip("no /proc/meminfo (not Linux)")
    avail = available_memory()
    after = _meminfo_available()
    assert after is not None
    hi, lo = max(before, after), min(before, after)
    slack = 64 * MIB + (hi - lo)
    assert 0 < avail <= hi + slack
    if _cgroup_headroom() is None:
        assert avail >= lo - slack


# ----------------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_samples": 0},
        {"fmt": "xyz"},
        {"device": "tpu"},
        {"resume": True, "overwrite": True},
        {"max_len": 0},
        {"chunk_size": -1},
        {"steps": 0},
    ],
)
def test_bad_options_are_usage_errors(kwargs: dict) -> None:
    with pytest.raises(RnapredictError) as exc:
        FoldRunOptions(**kwargs)
    assert exc.value.exit_code == 2


# ----------------------------------------------------------------------------------- summary
def _row(rid: str, index: int, status: str = "ok", plddt: float | None = 70.0) -> SummaryRow:
    return SummaryRow(rid, 10, status, plddt, 1.0, rid, index)


def test_printable_escapes_controls() -> None:
    assert printable("a\x1b[31mb\tc\nd") == "a\\x1b[31mb\\x09c\\x0ad"
    assert printable("ok_é-1") == "ok_é-1"
    assert printable(printable("x\x00")) == printable("x\x00")


def test_summary_merge_replaces_and_orders(tmp_path: Path) -> None:
    path = tmp_path / "summary.tsv"
    merge_into(path, [_row("c", 2), _row("a", 0)])
    merge_into(path, [_row("b", 1, "failed", None), _row("c", 2, plddt=80.0)])
    rows = list(read_summary(path))
    assert [(r.id, r.index, r.status, r.mean_plddt) for r in rows] == [
        ("a", 0, "ok", 70.0),
        ("b", 1, "failed", None),
        ("c", 2, "ok", 80.0),
    ]
    assert path.read_text().startswith(HEADER_LINE)
    assert not list(tmp_path.glob(f"{TMP_PREFIX}*"))


def test_summary_row_round_trip_with_hostile_id(tmp_path: Path) -> None:
    row = SummaryRow(
        printable("x\ty\x1b"), 5, "failed", None, 0.5, "x_y_", 3, None, "-", "bad\tthing"
    )
    path = tmp_path / "s.tsv"
    merge_into(path, [row])
    (back,) = list(read_summary(path))
    assert back.id == "x\\x09y\\x1b" and back.index == 3 and back.error == "bad\\x09thing"
    assert len(path.read_text().splitlines()) == 2


def test_merge_summaries_of_shards(tmp_path: Path) -> None:
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    merge_into(a, [_row("r0", 0), _row("r2", 2)])
    merge_into(b, [_row("r1", 1), _row("r3", 3)])
    out = tmp_path / "all.tsv"
    assert merge_summaries([a, b], out) == 4
    assert [r.id for r in read_summary(out)] == ["r0", "r1", "r2", "r3"]


def test_stale_summary_temp_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / f"{TMP_PREFIX}abc.tsv"
    stale.write_text("partial")
    merge_into(tmp_path / "summary.tsv", [_row("a", 0)])
    assert not stale.exists()


# ----------------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "a/b", "../x", "a\x00b", "a\nb"])
def test_record_dir_refuses_escapes(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        outputs.record_dir(tmp_path, name)


def test_read_complete_needs_listed_files(tmp_path: Path) -> None:
    doc = {"status": "ok", "models": [{"files": ["model_1.pdb"]}]}
    (tmp_path / "confidence.json").write_text(json.dumps(doc))
    assert outputs.read_complete(tmp_path) is None
    (tmp_path / "model_1.pdb").write_text("END\n")
    assert outputs.read_complete(tmp_path) == doc
    (tmp_path / "confidence.json").write_text('{"status": "ok", "mod')  # truncated
    assert outputs.read_complete(tmp_path) is None


def test_clear_record_dir_keeps_foreign_files(tmp_path: Path) -> None:
    for name in ("model_1.pdb", "model_12.cif", "confidence.json", "error.txt", f"{TMP_PREFIX}x"):
        (tmp_path / name).write_text("x")
    (tmp_path / "notes.txt").write_text("mine")
    assert outputs.clear_record_dir(tmp_path) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
