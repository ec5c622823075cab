"""FASTA input policy (docs/DESIGN.md): every error names file, record and position; streaming."""

from __future__ import annotations

import gzip
import io
import sys
import tracemalloc
from pathlib import Path

import pytest

from rnapredict.errors import InputError, RecordError, SecondaryStructureError
from rnapredict.io.fasta import iter_fasta
from rnapredict.io.inputs import (
    DuplicateRecordError,
    check_inputs,
    iter_records,
    records_from_entries,
)
from rnapredict.io.names import safe_name
from rnapredict.io.records import Record
from tests.conftest import REPO


def _write(tmp_path: Path, text: str | bytes, name: str = "in.fa") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def _items(*paths, ss=None):
    return list(iter_records([str(p) for p in paths], ss))


def _only_error(tmp_path, text) -> RecordError:
    p = _write(tmp_path, text)
    (item,) = _items(p)
    assert isinstance(item, RecordError), item
    assert item.file == str(p)
    return item


def test_policy_case_t_to_u_whitespace_and_n(tmp_path):
    p = _write(tmp_path, ">r1 some description\nacg t\nNnU\t\n\n>r2\nGG\n")
    a, b = _items(p)
    assert a == Record("r1", "ACGUNNU", None, str(p), "some description", 0)
    assert b.seq == "GG" and b.index == 1


def test_structure_line_normalized_and_energy_dropped(tmp_path):
    p = _write(
        tmp_path, ">hp\nGGGAAACCC\n<<<...>>> (-1.20)\n>pk\nGGAAACCUU\n((..[[))]]\n"[:-12] + "\n"
    )
    hp, pk = _items(p)
    assert hp.ss == "(((...)))"
    assert pk.ss is None and pk.seq == "GGAAACCUU"


def test_wrapped_structure_lines(tmp_path):
    p = _write(tmp_path, ">w\nGGGA\nAACCC\n(((.\n..)))\n")
    (r,) = _items(p)
    assert r.ss == "(((...)))"


@pytest.mark.parametrize(
    ("text", "record", "line", "pos", "what"),
    [
        (">r1\nACGU\nACXU\n", "r1", 3, 7, "illegal character 'X'"),
        (">r1\nACGR\n", "r1", 2, 4, "ambiguous IUPAC code 'R'"),
        (">r1\nAC-GU\n", "r1", 2, 3, "illegal character '-'"),
        (">r1\nAC.GU\n", "r1", 2, 3, "illegal character '.'"),
        (">r1\nACG\xe9U\n", "r1", 2, 4, "illegal character 'é'"),
        (">r1\nACGU*\n", "r1", 2, 5, "illegal character '*'"),
        (">r1\nACGU\n", None, None, None, None),  # control: fine
    ],
)
def test_illegal_characters_name_file_record_line_position(tmp_path, text, record, line, pos, what):
    p = _write(tmp_path, text)
    (item,) = _items(p)
    if what is None:
        assert isinstance(item, Record)
        return
    assert isinstance(item, RecordError) and not isinstance(item, SecondaryStructureError)
    assert (item.file, item.record, item.line, item.position) == (str(p), record, line, pos)
    assert what in str(item)
    assert str(item).startswith(f"{p}, record '{record}', line {line}, position {pos}: ")


def test_non_utf8_byte_is_an_illegal_character_not_a_crash(tmp_path):
    err = _only_error(tmp_path, b">r\nAC\xffGU\n")
    assert err.position == 3 and "illegal character" in str(err)


@pytest.mark.parametrize(
    ("text", "line", "pos", "what"),
    [
        (">s\nGGGAAACCC\n(((...))\n", 3, 9, "structure line has length 8 but the sequence has 9"),
        (">s\nGGGAAACCC\n(((....)))\n", 3, 10, "length 10"),
        (">s\nGGGAAACCC\n((((..)))\n", 3, 1, "never closed"),
        (">s\nGGGAAACCC\n(((..))))\n", 3, 9, "no matching"),
        # A gapped sequence line reads as a structure line: the message says what to fix.
        (">s\nGGGAAACCCUUU\nAC--GU..AC\n", 3, 11, "gaps ('-', '.') are not allowed"),
        (">s\nGGGAAA\nCC..CC\n", 3, 6, "gaps ('-', '.') are not allowed"),
    ],
)
def test_bad_structure_line(tmp_path, text, line, pos, what):
    err = _only_error(tmp_path, text)
    assert isinstance(err, SecondaryStructureError)
    assert (err.record, err.line, err.position) == ("s", line, pos)
    assert what in str(err)


