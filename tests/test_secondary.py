"""Dot-bracket ⇄ pair table ⇄ BPSEQ ⇄ CT round-trips, error positions, --ss files, ViennaRNA."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rnapredict.errors import InputError, SecondaryStructureError
from rnapredict.features.vienna import (
    ViennaConfig,
    _assemble_windows,
    mfe_structure,
    pair_probabilities,
)
from rnapredict.io.secondary import (
    BRACKET_LEVELS,
    check_pairs,
    pair_list,
    pairs_from_list,
    parse_dot_bracket,
    to_dot_bracket,
)
from rnapredict.io.ssfiles import (
    bpseq_text,
    ct_text,
    read_bpseq,
    read_ct,
    read_ss_entries,
    read_ss_file,
    write_bpseq,
    write_ct,
    write_dot_bracket_fasta,
)
from tests.conftest import REPO

TRNA = "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGGAGGUCCUGUGUUCGAUCCACAGAAUUCGCACCA"
TRNA_SS = "(((((((..((((........)))).(((((.......))))).....(((((.......))))))))))))...."
PK = "((((..[[[..))))..]]]...{{..<<..}}..>>"


def test_parse_nested_values():
    p = parse_dot_bracket("((.))")
    assert p.tolist() == [4, 3, -1, 1, 0]
    assert p.dtype == np.int64


def test_parse_pseudoknot_and_letters():
    p = parse_dot_bracket("(A[.)a]")
    assert pair_list(p) == [(0, 4), (1, 5), (2, 6)]


@pytest.mark.parametrize("s", [TRNA_SS, PK, "", "....", "((AA..))aa", "-(-)-_,:"])
def test_dot_bracket_round_trip(s):
    p = parse_dot_bracket(s)
    canon = to_dot_bracket(p)
    assert np.array_equal(parse_dot_bracket(canon), p)
    assert set(canon) <= set(".()[]{}<>" + "".join(BRACKET_LEVELS))


def test_canonical_form_keeps_nested_and_biggest_level_in_parentheses():
    assert to_dot_bracket(parse_dot_bracket(TRNA_SS)) == TRNA_SS
    # the 4-pair helix gets (), the 2-pair crossing one []
    assert to_dot_bracket(parse_dot_bracket("((..[[[[..))..]]]]")) == "[[..((((..]]..))))"
    assert to_dot_bracket(parse_dot_bracket("<<..>>")) == "((..))"


def test_three_crossing_helices_need_three_levels():
    s = to_dot_bracket(pairs_from_list(6, [(0, 3), (1, 4), (2, 5)]))
    assert sorted(s) == sorted("([{)]}")
    assert pair_list(parse_dot_bracket(s)) == [(0, 3), (1, 4), (2, 5)]


@pytest.mark.parametrize(
    ("s", "pos", "what"),
    [
        ("((..)", 1, "never closed"),
        ("(..))", 5, "no matching"),
        ("..5..", 3, "illegal character '5'"),
        ("([)", 2, "never closed"),
        ("..]", 3, "no matching"),
        ("(((..)).a", 9, "no matching 'A'"),
    ],
)
def test_parse_errors_name_position(s, pos, what):
    with pytest.raises(SecondaryStructureError) as ei:
        parse_dot_bracket(s, file="f.fa", record="r1")
    err = ei.value
    assert err.position == pos and what in str(err)
    assert str(err).startswith(f"f.fa, record 'r1', position {pos}:")


@pytest.mark.parametrize(
    ("table", "pos", "what"),
    [
        ([1, 0, 7], 3, "out of range"),
        ([0, -1], 1, "itself"),
        ([1, 2, 1], 1, "paired with 2, but 2 is paired with 3"),
        ([2, -1, -1], 1, "3 is unpaired"),
    ],
)
def test_bad_pair_tables(table, pos, what):
    with pytest.raises(SecondaryStructureError) as ei:
        check_pairs(np.array(table), record="r")
    assert ei.value.position == pos and what in str(ei.value)


def test_pairs_from_list_base_paired_twice():
    with pytest.raises(SecondaryStructureError, match="base paired twice") as ei:
        pairs_from_list(6, [(0, 5), (0, 4)])
    assert ei.value.position == 1


def test_bpseq_ct_round_trip(tmp_path):
    for s in (TRNA_SS, PK):
        seq = (TRNA * 2)[: len(s)]
        pairs = parse_dot_bracket(s)
        write_bpseq(tmp_path / "a.bpseq", seq, pairs, title="x1", overwrite=True)
        e = read_bpseq(tmp_path / "a.bpseq")
        assert (e.id, e.seq) == ("x1", seq) and np.array_equal(e.pairs, pairs)
        write_ct(tmp_path / "a.ct", seq, pairs, title="x2 title", overwrite=True)
        (c,) = read_ct(tmp_path / "a.ct")
        assert (c.id, c.seq) == ("x2", seq) and np.array_equal(c.pairs, pairs)
        assert e.dot_bracket == c.dot_bracket == to_dot_bracket(pairs)


@pytest.mark.parametrize(
    ("filename", "want"),
    [
        ("NR_003286.2", "NR_003286.2"),  # a versioned accession keeps its version
        ("1EHZ.A", "1EHZ.A"),
        ("tRNA-Phe.bpseq", "tRNA-Phe"),  # a structure-file extension is dropped
        ("CRW_00001.ct", "CRW_00001"),  # RNA STRAND names the CT file it came from
        ("dir/x.2.dbn", "x.2"),
    ],
)
def test_bpseq_filename_header_gives_the_record_id(tmp_path, filename, want):
    path = tmp_path / "s.bpseq"
    write_bpseq(path, "GGGAAACCC", parse_dot_bracket("(((...)))"), title=filename)
    assert read_bpseq(path).id == want
    assert list(read_ss_entries(path)) == [want]


def test_ct_multiple_entries_and_energy_header(tmp_path):
    p = tmp_path / "m.ct"
    one = ct_text("GGGAAACCC", parse_dot_bracket("(((...)))"), title="ENERGY = -3.2 first")
    two = ct_text("ACGU", parse_dot_bracket("...."), title="second")
    p.write_text(one + two)
    got = read_ct(p)
    assert [g.id for g in got] == ["first", "second"]
    assert got[0].dot_bracket == "(((...)))"


def test_ct_mfold_energy_header_gives_the_record_id(tmp_path):
    # mfold: "N dG = E [initially E0] title"; the bracket is part of the energy, not the id.
    p = tmp_path / "m.ct"
    p.write_text(ct_text("GGGAAACCC", parse_dot_bracket("(((...)))"), title="x"))
    text = p.read_text().replace(" x\n", "\tdG = -3.2 [initially -3.5]\ttRNA-Phe\n", 1)
    p.write_text(text)
    (got,) = read_ct(p)
    assert got.id == "tRNA-Phe" and got.dot_bracket == "(((...)))"


def _err(fn, *args):
    with pytest.raises((SecondaryStructureError, InputError)) as ei:
        fn(*args)
    return ei.value


@pytest.mark.parametrize(
    ("text", "line", "pos", "what"),
    [
        ("1 G 3\n2 A 0\n3 C 1\n4 U 9\n", 5, 4, "out of range"),  # +1 header line
        ("1 G 3\n2 A 3\n3 C 1\n", 3, 2, "paired with 3, but 3 is paired with 1"),
        ("1 G 0\n3 A 0\n", 3, None, "out of order"),
        ("1 G 0\n2 A x\n", 3, None, "expected an integer partner"),
        ("1 G 0\n2 A\n", 3, None, "3 columns"),
        ("1 G 2\n2 AA 1\n", 3, 2, "one letter"),
    ],
)
def test_bpseq_errors_name_file_line_position(tmp_path, text, line, pos, what):
    p = tmp_path / "bad.bpseq"
    p.write_text("Filename: bad\n" + text)
    err = _err(read_bpseq, p)
    assert isinstance(err, SecondaryStructureError)
    assert err.file == str(p) and err.line == line and err.position == pos
    assert what in str(err) and str(p) in str(err)


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("3 t\n1 G 0 2 2 1\n2 A 1 3 0 2\n3 C 2 0 0 3\n", 2, "2 is unpaired"),
        ("3 t\n1 G 0 2 0 1\n2 A 1 3 0 2\n", 1, "file ends after 2 of 3"),
        ("x t\n", 1, "integer residue count"),
        ("2 t\n1 G 0 2 0\n3 A 1 3 0 2\n", 3, "out of order"),
        ("2 t\n1 G 0 2 5 1\n2 A 1 3 0 2\n", 2, "out of range"),
    ],
)
def test_ct_errors_name_file_line(tmp_path, text, line, what):
    p = tmp_path / "bad.ct"
    p.write_text(text)
    err = _err(read_ct, p)
    assert err.file == str(p) and err.line == line and what in str(err)


def test_ss_file_formats_detected_and_agree():
    ex = REPO / "examples"
    want = {"tRNA-Phe": TRNA_SS}
    assert read_ss_file(ex / "tRNA-Phe.bpseq") == want
    assert read_ss_file(ex / "tRNA-Phe.ct") == want
    dbn = read_ss_file(ex / "hairpins_ss.dbn")
    assert dbn["tRNA-Phe"] == TRNA_SS and dbn["HIV1_TAR"] == "((((((...((((......))))))))))"


@pytest.mark.parametrize(
    ("text", "what", "line"),
    [
        ("hello world\n", "not a secondary-structure file", None),
        ("", "empty", None),
        (">a\nACGU\n(.)a\n", "no matching 'A'", 3),
        (">a\nACGU\n((.)\n", "never closed", 3),
        (">a\nACGU\n", "no dot-bracket structure line", 1),
        (">a\nACG\n(.))\n", "no matching", 3),
        (">a\n((..))\n>a\n(....)\n", "duplicate id 'a'", 3),
        (">a\nACGU\n(..)..\n", "structure length 6 != sequence length 4", 3),
        ("1 G 2\n2 C 1\n3 A 2\n", "bad bpseq file", 3),
    ],
)
def test_bad_ss_file_is_input_error_with_location(tmp_path, text, what, line):
    p = tmp_path / "ss.txt"
    p.write_text(text)
    with pytest.raises(InputError) as ei:
        read_ss_entries(p)
    assert what in str(ei.value) and ei.value.file == str(p) and ei.value.line == line


def test_writer_refuses_length_mismatch_and_clobber(tmp_path):
    with pytest.raises(SecondaryStructureError):
        bpseq_text("ACG", parse_dot_bracket("()"))
    p = tmp_path / "x.bpseq"
    write_bpseq(p, "GC", parse_dot_bracket("()"))
    from rnapredict.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        write_bpseq(p, "GC", parse_dot_bracket(".."))
    assert read_bpseq(p).dot_bracket == "()"


# ---------------------------------------------------------------------------- ViennaRNA
def test_mfe_matches_known_structures():
    assert mfe_structure(TRNA) == TRNA_SS  # the tRNA cloverleaf
    assert mfe_structure("ggacuucgguCC") == "((((....))))"
    assert mfe_structure("GGACTTCGGTCC") == "((((....))))"  # T read as U
    assert mfe_structure("") == ""


def test_mfe_leaves_n_unpaired():
    s = mfe_structure("GGGGNNAAAACCCC")
    assert s[4:6] == ".." and len(s) == 14


def test_mfe_rejects_illegal_character():
    with pytest.raises(SecondaryStructureError.__mro__[1]) as ei:
        mfe_structure("ACGRU")
    assert ei.value.position == 4


def test_windowed_mfe_is_valid_and_near_global():
    import RNA

    rng = np.random.default_rng(3)
    seq = "".join(rng.choice(list("ACGU"), 400))
    t04 = ViennaConfig(energy_params="turner2004")  # one set: the MFE the energies refer to
    exact = mfe_structure(seq, t04)
    windowed = mfe_structure(seq, replace(t04, global_max_len=50, max_bp_span=100))
    pairs = parse_dot_bracket(windowed)
    assert all(j - i <= 100 for i, j in pair_list(pairs))
    fc = RNA.fold_compound(seq)
    e_exact, e_win = fc.eval_structure(exact), fc.eval_structure(windowed)
    assert e_win >= e_exact - 1e-6  # never below the true MFE
    assert e_win <= 0.8 * e_exact  # and not far above it (energies are negative)


def test_assemble_windows_picks_best_non_overlapping_set():
    hits = [(1, 4, "(..)", -1.0), (3, 8, "((..))", -5.0), (7, 10, "(..)", -2.0)]
    assert _assemble_windows(10, hits) == "..((..))..."[:10]
    hits = [(1, 4, "(..)", -3.0), (3, 8, "((..))", -5.0), (7, 10, "(..)", -3.0)]
    assert _assemble_windows(10, hits) == "(..)..(..)"


def test_pair_probabilities_sparse_and_consistent():
    probs = pair_probabilities("GGGGAAAACCCC", top_k=2)
    assert all(0 <= i < j < 12 and 0 < p <= 1 for i, j, p in probs)
    best = max(probs, key=lambda t: t[2])
    assert best[:2] in [(0, 11), (1, 10), (2, 9), (3, 8)] and best[2] > 0.5
    per_res = np.zeros(12)
    for i, j, p in probs:
        per_res[i] += p
        per_res[j] += p
    assert per_res.max() <= 1 + 1e-6
    seq = "".join(np.random.default_rng(0).choice(list("ACGU"), 300))
    local = pair_probabilities(seq, top_k=3, config=ViennaConfig(pf_global_max_len=100))
    assert len(local) <= 3 * 300 and all(j - i <= 240 for i, j, _ in local)


def test_plfold_with_full_window_equals_global_partition_function():
    seq = "".join(np.random.default_rng(0).choice(list("ACGU"), 150))
    exact = {(i, j): p for i, j, p in pair_probabilities(seq, 3)}
    cfg = ViennaConfig(pf_global_max_len=10, plfold_window=150, max_bp_span=150)
    local = {(i, j): p for i, j, p in pair_probabilities(seq, 3, cfg)}
    assert exact.keys() == local.keys() and len(exact) > 100
    assert max(abs(exact[k] - local[k]) for k in exact) < 1e-6


def test_dot_bracket_fasta_writer_round_trip(tmp_path):
    p = write_dot_bracket_fasta(
        tmp_path / "x.dbn", [("t", TRNA, TRNA_SS), ("pk", "A" * len(PK), PK)]
    )
    got = read_ss_file(p)
    assert got["t"] == TRNA_SS and np.array_equal(
        parse_dot_bracket(got["pk"]), parse_dot_bracket(PK)
    )
    with pytest.raises(SecondaryStructureError, match="length 3 != sequence length 4") as ei:
        write_dot_bracket_fasta(tmp_path / "y.dbn", [("bad", "ACGU", "(.)")])
    assert ei.value.record == "bad" and ei.value.position == 4
    assert not (tmp_path / "y.dbn").exists()


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [  # the --ss base at position 5 differs from the record's: the error names its own line
        ("x.bpseq", "# comment\n1 G 9\n2 G 8\n3 C 0\n4 A 0\n5 C 0\n6 A 0\n7 A 0\n8 C 2\n9 C 1\n", 6),
        ("x.ct", "9 x\n1 G 0 2 9 1\n2 G 1 3 8 2\n3 C 2 4 0 3\n4 A 3 5 0 4\n5 C 4 6 0 5\n"
         "6 A 5 7 0 6\n7 A 6 8 0 7\n8 C 7 9 2 8\n9 C 8 10 1 9\n", 6),
        ("x.dbn", ">x\nGGCA\nCAACC\n((.....))\n", 3),
    ],
)  # fmt: skip
def test_ss_file_sequence_mismatch_names_the_line_of_the_position(tmp_path, name, text, line):
    from rnapredict.errors import RecordError
    from rnapredict.io.inputs import iter_records

    fa = tmp_path / "x.fa"
    fa.write_text(">x\nGGCAAAACC\n")
    ss = tmp_path / name
    ss.write_text(text)
    (err,) = list(iter_records([fa], ss))
    assert isinstance(err, RecordError)
    assert (err.position, err.line) == (5, line), str(err)
    assert "--ss sequence has 'C' where the input has 'A'" in str(err)
