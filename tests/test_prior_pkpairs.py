"""Pseudoknot pair proposals: a planted kissing-loop complementarity is found, a sequence
without any ≥ 5-bp complementary stretch between unpaired residues gets none, the structure
with the proposal is a valid dot-bracket whose nested level is the input."""

from __future__ import annotations

import numpy as np

from rnapredict.features.secondary import predict_ss
from rnapredict.geometry.aform import layout_pairs
from rnapredict.io.secondary import parse_dot_bracket
from rnapredict.prior.pkpairs import duplex_energy, pk_pair_set, propose_pk, with_pseudoknots

# Two hairpins whose loops carry CCGUG (7-11) and its complement CACGG (28-32).
KISS_SEQ = "GCAUC" + "AACCGUGAA" + "GAUGC" + "AA" + "GUCAG" + "AACACGGAA" + "CUGAC"
KISS_SS = "(((((" + "........." + ")))))" + ".." + "(((((" + "........." + ")))))"
_PAIR = {"AU", "UA", "GC", "CG", "GU", "UG"}


def test_planted_kissing_loop_found() -> None:
    (stem,) = propose_pk(KISS_SEQ, KISS_SS)
    assert stem.pairs() == [(7, 32), (8, 31), (9, 30), (10, 29), (11, 28)]
    assert stem.energy == duplex_energy("CCGUG", "CACGG") < -5.0
    ss = with_pseudoknots(KISS_SS, [stem])
    assert pk_pair_set(ss) == set(stem.pairs())
    np.testing.assert_array_equal(layout_pairs(ss), parse_dot_bracket(KISS_SS))


def longest_run(seq: str, ss: str) -> int:
    """Longest stacked complementary run between unpaired residues (brute force)."""
    free = [i for i, c in enumerate(ss) if c == "."]
    best = 0
    for i in free:
        for j in free:
            n = 0
            while (
                i + n < j - n - 3 and ss[i + n] == "." and ss[j - n] == "."
                and seq[i + n] + seq[j - n] in _PAIR
            ):  # fmt: skip
                n += 1
            best = max(best, n)
    return best


def test_nothing_proposed_without_complementarity() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        seq = "".join(rng.choice(list("ACGU"), 80))
        ss = predict_ss(seq)
        if "(" in ss and longest_run(seq, ss) < 5:
            break
    else:
        raise AssertionError("no random sequence without a 5-bp complementary run")
    assert propose_pk(seq, ss) == []