def test_sequence_after_structure_and_empty_record_and_no_id(tmp_path):
    p = _write(tmp_path, ">a\nGGG\n...\nAAA\n>b\n\n>\nACGU\n>c\nACGU\n")
    a, b, noid, c = _items(p)
    assert isinstance(a, RecordError) and a.line == 4 and "after the structure line" in str(a)
    assert isinstance(b, RecordError) and b.record == "b" and "empty record" in str(b)
    assert isinstance(noid, RecordError) and noid.line == 7 and "no record id" in str(noid)
    assert noid.safe_name is None and b.safe_name == "b"
    assert isinstance(c, Record) and c.index == 3
    assert [a.index, b.index, noid.index] == [0, 1, 2]


def test_duplicate_id_later_record_fails_even_across_files(tmp_path):
    p1 = _write(tmp_path, ">x\nACGU\n", "one.fa")
    p2 = _write(tmp_path, ">y\nAC\n>x\nGG\n", "two.fa")
    x, y, dup = _items(p1, p2)
    assert isinstance(x, Record) and isinstance(y, Record)
    assert isinstance(dup, DuplicateRecordError)
    assert (dup.file, dup.record, dup.line) == (str(p2), "x", 3)
    assert "duplicate record id 'x'" in str(dup) and dup.safe_name is None and dup.index == 2


@pytest.mark.parametrize(
    ("a", "b", "shown"),
    [("x/y", "x_y", "'x_y'"), ("rna:1", "rna|1", "'rna_1'"), ("tRNA", "trna", "case-insensitive")],
)
def test_ids_mapping_to_same_name_error_names_both(tmp_path, a, b, shown):
    p = _write(tmp_path, f">{a}\nACGU\n>{b}\nACGU\n")
    first, second = _items(p)
    assert isinstance(first, Record)
    assert isinstance(second, DuplicateRecordError)
    assert repr(a) in str(second) and repr(b) in str(second) and shown in str(second)


def test_failed_record_still_reserves_its_id(tmp_path):
    p = _write(tmp_path, ">z\nAXG\n>z\nACG\n")
    bad, dup = _items(p)
    assert bad.safe_name == "z" and isinstance(dup, DuplicateRecordError)


def test_gzip_and_stdin_and_many_files(tmp_path, monkeypatch):
    gz = tmp_path / "a.fa.gz"
    gz.write_bytes(gzip.compress(b">g1\nACGU\n>g2\nGGCC\n"))
    disguised = tmp_path / "b.txt"  # gzip detected by content, not name
    disguised.write_bytes(gzip.compress(b">g3\nAAAA\n"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b">s1\nUUUU\n")))
    check_inputs([gz, "-", disguised])
    got = _items(gz, "-", disguised)
    assert [(r.id, r.seq, r.source, r.index) for r in got] == [
        ("g1", "ACGU", str(gz), 0),
        ("g2", "GGCC", str(gz), 1),
        ("s1", "UUUU", "<stdin>", 2),
        ("g3", "AAAA", str(disguised), 3),
    ]


