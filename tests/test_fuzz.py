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
    dot_bracket_fasta_text,
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


# ------------------------------------------------------------------ success paths + mutations
# Valid inputs written by our own writers must parse back equal; a mutated copy must either
# parse (into records that obey the sequence policy) or raise only our error types.
_ID_ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-|"


@st.composite
def valid_records(draw) -> list[tuple[str, str, np.ndarray]]:
    """1–4 records ``(id, sequence, pair table)`` with distinct ids and arbitrary (also
    crossing) base pairs."""
    n_rec = draw(st.integers(1, 4))
    ids = draw(
        st.lists(
            st.text(alphabet=_ID_ALPHA, min_size=1, max_size=12),
            min_size=n_rec,
            max_size=n_rec,
            unique_by=lambda s: safe_name(s).casefold(),
        )
    )
    out = []
    for rid in ids:
        n = draw(st.integers(1, 80))
        seq = "".join(draw(st.lists(st.sampled_from("ACGU"), min_size=n, max_size=n)))
        perm = draw(st.permutations(range(n)))
        k = draw(st.integers(0, n // 2))
        pairs = pairs_from_list(n, [(perm[2 * i], perm[2 * i + 1]) for i in range(k)])
        out.append((rid, seq, pairs))
    return out


def _mutate(text: str, rng: np.random.Generator, n_edits: int) -> str:
    """Seeded edits: replace, delete or insert characters, duplicate or drop a line."""
    chars = list(text)
    for _ in range(n_edits):
        op = rng.integers(5)
        pos = int(rng.integers(len(chars) + 1))
        if op == 0 and chars:
            chars[min(pos, len(chars) - 1)] = str(rng.choice(list(_ALPHA)))
        elif op == 1 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op == 2:
            chars.insert(pos, str(rng.choice(list(_ALPHA))))
        else:
            lines = "".join(chars).splitlines(keepends=True)
            if lines:
                i = int(rng.integers(len(lines)))
                lines = lines[:i] + lines[i:][1:] if op == 3 else lines[: i + 1] + lines[i:]
            chars = list("".join(lines))
    return "".join(chars)


def _fasta_records_or_our_errors(text: str) -> list[Record | RnapredictError]:
    try:
        items = list(records_from_entries(iter_fasta(_numbered(text), "f")))
    except RnapredictError as err:
        return [err]
    for item in items:
        if isinstance(item, Record):
            assert set(item.seq) <= set("ACGUN") and item.seq
            assert item.ss is None or len(item.ss) == len(item.seq)
        else:
            assert isinstance(item, RnapredictError)
    return items


@FUZZ
@given(valid_records(), st.integers(0, 2**32 - 1))
def test_dot_bracket_fasta_round_trip_and_mutations(recs, seed):
    text = dot_bracket_fasta_text((rid, seq, to_dot_bracket(p)) for rid, seq, p in recs)
    # as --ss file
    entries = parse_dot_bracket_fasta(_numbered(text), "f")
    assert [(e.id, e.seq) for e in entries] == [(rid, seq) for rid, seq, _ in recs]
    for e, (_, _, pairs) in zip(entries, recs, strict=True):
        assert np.array_equal(e.pairs, pairs)
    # as fold input (sequence + structure line)
    got = _fasta_records_or_our_errors(text)
    assert [(r.id, r.seq, r.ss) for r in got] == [
        (rid, seq, to_dot_bracket(p)) for rid, seq, p in recs
    ]
    rng = np.random.default_rng(seed)
    mutated = _mutate(text, rng, int(rng.integers(1, 6)))
    _fasta_records_or_our_errors(mutated)
    try:
        parse_dot_bracket_fasta(_numbered(mutated), "f")
    except RnapredictError:
        pass


@FUZZ
@given(valid_records(), st.integers(0, 2**32 - 1))
def test_bpseq_and_ct_round_trip_and_mutations(recs, seed):
    rng = np.random.default_rng(seed)
    rid, seq, pairs = recs[0]
    bp_text, ct = bpseq_text(seq, pairs), ct_text(seq, pairs, title=rid)
    bp = parse_bpseq(_numbered(bp_text), "f", rid)
    assert bp.seq == seq and np.array_equal(bp.pairs, pairs)
    (back,) = parse_ct(_numbered(ct), "f", "d")
    assert back.seq == seq and np.array_equal(back.pairs, pairs)
    for text, parse in ((bp_text, parse_bpseq), (ct, parse_ct)):
        mutated = _mutate(text, rng, int(rng.integers(1, 6)))
        try:
            parse(_numbered(mutated), "f", "d")
        except RnapredictError:
            pass


@settings(max_examples=max(20, N_EXAMPLES // 5), deadline=None)
@given(valid_records(), st.integers(0, 2**32 - 1), st.booleans())
def test_fasta_files_round_trip_through_the_fold_reader(recs, seed, gz):
    """Plain and gzip files, read by the same entry points ``fold`` uses."""
    text = "".join(f">{rid} some description\n{seq}\n" for rid, seq, _ in recs)
    data = text.encode()
    p = _tmpfile(gzip.compress(data) if gz else data, ".fa")
    try:
        check_inputs([p])
        got = list(iter_records([p]))
        assert [(r.id, r.seq, r.ss) for r in got] == [(rid, seq, None) for rid, seq, _ in recs]
        rng = np.random.default_rng(seed)
        mutated = _mutate(text, rng, int(rng.integers(1, 6))).encode()
        p.write_bytes(gzip.compress(mutated) if gz else mutated)
        try:
            check_inputs([p])
            for item in iter_records([p]):
                assert isinstance(item, Record | RnapredictError)
        except RnapredictError:
            pass
    finally:
        p.unlink()
