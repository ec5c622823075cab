"""Probing files: two-column .shape (single, multi-record, directory), RDAT; malformed input;
matching to records by id (``fold --shape`` / ``--dms`` input stream)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnapredict.errors import InputError, RecordError
from rnapredict.fold.inputs import input_source
from rnapredict.io.inputs import iter_records
from rnapredict.io.probing import (
    Reactivities,
    parse_shape,
    reactivities_for,
    read_probing,
    read_probing_set,
    shape_text,
)
from rnapredict.io.records import Record

REPO = Path(__file__).resolve().parents[1]


def _w(tmp_path: Path, text: str, name: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_two_column_file_id_from_name_missing_values(tmp_path):
    p = _w(tmp_path, "1 0.5\n2\t-999\n4 1.25\n5 nan\n6 -0.1\n", "hp1.shape")
    entries = read_probing(p)
    assert list(entries) == ["hp1"]
    r = reactivities_for(entries["hp1"], "shape", 7)
    # 2: -999 = no data, 3: absent, 5: nan, 7: beyond the file; -0.1 is data (read as 0 later)
    assert r.values == (0.5, None, None, 1.25, None, -0.1, None)
    assert r.n_measured == 3 and r.source == str(p)


def test_three_column_variant_and_comments(tmp_path):
    p = _w(tmp_path, "# from RNAfold\n1 G 0.1\n2 C 0.9\n", "x.shape")
    assert reactivities_for(read_probing(p)["x"], "shape", 2).values == (0.1, 0.9)


def test_multi_record_file_and_round_trip(tmp_path):
    a = (0.12, None, 1.5, 0.0)
    b = (None, 0.7)
    p = _w(tmp_path, f">a desc\n{shape_text(a)}\n>b\n{shape_text(b)}", "multi.shape")
    entries = read_probing(p)
    assert reactivities_for(entries["a"], "shape", 4).values == a
    assert reactivities_for(entries["b"], "shape", 2).values == b
    assert entries["b"].line == 6


def test_directory_of_files_by_id(tmp_path):
    d = tmp_path / "shape"
    d.mkdir()
    _w(d, "1 0.3\n", "r1.shape")
    _w(d, "2 0.4\n", "r2.txt")
    _w(d, "ignored", "notes.md")
    entries = read_probing(d)
    assert sorted(entries) == ["r1", "r2"]
    assert reactivities_for(entries["r2"], "shape", 2).values == (None, 0.4)


RDAT = """RDAT_VERSION\t0.34
NAME\tTAR
SEQUENCE\tGGCAGAUCUGAGCCUGGGAGCUCUCUGCC
OFFSET\t10
SEQPOS\tC13\tA14\tG15\tA16
ANNOTATION\tmodifier:1M7
ANNOTATION_DATA:1\tmodifier:1M7
REACTIVITY:1\t0.1\t0.8\tnan\t1.2
"""


def test_rdat_via_rdat_kit(tmp_path):
    pytest.importorskip("rdat_kit")
    p = _w(tmp_path, RDAT, "tar.rdat")
    e = read_probing(p)["TAR"]
    r = reactivities_for(e, "shape", 29)
    # SEQPOS 13..16 minus OFFSET 10 → positions 3..6; nan = no data
    assert r.values[:7] == (None, None, 0.1, 0.8, None, 1.2, None)
    assert e.line == 2  # the NAME line, for messages


def test_unreadable_rdat_is_input_error(tmp_path):
    pytest.importorskip("rdat_kit")
    p = _w(tmp_path, "RDAT_VERSION\t0.34\nNAME\tx\nSEQPOS\tG1\nREACTIVITY:1\tabc\n", "b.rdat")
    with pytest.raises(InputError, match="not a readable RDAT") as ei:
        read_probing(p)
    assert ei.value.file == str(p)


@pytest.mark.parametrize(
    ("text", "what", "line", "position"),
    [
        ("1 0.2\n2 high\n", "'high' is not a number", 2, 2),
        ("1 0.2\n3 0.1\n1 0.4\n", "duplicate position 1 (also on line 4)", 3, 1),
        ("0 0.2\n", "position 0 out of range", 1, None),
        ("x 0.2\n", "position 'x' is not an integer", 1, None),
        ("1 0.2 0.3 0.4\n", "found 4 columns", 1, None),
        ("1 inf\n", "not finite", 1, 1),
    ],
)
def test_bad_value_fails_the_record_with_location(tmp_path, text, what, line, position):
    p = _w(tmp_path, ">ok\n1 0.5\n>bad\n" + text, "m.shape")
    entries = read_probing(p)  # the file as a whole is usable
    assert reactivities_for(entries["ok"], "shape", 3).values == (0.5, None, None)
    with pytest.raises(RecordError) as ei:
        reactivities_for(entries["bad"], "shape", 10)
    err = ei.value
    assert what in err.message
    assert (err.file, err.record, err.line, err.position) == (str(p), "bad", line + 3, position)


def test_position_beyond_sequence_fails_the_record(tmp_path):
    p = _w(tmp_path, "1 0.1\n12 0.5\n3 0.2\n", "r.shape")
    with pytest.raises(RecordError, match="position 12 out of range: the sequence has 9 nt") as ei:
        reactivities_for(read_probing(p)["r"], "shape", 9)
    assert (ei.value.line, ei.value.position, ei.value.record) == (2, 12, "r")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "no reactivity data"),
        ("# only a comment\n", "no reactivity data"),
        (">\n1 0.2\n", "header has no record id"),
        ("1 0.2\n>a\n1 0.3\n", "data lines before the first '>id' header"),
        (">a\n1 0.2\n>a\n1 0.3\n", "record id 'a' has data twice"),
    ],
)
def test_whole_file_problems_are_input_errors(tmp_path, text, what):
    p = _w(tmp_path, text, "f.shape")
    with pytest.raises(InputError, match=what) as ei:
        read_probing(p)
    assert ei.value.file == str(p)


def test_missing_file_and_empty_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_probing(tmp_path / "nope.shape")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="directory has no"):
        read_probing(tmp_path / "empty")


def test_parse_shape_keeps_line_numbers():
    (e,) = parse_shape([(5, "2 0.25"), (9, "4 0.5")], "<mem>", "r")
    assert e.lines == {2: 5, 4: 9} and e.values == {2: 0.25, 4: 0.5}


# ------------------------------------------------------------------------------ with records
FASTA = ">a\nGGGAAACCC\n>b\nGGGGAAACCCC\n>c\nACGU\n"


def test_records_get_reactivities_and_bad_ones_fail_alone(tmp_path):
    fa = _w(tmp_path, FASTA, "in.fa")
    sh = _w(tmp_path, ">a\n1 0.1\n5 0.9\n>b\n1 0.1\n40 0.2\n", "d.shape")
    a, b, c = iter_records([fa], probing=read_probing_set(sh, "dms"))
    assert isinstance(a, Record) and a.probing == Reactivities(
        "dms", (0.1, None, None, None, 0.9, None, None, None, None), str(sh)
    )
    assert isinstance(b, RecordError) and b.record == "b" and b.line == 6 and b.index == 1
    assert b.file == str(sh) and "position 40 out of range" in str(b)
    assert isinstance(c, Record) and c.probing is None


def test_probing_matching_no_record_is_input_error(tmp_path):
    fa = _w(tmp_path, FASTA, "in.fa")
    sh = _w(tmp_path, ">x\n1 0.1\n>y\n2 0.3\n", "other.shape")
    with (
        input_source([fa], probing=("shape", sh)) as source,
        pytest.raises(InputError, match="no record id of the input matches the --shape data") as ei,
    ):
        list(source())
    assert ei.value.file == str(sh)
    ok = _w(tmp_path, ">c\n1 0.1\n", "c.shape")
    with input_source([fa], probing=("shape", ok)) as source:
        items = list(source())
    assert [i.probing is not None for i in items] == [False, False, True]


def test_example_file_matches_example_records():
    sh = read_probing_set(REPO / "examples" / "hairpins.shape", "shape")
    items = list(iter_records([REPO / "examples" / "hairpins.fa"], probing=sh))
    got = {r.id: r.probing.n_measured for r in items if r.probing is not None}
    assert sorted(got) == ["HIV1_TAR", "tRNA-Phe"] and all(n > 10 for n in got.values())


def test_fold_cli_exit_codes(tmp_path, monkeypatch):
    """Bad data fail their record (exit 3, error.txt names file and line); data matching no
    record, or --shape with --dms, stop before folding (exit 2)."""
    from typer.testing import CliRunner

    import rnapredict.engine
    from rnapredict.cli import app
    from tests.test_fold_support import StubEngine

    stub = StubEngine()
    monkeypatch.setattr(rnapredict.engine, "load_engine", lambda *a, **k: stub, raising=False)
    fa = _w(tmp_path, FASTA, "in.fa")
    sh = _w(tmp_path, ">a\n1 0.1\n>b\n2 x\n", "d.shape")

    def fold(*args: str):
        return CliRunner().invoke(app, ["fold", str(fa), "--device", "cpu", *args])

    res = fold("-o", str(tmp_path / "o1"), "--shape", str(sh))
    assert res.exit_code == 3, res.output
    err = (tmp_path / "o1" / "b" / "error.txt").read_text()
    assert f"{sh}, record 'b', line 4, position 2: reactivity 'x' is not a number" in err
    assert (tmp_path / "o1" / "a" / "confidence.json").is_file() and stub.calls == 2
    other = _w(tmp_path, ">zz\n1 0.1\n", "z.shape")
    res = fold("-o", str(tmp_path / "o2"), "--dms", str(other))
    assert res.exit_code == 2 and "no record id of the input matches the --dms data" in res.output
    assert not (tmp_path / "o2").exists() and stub.calls == 2
    res = fold("-o", str(tmp_path / "o3"), "--shape", str(sh), "--dms", str(sh))
    assert res.exit_code == 2 and "exclude each other" in res.output


# ---------------------------------------------- column layouts, ShapeMapper, base checks (#23, #26)
TAR = "GGCAGAUCUGAGCCUGGGAGCUCUCUGCC"


def test_three_columns_position_value_stderr_uses_the_value(tmp_path):
    # what reactivity pipelines write: the stderr column must not become the reactivity
    p = _w(tmp_path, "1 0.52 0.03\n2 -999 0\n3 1.7 0.2\n", "x.shape")
    r = reactivities_for(read_probing(p)["x"], "shape", 3, "GGA")
    assert r.values == (0.52, None, 1.7)


def test_three_columns_with_bases_checked_against_the_record(tmp_path):
    p = _w(tmp_path, "1 G 0.1\n2 C 0.9\n3 A 0.4\n", "x.shape")
    assert reactivities_for(read_probing(p)["x"], "shape", 3, "GCA").values == (0.1, 0.9, 0.4)
    with pytest.raises(RecordError, match=r"line 2, position 2: .*differs.*'C'.*'U'") as ei:
        reactivities_for(read_probing(p)["x"], "shape", 3, "GUA")
    assert ei.value.position == 2


def test_shapemapper_map_example_reads_reactivity_column():
    entries = read_probing(REPO / "examples" / "shapemapper" / "HIV1_TAR.map")
    shape = read_probing(REPO / "examples" / "hairpins.shape")["HIV1_TAR"]
    r = reactivities_for(entries["HIV1_TAR"], "shape", len(TAR), TAR)
    # the same data as hairpins.shape (-999 where it has none), the stderr column unused
    assert r.values == reactivities_for(shape, "shape", len(TAR), TAR).values
    assert r.values[9] is None and r.values[7] == 1.1681


def test_shapemapper_profile_example_reads_norm_profile_by_name(tmp_path):
    src = REPO / "examples" / "shapemapper" / "HIV1_TAR_profile.txt"
    entries = read_probing(src)
    shape = read_probing(REPO / "examples" / "hairpins.shape")["HIV1_TAR"]
    want = reactivities_for(shape, "shape", len(TAR), TAR).values
    assert reactivities_for(entries["HIV1_TAR"], "shape", len(TAR), TAR).values == want
    # columns found by name: reordering them changes nothing
    rows = [ln.split("\t") for ln in src.read_text().splitlines()]
    order = list(reversed(range(len(rows[0]))))
    p = _w(
        tmp_path, "\n".join("\t".join(r[i] for i in order) for r in rows) + "\n", "t_profile.txt"
    )
    assert reactivities_for(read_probing(p)["t"], "shape", len(TAR), TAR).values == want
    with pytest.raises(RecordError, match="position 1: .*differs"):
        reactivities_for(entries["HIV1_TAR"], "shape", len(TAR), "A" + TAR[1:])
    bad = _w(tmp_path, "Nucleotide\tSequence\tReactivity_profile\n1\tG\t0.1\n", "b_profile.txt")
    with pytest.raises(InputError, match="without a Norm_profile column"):
        read_probing(bad)


def test_rdat_sequence_differing_from_the_record_fails_it(tmp_path):
    pytest.importorskip("rdat_kit")
    p = _w(tmp_path, RDAT, "tar.rdat")
    e = read_probing(p)["TAR"]
    assert reactivities_for(e, "shape", 29, TAR).values[2] == 0.1
    with pytest.raises(RecordError, match="position 5: .*differs") as ei:
        reactivities_for(e, "shape", 29, TAR[:4] + "C" + TAR[5:])
    assert ei.value.line == 2


def test_fold_warns_about_records_without_data_and_unused_data_ids(tmp_path):
    from rnapredict.fold import FoldRunOptions, fold_inputs
    from rnapredict.fold.progress import NullReporter
    from tests.test_fold_support import StubEngine

    class Warnings(NullReporter):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def warn(self, message: str) -> None:
            self.seen.append(message)

    fa = _w(tmp_path, FASTA, "in.fa")
    sh = _w(tmp_path, ">a\n1 0.1\n>zz\n1 0.3\n>yy\n2 0.1\n", "d.shape")
    rep = Warnings()
    opts = FoldRunOptions(n_samples=1, steps=1, device="cpu", shape_file=sh)
    res = fold_inputs([fa], tmp_path / "o", opts, engine=StubEngine(), reporter=rep)
    assert res.failed == 0
    assert f"{sh}: --shape data for 2 id(s) matching no record, not used: 'zz', 'yy'" in rep.seen
    assert f"{sh}: no --shape data for record 'b'; folded without any" in rep.seen
    assert f"{sh}: no --shape data for record 'c'; folded without any" in rep.seen
    assert len(rep.seen) == 3
