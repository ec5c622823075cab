"""The FASTA tokenizer and the text reader below it (line numbers, encodings, layouts)."""

from __future__ import annotations

import pytest

from rnapredict.errors import InputError
from rnapredict.io.fasta import is_structure_line, iter_fasta
from rnapredict.io.textio import iter_lines


def _entries(text: str):
    return list(iter_fasta(enumerate(text.splitlines(), 1), "t.fa"))


def test_wrapped_sequence_line_numbers():
    (e,) = _entries(">x desc words\nACGU\n\nAC GU\nGG\n")
    assert (e.id, e.description, e.sequence) == ("x", "desc words", "ACGUACGUGG")
    assert [e.line_of(p) for p in (1, 4, 5, 8, 9, 10)] == [2, 2, 4, 4, 5, 5]


def test_rnafold_output_is_read_with_its_structure():
    (e,) = _entries(">hp\nGGGAAACCC\n(((...))) ( -1.20)\n")
    assert e.structure == "(((...)))" and e.structure_line == 3 and e.error is None


@pytest.mark.parametrize(
    ("line", "is_ss"),
    [
        ("((..AA..))..aa", True),
        ("....", True),
        ("ACGU", False),
        ("AC.GU", True),  # read as structure; the length check then fails the record
        ("((x))", True),
        ("((5))", False),
        ("", False),
    ],
)
def test_structure_line_detection(line, is_ss):
    assert is_structure_line(line) is is_ss


def test_first_line_after_header_is_always_sequence():
    (e,) = _entries(">x\n((..))\n")
    assert e.sequence == "((..))" and e.structure is None


def test_comments_before_first_header_and_headers_only():
    a, b = _entries("; old-style comment\n# another\n>a\n>b\nAC\n")
    assert a.sequence == "" and b.sequence == "AC"


def test_text_before_header_is_not_fasta():
    with pytest.raises(InputError) as ei:
        _entries("\nACGU\n>x\nAC\n")
    assert ei.value.line == 2 and ei.value.file == "t.fa"


def test_reader_handles_bom_crlf_and_latin1(tmp_path):
    p = tmp_path / "w.fa"
    p.write_bytes(b"\xef\xbb\xbf>w\r\nACGU\r\nGG\xe9\r\n")
    lines = list(iter_lines(p))
    assert lines == [(1, ">w"), (2, "ACGU"), (3, "GG\ufffd")]
    (e,) = iter_fasta(lines, str(p))
    assert e.sequence == "ACGUGG\ufffd"


def test_unsupported_compression_named(tmp_path):
    p = tmp_path / "x.fa.xz"
    p.write_bytes(b"\xfd7zXZ\x00\x00rest")
    with pytest.raises(InputError, match="xz-compressed input is not supported") as ei:
        list(iter_lines(p))
    assert ei.value.file == str(p)


def test_structure_line_opening_with_a_pseudoknot_bracket_is_not_a_header():
    """PDB-derived dot-brackets can start with ``>`` (a closing pseudoknot bracket); such a
    line after the sequence is the record's structure, not a new record named by brackets."""
    text = ">pk\nGGGAAACCCAAU\n>.(((...)))<\n>next\nACGU\n"
    pk, nxt = _entries(text)
    assert (pk.id, pk.structure, pk.structure_line, pk.error) == ("pk", ">.(((...)))<", 3, None)
    assert (nxt.id, nxt.sequence, nxt.structure) == ("next", "ACGU", None)
    # wrapped: the second structure line may open with '>' too
    (w,) = _entries(">w\nGGGAAACCCAAU\n((.<\n>.....)) (-1.0)\n")
    assert w.structure == "((.<>.....))"
    # a header made of marks that is not the sequence's length is still a header
    a, b = _entries(">a\nACGUAC\n>..\nACGUAC\n")
    assert (a.structure, b.id, b.sequence) == (None, "..", "ACGUAC")


def test_header_right_after_header_is_still_a_record():
    """No sequence yet: a '>' line is always a header (a record with no sequence fails alone)."""
    a, b = _entries(">a\n>..((\nAC\n")
    assert a.sequence == "" and (b.id, b.sequence) == ("..((", "AC")
