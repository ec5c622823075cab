"""Tertiary-contact features (rnapredict.prior.contacts): golden values on a hand-built trace,
rigid-motion invariance, sequence blindness inside the learned score, and the arrangement
decoys the score is fitted on (rnapredict.train.cgscore.arrangement_pool)."""

from __future__ import annotations

import numpy as np

from rnapredict.prior.cgscore import CgFeatureConfig, CgScore, features
from rnapredict.prior.contacts import DIST_EDGES, N_FEATURES, contact_features, elements
from rnapredict.train.cgscore import arrangement_pool

NB = len(DIST_EDGES)
#: A 30-nt hairpin: stem residues 0–2 / 27–29, loop residues 3–26.
HAIRPIN = "(((" + "." * 24 + ")))"


def _far_line(n: int) -> np.ndarray:
    """[n, 3] C1′ 50 Å apart on a line: no pair within any feature radius."""
    return np.array([[50.0 * k, 0.0, 0.0] for k in range(n)])


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_elements_of_a_hairpin() -> None:
    paired, elem = elements(HAIRPIN)
    assert paired[[0, 1, 2, 27, 28, 29]].all() and paired.sum() == 6
    assert len(set(elem[[0, 1, 2, 27, 28, 29]])) == 1 and len(set(elem[3:27])) == 1
    assert elem[0] != elem[3]


def test_golden_loop_in_a_helix_groove() -> None:
    # Loop residue 5 sits 7 Å from stem residue 28 (|i − j| = 23, different elements): one
    # paired–unpaired contact in bin [6, 8) Å, per residue 1/30; 1 of 24 unpaired residues
    # touches a paired one; contact order 23 / 30.
    x = _far_line(30)
    x[28] = x[5] + [0.0, 7.0, 0.0]
    f = contact_features(x, HAIRPIN)
    want = np.zeros(N_FEATURES)
    want[1 * NB + 1] = 1 / 30
    want[3 * NB + 0] = 1 / 24
    want[-1] = 23 / 30
    np.testing.assert_allclose(f, want, atol=1e-12)
    # inside one element (loop residues 4 and 20) nothing counts but the contact order
    y = _far_line(30)
    y[20] = y[4] + [0.0, 5.0, 0.0]
    g = contact_features(y, HAIRPIN)
    assert g[: 3 * NB + 3].sum() == 0 and np.isclose(g[-1], 16 / 30)


def test_invariant_to_rigid_motion() -> None:
    rng = np.random.default_rng(1)
    ss = "((((....))))..((((....))))....((((....))))"
    x = np.cumsum(rng.normal(scale=3.0, size=(len(ss), 3)), axis=0)
    f = contact_features(x, ss)
    assert f[: 3 * NB].sum() > 0  # the random walk makes contacts
    np.testing.assert_allclose(contact_features(x @ _rotation(3).T + 25.0, ss), f, atol=1e-12)


def test_score_geometry_is_sequence_blind_with_contacts() -> None:
    rng = np.random.default_rng(2)
    ss = "((((....))))..((((....))))"
    x = np.cumsum(rng.normal(scale=3.5, size=(3, len(ss), 3)), axis=1)
    cfg = CgFeatureConfig(contacts=True)
    a = features("GGGGAAAACCCCAAGGGGAAAACCCC", x, [ss] * 3, cfg)
    b = features("CCCCUUUUGGGGUUCCCCUUUUGGGG", x, [ss] * 3, cfg)
    np.testing.assert_array_equal(a[:, :-2], b[:, :-2])  # all but −ΔG and compactness
    np.testing.assert_array_equal(a[:, -1], b[:, -1])
    assert a.shape == (3, cfg.n_features)
    score = CgScore(rng.normal(size=cfg.n_features), cfg)
    assert CgScore.from_bytes(score.to_bytes()).config == cfg


def test_arrangement_pool_is_one_structure_and_reproducible() -> None:
    ss = "a((((a((((....))))a((((....))))aa))))a".replace("a", ".")  # a three-way junction
    seq = ("GGCAUCGCAGAAAUGCGAGCCUGUUCAGGCAAUGCCAU" * 2)[: len(ss)]
    a = arrangement_pool(seq, ss, "rec", None, 6, 3)
    b = arrangement_pool(seq, ss, "rec", None, 6, 3)
    assert {c.ss for c in a} == {ss} and len(a) >= 3
    assert [c.info["ss_source"] for c in a].count("vienna-search") >= 1
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.coords, q.coords)
    # the arrangements differ in 3D
    assert max(np.abs(a[0].coords - c.coords).max() for c in a[1:]) > 1.0
