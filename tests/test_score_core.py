"""Scoring building blocks: Kabsch, neighbour pairs, d0 rules, TM search, lDDT, INF."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnapredict.score.basepairs import BasePair, Interactions, Stacking
from rnapredict.score.inf import inf, inf_score
from rnapredict.score.lddt import lddt
from rnapredict.score.neighbors import point_pairs
from rnapredict.score.superpose import kabsch, kabsch_batch, rmsd, superposed_rmsd
from rnapredict.score.tmscore import tm_fixed_alignment
from rnapredict.score.tmsearch import (
    SearchParams,
    d0_rna,
    d0_search_of,
    fragment_lengths,
    seed_starts,
    tm_search,
)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def helix_chain(n: int, rng: np.random.Generator, noise: float = 0.0) -> np.ndarray:
    """[n, 3] A-form-like C3' trace (rise 2.8 Å, 32.7° twist, radius 8.7 Å) + noise."""
    t = np.radians(32.7) * np.arange(n)
    xyz = np.stack([8.7 * np.cos(t), 8.7 * np.sin(t), 2.8 * np.arange(n)], axis=1)
    return xyz + rng.normal(scale=noise, size=xyz.shape)


# ----------------------------------------------------------------------------- Kabsch
def test_kabsch_recovers_known_motion() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(25, 3)) * 6
    rot, t = random_rotation(rng), np.array([3.0, -7.0, 11.0])
    r, tt = kabsch(x, x @ rot.T + t)
    np.testing.assert_allclose(r, rot, atol=1e-10)
    np.testing.assert_allclose(tt, t, atol=1e-9)
    assert superposed_rmsd(x, x @ rot.T + t) == pytest.approx(0.0, abs=1e-9)


def test_kabsch_never_reflects() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 3))
    mirrored = x * np.array([1.0, 1.0, -1.0])
    r, _ = kabsch(x, mirrored)
    assert np.linalg.det(r) == pytest.approx(1.0)
    planar = np.c_[rng.normal(size=(10, 2)), np.zeros(10)]
    r, _ = kabsch(planar, planar @ random_rotation(rng).T)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_kabsch_weights_and_batch_match_single_fits() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 3)) * 5
    y = x @ random_rotation(rng).T + rng.normal(size=(40, 3))
    masks = rng.random((5, 40)) > 0.4
    rb, tb = kabsch_batch(x, y, masks)
    for b in range(5):
        r, t = kabsch(x[masks[b]], y[masks[b]])
        np.testing.assert_allclose(rb[b], r, atol=1e-10)
        np.testing.assert_allclose(tb[b], t, atol=1e-9)
        r2, t2 = kabsch(x, y, weights=masks[b].astype(float))
        np.testing.assert_allclose(r2, r, atol=1e-10)
    assert rmsd(x, x + np.array([3.0, 4.0, 0.0])) == pytest.approx(5.0)


# ----------------------------------------------------------------------------- neighbours
def test_point_pairs_equal_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((400, 3)) * 40
    x[7] = np.nan
    pairs, dist = point_pairs(x, 6.5)
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    i, j = np.nonzero(np.triu(d < 6.5, 1))
    np.testing.assert_array_equal(pairs, np.stack([i, j], axis=1))
    np.testing.assert_allclose(dist, d[i, j])


# ----------------------------------------------------------------------------- d0 rules
@pytest.mark.parametrize(
    ("length", "d0"),
    [(5, 0.3), (11, 0.3), (12, 0.4), (15, 0.4), (19, 0.5), (23, 0.6), (29, 0.7),
     (30, 0.6 * math.sqrt(29.5) - 2.5), (100, 0.6 * math.sqrt(99.5) - 2.5)],
)  # fmt: skip
def test_rna_d0(length: int, d0: float) -> None:
    assert d0_rna(length) == pytest.approx(d0)


def test_search_parameters_follow_usalign() -> None:
    p = SearchParams.for_lengths(62, 80)
    assert p.lnorm == 62
    assert p.d0 == pytest.approx(1.24 * 47 ** (1 / 3) - 1.8 + 0.8)
    assert p.score_d8 == pytest.approx(1.5 * 62**0.3 + 3.5)
    assert SearchParams.for_lengths(10, 10).d0 == pytest.approx(0.968)
    assert d0_search_of(2.0) == 4.5 and d0_search_of(9.0) == 8.0
    assert fragment_lengths(100) == [100, 50, 25, 12, 6, 4]
    assert fragment_lengths(20) == [20, 10, 5, 4]
    assert list(seed_starts(10, 4, 4)) == [0, 4, 6]


