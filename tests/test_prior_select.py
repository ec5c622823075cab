"""Candidate selection (rnapredict.prior.select)."""

from __future__ import annotations

import math

import numpy as np

from rnapredict.geometry.candidate import Candidate, aform_candidate
from rnapredict.prior.select import (
    SelectConfig,
    compactness_penalty,
    radius_of_gyration,
    select_candidates,
)
from rnapredict.score.superpose import superposed_rmsd

SEQ = "GGGCGAAAGCCCAUAGGCUUCGGCCUAUGGAUCCGAAAGGAUCC"


def _cand(coords: np.ndarray, ss: str | None = None) -> Candidate:
    return Candidate(ss=ss or "." * len(coords), coords=coords, source="aform")


def _random_rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_radius_of_gyration_golden_and_invariant() -> None:
    # the 8 corners of a cube of side 2 Å: every point √3 Å from the centre
    cube = np.array([[x, y, z] for x in (0, 2) for y in (0, 2) for z in (0, 2)], float)
    assert math.isclose(radius_of_gyration(cube), math.sqrt(3.0), rel_tol=1e-12)
    moved = cube @ _random_rotation(0).T + np.array([5.0, -3.0, 8.0])
    assert math.isclose(radius_of_gyration(moved), math.sqrt(3.0), rel_tol=1e-12)


def test_compactness_penalty_zero_on_the_law_and_symmetric_in_log() -> None:
    n = 64
    x = np.random.default_rng(1).normal(size=(n, 3))
    x -= x.mean(0)
    target = 5.5 * n ** (1 / 3)
    on_law = x * target / radius_of_gyration(x)
    assert compactness_penalty(on_law) < 1e-9
    assert math.isclose(compactness_penalty(on_law * 2), math.log(2), rel_tol=1e-9)
    assert math.isclose(compactness_penalty(on_law / 2), math.log(2), rel_tol=1e-9)


def test_own_structure_first_and_candidates_distinct() -> None:
    base = aform_candidate(SEQ, "(((....)))" + "." * (len(SEQ) - 10))
    rng = np.random.default_rng(2)
    pool = [base] + [
        _cand(base.coords + rng.normal(scale=s, size=base.coords.shape))
        for s in (0.1, 0.2, 6.0, 6.5, 7.0, 0.3)
    ]
    out = select_candidates(pool, 3, SelectConfig(min_rmsd=4.0))
    assert out[0] is base and len(out) == 3
    for k, a in enumerate(out):
        for b in out[:k]:
            assert superposed_rmsd(a.coords, b.coords) >= 4.0


def test_threshold_relaxed_when_too_few_differ_but_no_copies() -> None:
    base = aform_candidate(SEQ, "." * len(SEQ))
    rng = np.random.default_rng(3)
    near = [_cand(base.coords + rng.normal(scale=0.2, size=base.coords.shape)) for _ in range(3)]
    pool = [base, near[0], near[0], near[1], base, near[2]]  # copies included
    out = select_candidates(pool, 10, SelectConfig(min_rmsd=4.0))
    assert out[0] is base and len(out) == 4  # base + three distinct near-copies
    keys = {c.coords.tobytes() for c in out}
    assert len(keys) == 4


def test_compact_candidates_preferred() -> None:
    base = aform_candidate(SEQ, "." * len(SEQ))
    n = len(SEQ)
    rng = np.random.default_rng(4)
    blob = rng.normal(size=(n, 3))
    compact = blob * (5.5 * n ** (1 / 3)) / radius_of_gyration(blob)
    extended = compact * 3.0
    pool = [base, _cand(extended), _cand(compact)]
    out = select_candidates(pool, 2, SelectConfig(min_rmsd=1.0))
    assert out[1].coords is pool[2].coords


def test_tiny_pools() -> None:
    one = _cand(np.zeros((1, 3)))
    assert select_candidates([one], 5) == [one]
    assert select_candidates([], 5) == []
    two = [_cand(np.zeros((2, 3)), "()"), _cand(np.ones((2, 3)), "..")]
    assert len(select_candidates(two, 5)) == 2
