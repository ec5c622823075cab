"""Property-based fuzzing: every parser turns arbitrary input into results or OUR errors only."""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnapredict.errors import RnapredictError
from rnapredict.io.fasta import iter_fasta
from rnapredict.io.inputs import check_inputs, iter_records, records_from_entries
from rnapredict.io.names import safe_name
from rnapredict.io.pdbio import read_models
from rnapredict.io.records import Record
from rnapredict.io.secondary import (
    check_pairs,
    pair_list,
    pairs_from_list,
    parse_dot_bracket,
    to_dot_bracket,
)
from rnapredict.io.ssfiles import (
    bpseq_text,
    ct_text,
    parse_bpseq,
    parse_ct,
    parse_dot_bracket_fasta,
    read_ss_entries,
)

# RNAPREDICT_FUZZ_EXAMPLES=5000 for a deeper local run; the default keeps the suite fast.
N_EXAMPLES = int(os.environ.get("RNAPREDICT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=N_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text biased towards the characters the parsers care about, plus anything at all.
_ALPHA = "ACGUTNacgutnRY.()[]{}<>Aa-_,:>;# \t\r\n0123456789é\x00"
texty = st.one_of(st.text(alphabet=_ALPHA, max_size=300), st.text(max_size=200))


def _numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), 1))


def _tmpfile(data: bytes, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix)
    with open(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


@FUZZ
@given(texty)
def test_parse_dot_bracket_only_our_errors(s):
    try:
        p = parse_dot_bracket(s)
    except RnapredictError:
        return
    assert np.array_equal(parse_dot_bracket(to_dot_bracket(p)), p)


@FUZZ
@given(st.integers(0, 120).flatmap(lambda n: st.tuples(st.just(n), st.permutations(range(n)))))
def test_random_valid_pair_tables_round_trip(n_perm):
    n, perm = n_perm
    # pair consecutive elements of a random permutation: arbitrary (also crossing) pairs
    k = len(perm) // 2 // 2 * 2
    pairs = pairs_from_list(n, [(perm[i], perm[i + 1]) for i in range(0, k, 2)])
    s = to_dot_bracket(pairs)
    back = parse_dot_bracket(s)
    assert np.array_equal(back, pairs)
    seq = "ACGU" * (n // 4 + 1)
    (ct,) = parse_ct(_numbered(ct_text(seq[:n], pairs, title="x")), "f", "d") if n else [None]
    if n:
        assert np.array_equal(ct.pairs, pairs)
        bp = parse_bpseq(_numbered(bpseq_text(seq[:n], pairs)), "f", "d")
        assert np.array_equal(bp.pairs, pairs) and bp.seq == seq[:n]


@FUZZ
@given(st.lists(st.integers(-3, 12), max_size=12))
def test_check_pairs_only_our_errors(table):
    try:
        p = check_pairs(np.array(table, dtype=np.int64))
    except RnapredictError:
        return
    assert all(p[j] == i for i, j in pair_list(p))


@FUZZ
@given(texty)
def test_fasta_records_only_our_errors(text):
    try:
        for item in records_from_entries(iter_fasta(_numbered(text), "f")):
            if isinstance(item, Record):
                assert set(item.seq) <= set("ACGUN") and item.seq
                assert item.ss is None or len(item.ss) == len(item.seq)
            else:
                assert isinstance(item, RnapredictError) and item.file == "f"
    except RnapredictError:
        pass


@FUZZ
@given(texty)
def test_ss_parsers_only_our_errors(text):
    lines = _numbered(text)
    for parse in (
        lambda: parse_bpseq(lines, "f", "d"),
        lambda: parse_ct(lines, "f", "d"),
        lambda: parse_dot_bracket_fasta(lines, "f"),
    ):
        try:
            parse()
        except RnapredictError:
            pass


@FUZZ
@given(st.binary(max_size=400), st.booleans())
def test_files_of_random_bytes_only_our_errors(data, gz):
    p = _tmpfile(gzip.compress(data) if gz else data, ".fa")
    try:
        for call in (
            lambda: check_inputs([p]),
            lambda: list(iter_records([p])),
            lambda: read_ss_entries(p),
        ):
            try:
                call()
            except RnapredictError:
                pass
    finally:
        p.unlink()


@settings(max_examples=max(60, N_EXAMPLES // 3), deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(alphabet="ATOMHETRCS 0123456789.-\nABCPN'", max_size=400).map(str.encode),
    ),
    st.sampled_from([".pdb", ".cif"]),
)
def test_structure_reader_only_our_errors(data, suffix):
    p = _tmpfile(data, suffix)
    try:
        read_models(p)
    except RnapredictError:
        pass
    finally:
        p.unlink()


@FUZZ
@given(st.text(max_size=300))
def test_safe_name_properties(rid):
    name = safe_name(rid)
    assert name and not name.startswith(".") and len(name) <= 200
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    assert name not in (".", "..") and "/" not in name