# ----------------------------------------------------------------------------- TM search
def test_tm_self_is_one_and_rigid_invariant() -> None:
    rng = np.random.default_rng(4)
    y = helix_chain(80, rng)
    pairs = np.stack([np.arange(80)] * 2, axis=1)
    assert tm_fixed_alignment(y, y, pairs).tm_ref == pytest.approx(1.0)
    x = y + rng.normal(scale=2.0, size=y.shape)
    base = tm_fixed_alignment(x, y, pairs)
    moved = tm_fixed_alignment(x @ random_rotation(rng).T + 50.0, y, pairs)
    assert moved.tm_ref == pytest.approx(base.tm_ref, abs=1e-9)
    assert moved.rmsd == pytest.approx(base.rmsd, abs=1e-9)
    assert 0.3 < base.tm_ref < 1.0
    # the reported superposition maps the model onto the reference
    rot = random_rotation(rng)
    exact = tm_fixed_alignment(y @ rot.T + 50.0, y, pairs)
    np.testing.assert_allclose((y @ rot.T + 50.0) @ exact.rot.T + exact.trans, y, atol=1e-8)


def test_search_beats_single_kabsch_on_a_hinge() -> None:
    """Half the chain moved rigidly: the search finds the half that fits (TM ≥ 0.5)."""
    rng = np.random.default_rng(5)
    y = helix_chain(60, rng)
    x = y.copy()
    x[30:] = (x[30:] - x[30]) @ random_rotation(np.random.default_rng(9)).T + x[30]
    res = tm_search(x, y, d0_rna(60), d0_search_of(d0_rna(60)))
    d0 = d0_rna(60)
    r, t = kabsch(x, y)
    single = np.sum(1 / (1 + np.sum((x @ r.T + t - y) ** 2, axis=1) / d0**2)) / 60
    assert res.score / 60 >= 0.5 > single


# ----------------------------------------------------------------------------- lDDT
def test_lddt_self_and_known_perturbation() -> None:
    rng = np.random.default_rng(6)
    y = helix_chain(40, rng)
    assert lddt(y, y).score == pytest.approx(1.0)
    x = y.copy()
    x[10] += np.array([0.0, 0.0, 3.0])  # 3 Å shift of one residue
    got = lddt(x, y, radius=15.0)
    pairs, d_ref = point_pairs(y, 15.0)
    diff = np.abs(np.linalg.norm(x[pairs[:, 0]] - x[pairs[:, 1]], axis=1) - d_ref)
    expect = np.mean([(diff < t).mean() for t in (0.5, 1.0, 2.0, 4.0)])
    assert got.score == pytest.approx(expect)
    assert got.per_residue[10] < got.per_residue[30] == pytest.approx(1.0)
    x[20] = np.nan  # a residue the model lacks loses its pairs
    assert lddt(x, y).score < got.score
    assert lddt(x, y, radius=30.0).score != lddt(x, y, radius=15.0).score


def test_lddt_is_rigid_invariant() -> None:
    rng = np.random.default_rng(7)
    y = helix_chain(50, rng)
    x = y + rng.normal(scale=1.0, size=y.shape)
    a = lddt(x, y).score
    assert lddt(x @ random_rotation(rng).T - 20.0, y).score == pytest.approx(a)


# ----------------------------------------------------------------------------- INF
def test_inf_values() -> None:
    ref = Interactions(
        (BasePair(0, 9, "cWW", True, 3), BasePair(1, 8, "cWW", True, 2),
         BasePair(2, 7, "tSH", False, 2)),
        (Stacking(0, 1), Stacking(1, 2)),
    )  # fmt: skip
    assert inf(ref, ref).all == pytest.approx(1.0)
    model = Interactions((BasePair(0, 9, "cWW", True, 3), BasePair(3, 6, "cWW", True, 2)), ())
    res = inf(model, ref)
    assert res.wc == pytest.approx(math.sqrt(0.5 * 0.5))
    assert res.nwc == 0.0 and res.stack == 0.0
    assert res.all == pytest.approx(math.sqrt((1 / 2) * (1 / 5)))
    assert math.isnan(inf_score(set(), set()))
    # model residues renumbered onto the reference by a mapping
    shifted = Interactions((BasePair(5, 14, "cWW", True, 3),), ())
    mapping = np.full(20, -1)
    mapping[5:15] = np.arange(10)
    assert inf(shifted, ref, mapping).wc == pytest.approx(math.sqrt(1.0 * 0.5))
