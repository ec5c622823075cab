"""Helix graph: stems, loops and their kinds; every residue in exactly one stem or strand."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rnapredict.prior.helixgraph import helix_graph


def random_db(rng: np.random.Generator, n: int, pk: bool = True) -> str:
    """A random valid dot-bracket of length n (nested pairs, optional crossing ``[]`` pairs)."""
    out = ["."] * n
    stack: list[int] = []
    for i in range(n):
        r = rng.random()
        if r < 0.3:
            stack.append(i)
        elif r < 0.6 and stack and i - stack[-1] > 3:
            j = stack.pop()
            out[j], out[i] = "(", ")"
    free = [i for i, c in enumerate(out) if c == "."]
    if pk and len(free) > 10:
        a, b = sorted(rng.choice(free, 2, replace=False))
        if b - a > 3:
            out[a], out[b] = "[", "]"
    return "".join(out)


def covered(ss: str) -> np.ndarray:
    g = helix_graph(ss)
    count = np.zeros(len(ss), dtype=int)
    for s in g.stems:
        count[s.strand1()] += 1
        count[s.strand2()] += 1
    for lp in g.loops:
        for strand in lp.strands:
            count[list(strand)] += 1
    return count


def test_hairpin_and_internal_loop() -> None:
    g = helix_graph("..(((..((....))...)))..")
    assert [(s.i, s.j, s.n) for s in g.stems] == [(2, 20, 3), (7, 14, 2)]
    kinds = [lp.kind for lp in g.loops]
    assert kinds == ["exterior", "internal", "hairpin"]
    assert g.loops[1].lengths == (2, 3)
    assert g.loops[2].lengths == (4,)
    assert g.loops[0].lengths == (2, 2)
    assert g.loop_of_stem == (1, 2)


def test_junction_bulge_and_pseudoknot() -> None:
    ss = "((.((...)).((...))..(((...))).))......(.(...))"
    g = helix_graph(ss)
    kinds = sorted(lp.kind for lp in g.loops)
    assert kinds.count("junction") == 1 and kinds.count("bulge") == 1
    junction = next(lp for lp in g.loops if lp.kind == "junction")
    assert len(junction.children) == 3 and junction.lengths == (1, 1, 2, 1)
    assert g.pk_pairs == ()


def test_pseudoknot_pairs_are_set_aside() -> None:
    ss = "((((....[[[.))))...]]]"
    g = helix_graph(ss)
    assert g.pk_pairs == ((8, 21), (9, 20), (10, 19))
    assert [(s.i, s.j, s.n) for s in g.stems] == [(0, 15, 4)]
    assert (covered(ss) == 1).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_every_residue_once(seed: int, n: int) -> None:
    ss = random_db(np.random.default_rng(seed), n)
    assert (covered(ss) == 1).all()
