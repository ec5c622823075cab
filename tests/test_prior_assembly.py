"""Assembly from a secondary structure: A-form stems, physical traces, determinism, any input.

These run with an empty library (pure fallback) and with the shipped one where present;
library-dependent accuracy checks are in test_prior_library.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnapredict.geometry.aform import aform_c1
from rnapredict.prior.assembly import assemble
from rnapredict.prior.helixgraph import helix_graph
from rnapredict.prior.instances import MotifLibrary
from rnapredict.prior.library import default_library
from rnapredict.prior.motifs import measure_loop
from rnapredict.prior.steric import clash_pairs, push_apart
from tests.test_prior_helixgraph import random_db

EMPTY = MotifLibrary([], [], {"format": "1", "chain_ids": "[]"})
#: A three-way junction with tails (35 + 4 nt).
SS3 = "..((((.((((....)))).((((....)))).)))).."
SEQ3 = "GAGGCAAGCGCGAAAGCGUCGCGAAAGCGAAGCCUCAAG"
LIBS = [pytest.param(EMPTY, id="fallback"), pytest.param(None, id="shipped")]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def stem_distances(xyz: np.ndarray, ss: str) -> tuple[np.ndarray, np.ndarray]:
    """C1′–C1′ across every pair, and between consecutive residues that are both paired."""
    g = helix_graph(ss)
    across, steps = [], []
    for s in g.stems:
        a, b = s.strand1(), s.strand2()
        across += list(np.linalg.norm(xyz[a] - xyz[b], axis=-1))
        for strand in (a, b):
            if len(strand) > 1:
                steps += list(np.linalg.norm(np.diff(xyz[np.sort(strand)], axis=0), axis=-1))
    return np.asarray(across), np.asarray(steps)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize(
    ("seq", "ss"),
    [("GGGGCGCCCC", "((((()))))"), ("GGCGAGAAACUCGCC", "((((((...))))))")],
)
def test_duplex_and_hairpin_are_aform(lib: MotifLibrary | None, seq: str, ss: str) -> None:
    if lib is None and default_library() is None:
        pytest.skip("no shipped motif library")
    (cand,) = assemble(seq, ss, gen(), 1, lib)
    across, steps = stem_distances(cand.coords, ss)
    assert ((across > 10.4) & (across < 10.7)).all(), across
    assert ((steps > 5.0) & (steps < 6.5)).all(), steps
    assert cand.source == "assembly" and cand.ss == ss


def test_fallback_reproduces_aform_layout() -> None:
    """With no library the assembly is the A-form rule (up to a rigid motion)."""
    seq, ss = SEQ3, SS3
    (cand,) = assemble(seq, ss, gen(), 1, EMPTY)
    ref = aform_c1(seq, ss)
    d_ref = np.linalg.norm(ref[:, None] - ref[None], axis=-1)
    d = np.linalg.norm(cand.coords[:, None] - cand.coords[None], axis=-1)
    assert np.abs(d - d_ref).max() < 0.5


def test_measured_geometry_is_rotation_invariant() -> None:
    seq, ss = SEQ3, SS3
    xyz = aform_c1(seq, ss) + np.random.default_rng(0).normal(0, 0.5, (len(seq), 3))
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    rot = xyz @ q.T + np.array([5.0, -3.0, 12.0])
    g = helix_graph(ss)
    for loop in range(len(g.loops)):
        a, b = measure_loop(g, xyz, loop), measure_loop(g, rot, loop)
        np.testing.assert_allclose(a.transforms, b.transforms, atol=1e-8)
        for sa, sb in zip(a.strands, b.strands, strict=True):
            np.testing.assert_allclose(sa, sb, atol=1e-8)


@pytest.mark.parametrize("lib", LIBS)
def test_same_seed_same_coords(lib: MotifLibrary | None) -> None:
    rng = np.random.default_rng(3)
    seq = "".join(rng.choice(list("ACGU"), 150))
    ss = random_db(rng, 150)
    a = assemble(seq, ss, gen(7), 4, lib)
    b = assemble(seq, ss, gen(7), 4, lib)
    assert len(a) == len(b) >= 1
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.coords, y.coords) and x.info == y.info


def check_physical(coords: np.ndarray) -> None:
    assert np.isfinite(coords).all()
    # 3 Å: non-consecutive C1′ in natives stay ≥ ~3.5 Å; the push-apart leaves ≥ 3.2 Å.
    assert not len(clash_pairs(coords, 3.0))
    if len(coords) > 1:
        step = np.linalg.norm(np.diff(coords, axis=0), axis=-1)
        assert step.max() < 25.0  # loops stretched around wide junctions, never a break


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1), st.integers(1, 600))
def test_any_structure_assembles(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    seq = "".join(rng.choice(list("ACGUN"), n))
    ss = random_db(rng, n)
    cands = assemble(seq, ss, gen(seed), 2, None)
    assert 1 <= len(cands) <= 2
    for c in cands:
        assert c.coords.shape == (n, 3)
        check_physical(c.coords)
        assert len(c.info["instances"]) <= 20


def test_realistic_structure_is_physical() -> None:
    """MFE-like structure (hairpin loops ≥ 3): consecutive C1′ within native bounds."""
    seq, ss = SEQ3, SS3
    for c in assemble(seq, ss, gen(1), 5, None):
        check_physical(c.coords)
        step = np.linalg.norm(np.diff(c.coords, axis=0), axis=-1)
        assert step.min() > 3.0 and step.max() < 11.0, (step.min(), step.max())


def test_push_apart_separates_coincident_atoms() -> None:
    x = np.array([[0.0, 0, 0], [6.0, 0, 0], [0.5, 0.0, 0.0], [30.0, 0, 0]])
    y = push_apart(x)
    assert not len(clash_pairs(y, 3.2))
    assert np.allclose(y[3], x[3])


@pytest.mark.parametrize("lib", LIBS)
def test_pseudoknot_partners_brought_close(lib: MotifLibrary | None) -> None:
    """H-type pseudoknot: hairpin-loop strand pairs with the 3′ tail. The A-form rule leaves
    the partners far apart; the assembly brings them near pair distance, stems unchanged."""
    ss = "((((((....[[[[[..))))))......]]]]]"
    seq = "GGCGCCAAAAGGGCGAAGGCGCCAAAAAACGCCC"
    pk = np.array(helix_graph(ss).pk_pairs)
    far = np.linalg.norm(aform_c1(seq, ss)[pk[:, 0]] - aform_c1(seq, ss)[pk[:, 1]], axis=-1)
    (cand,) = assemble(seq, ss, gen(), 1, lib)
    d = np.linalg.norm(cand.coords[pk[:, 0]] - cand.coords[pk[:, 1]], axis=-1)
    assert far.min() > 14.0 and d.max() < 14.0, (far, d)
    across, steps = stem_distances(cand.coords, ss)
    assert ((across > 10.4) & (across < 10.7)).all() and ((steps > 5.0) & (steps < 6.5)).all()
    check_physical(cand.coords)