def test_gzip_stdin(monkeypatch):
    data = gzip.compress(b">s\nacgt\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    (r,) = iter_records(["-"])
    assert r.seq == "ACGU"


@pytest.mark.parametrize(
    ("content", "what", "line"),
    [
        ("ACGUACGU\n", "not FASTA", 1),
        ("\n\n   \nHELLO\n>a\nACGU\n", "not FASTA", 4),
        ("", "no FASTA records", None),
        ("\n\n", "no FASTA records", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not FASTA", 1),
        (b"BZh91AY&SY", "bzip2", None),
        (b">a\nAC\x00GU\n", "binary data", 2),
    ],
)
def test_not_fasta_is_input_error_before_any_record(tmp_path, content, what, line):
    p = _write(tmp_path, content)
    with pytest.raises(InputError) as ei:
        check_inputs([p])
    if "binary" not in what:
        assert what in str(ei.value) and ei.value.file == str(p) and ei.value.line == line
    with pytest.raises(InputError) as ei2:
        _items(p)
    assert what in str(ei2.value) and ei2.value.file == str(p)


def test_missing_unreadable_directory_and_double_stdin(tmp_path):
    with pytest.raises(InputError, match="no such file") as ei:
        check_inputs([REPO / "examples" / "hairpins.fa", tmp_path / "nope.fa"])
    assert ei.value.file == str(tmp_path / "nope.fa")
    with pytest.raises(InputError, match="is a directory"):
        check_inputs([tmp_path])
    with pytest.raises(InputError, match="more than once"):
        check_inputs(["-", "-"])
    with pytest.raises(InputError, match="no input"):
        check_inputs([])


def test_truncated_gzip_is_input_error_naming_file(tmp_path):
    data = gzip.compress(b"".join(b">r%d\nACGUACGUACGU\n" % i for i in range(2000)))
    p = _write(tmp_path, data[: len(data) // 2], "cut.fa.gz")
    with pytest.raises(InputError, match="corrupt or truncated gzip") as ei:
        _items(p)
    assert ei.value.file == str(p)


def test_ss_file_matched_by_id_and_checked(tmp_path):
    fa = _write(tmp_path, ">a\nGGGAAACCC\n>b\nGGGAAACCC\n(((...)))\n>c\nACGU\n>d\nGGGAAACCC\n")
    ss = _write(
        tmp_path,
        ">a\n((.....))\n>b\n((.....))\n>c\n(..)..\n>d\nCCCAAAGGG\n(((...)))\n",
        "ss.dbn",
    )
    a, b, c, d = _items(fa, ss=ss)
    assert a.ss == "((.....))"
    assert isinstance(b, SecondaryStructureError) and "disagree" in str(b) and b.position == 3
    assert isinstance(c, SecondaryStructureError) and "length 6" in str(c) and c.record == "c"
    assert isinstance(d, SecondaryStructureError) and d.position == 1 and "'C' where" in str(d)
    assert d.file == str(ss)


def test_examples_file_reads_clean():
    items = _items(REPO / "examples" / "hairpins.fa", ss=REPO / "examples" / "hairpins_ss.dbn")
    assert all(isinstance(r, Record) for r in items) and len(items) == 4
    assert {r.id: len(r) for r in items} == {
        "HIV1_TAR": 29,
        "tRNA-Phe": 76,
        "UUCG_hairpin": 12,
        "GAAGA_hairpin": 17,
    }
    assert items[3].seq == "GGCACUGAAGAAGUGCC"
    assert items[2].ss == "((((....))))" and items[0].ss == "((((((...((((......))))))))))"


# ------------------------------------------------------------------------------ names
@pytest.mark.parametrize(
    ("rid", "want"),
    [
        ("1ehz_A", "1ehz_A"),
        ("sp|P1|x y", "sp_P1_x_y"),
        ("../etc/passwd", "_._etc_passwd"),
        (".hidden", "_hidden"),
        ("..", "_."),
        ("", "_"),
        ("ÅRNA", "_RNA"),
        ("summary.tsv", "summary.tsv_"),
    ],
)
def test_safe_name(rid, want):
    assert safe_name(rid) == want


def test_safe_name_long_ids_capped_and_distinct():
    a, b = safe_name("x" * 500 + "a"), safe_name("x" * 500 + "b")
    assert len(a) == len(b) == 200 and a != b


# ------------------------------------------------------------------------------ streaming
def _generated_lines(n_records: int, length: int):
    """A FASTA of n_records records produced line by line, never held in memory."""
    body = "ACGU" * (length // 4)
    line = 0
    for i in range(n_records):
        line += 1
        yield line, f">r{i:06d}"
        line += 1
        yield line, body


@pytest.mark.slow
def test_100k_records_stream_in_flat_memory():
    n, length = 100_000, 500  # 50 MB of sequence
    entries = iter_fasta(_generated_lines(n, length), "<generated>")
    tracemalloc.start()
    count = total = 0
    try:
        for item in records_from_entries(entries):
            assert isinstance(item, Record)
            count += 1
            total += len(item.seq)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n and total == n * length
    # Held state: only the ids seen (~100 B each). Materializing would need > 100 MB.
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB"
