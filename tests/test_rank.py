"""Ranking: the blended confidence (network heads + the samples' agreement) and the order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnapredict.pipeline.rank import (
    DEFAULT_RANK,
    N_PLDDT_CAP,
    RankConfig,
    agreement,
    blend,
    blended_confidence,
    rank_order,
    ranking_score,
)

SEQ = "GGGAAACCCUUUGGGAAACCCUUUGGGAAACCCUUUGGGA"  # 40 nt


def helix_trace(n: int = 40) -> np.ndarray:
    """[n, 3] a C1′-like helix (rise 2.8 Å, radius 9 Å, 32.7° per residue)."""
    k = np.arange(n)
    a = np.deg2rad(32.7) * k
    return np.stack([9.0 * np.cos(a), 9.0 * np.sin(a), 2.8 * k], 1)


def cluster(seed: int = 0) -> np.ndarray:
    """[5, 40, 3]: sample 2 is the helix, samples 0, 1, 3 the helix with 2.5 Å noise each
    (so sample 2 is the centroid of the four), sample 4 a different, extended chain."""
    rng = np.random.default_rng(seed)
    base = helix_trace()
    x = np.stack([base + rng.normal(scale=2.5, size=base.shape) for _ in range(5)])
    x[2] = base
    x[4] = np.stack([np.arange(40) * 5.9, np.zeros(40), np.zeros(40)], 1)
    return x


def test_identical_samples_agree_fully() -> None:
    x = np.repeat(helix_trace()[None], 3, 0)
    cons, agree = agreement(x)
    np.testing.assert_allclose(cons, 1.0, atol=1e-9)
    np.testing.assert_allclose(agree, 1.0)


def test_consensus_picks_the_centroid_when_the_network_is_indifferent() -> None:
    x = cluster()
    plddt, ptm = np.full((5, 40), 70.0), np.full(5, 0.5)
    conf = blended_confidence(SEQ, x, plddt, ptm)
    assert int(rank_order(conf.score, 5)[0]) == 2
    assert int(np.argmin(conf.consensus)) == 4  # the outlier agrees least
    assert int(rank_order(conf.score, 5)[-1]) == 4
    # the network's own values are kept beside the blend, untouched
    np.testing.assert_array_equal(conf.network["ptm"], ptm)
    np.testing.assert_array_equal(conf.network["mean_plddt"], plddt.mean(1))


def test_network_confidence_still_counts() -> None:
    """A much more confident network head outranks a small consensus edge."""
    x = cluster()
    ptm = np.full(5, 0.3)
    ptm[0] = 0.9
    conf = blended_confidence(SEQ, x, np.full((5, 40), 70.0), ptm)
    assert int(rank_order(conf.score, 5)[0]) == 0


def test_unit_blend_is_todays_confidence_and_order() -> None:
    x = cluster(1)
    rng = np.random.default_rng(3)
    plddt, ptm = rng.uniform(20, 90, (5, 40)), rng.uniform(0.1, 0.8, 5)
    conf = blended_confidence(SEQ, x, plddt, ptm, RankConfig((1.0, 0.0, 0.0), (1.0, 0.0, 0.0)))
    np.testing.assert_allclose(conf.plddt, plddt)
    np.testing.assert_allclose(conf.ptm, ptm)
    today = ranking_score(torch.from_numpy(ptm), torch.from_numpy(plddt)).numpy()
    np.testing.assert_allclose(conf.score, today)


def test_lone_sample_keeps_the_network_values_and_ranks() -> None:
    plddt, ptm = np.full((1, 40), 64.0), np.array([0.42])
    conf = blended_confidence(SEQ, helix_trace()[None], plddt, ptm)
    np.testing.assert_allclose(conf.plddt, plddt)
    np.testing.assert_allclose(conf.ptm, ptm)
    assert np.isnan(conf.consensus).all()
    assert rank_order(conf.score, 1).tolist() == [0]
    assert rank_order(conf.score, 5).tolist() == [0]


def test_ties_keep_sample_order() -> None:
    x = np.repeat(helix_trace()[None], 4, 0)
    conf = blended_confidence(SEQ, x, np.full((4, 40), 50.0), np.full(4, 0.5))
    assert np.ptp(conf.score) == 0
    assert rank_order(conf.score, 4).tolist() == [0, 1, 2, 3]


def test_physical_models_first() -> None:
    conf = blended_confidence(SEQ, cluster(), np.full((5, 40), 70.0), np.full(5, 0.5))
    passed = np.ones(5, dtype=bool)
    passed[2] = False  # the best-scoring sample fails the all-atom check
    order = rank_order(conf.score, 5, passed)
    assert 2 not in order.tolist() and len(order) == 4
    assert order.tolist() == [i for i in rank_order(conf.score, 5).tolist() if i != 2]


@pytest.mark.parametrize("level", [0.0, 100.0])
def test_blended_values_stay_in_range(level: float) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(scale=40.0, size=(4, 40, 3))  # wild, disagreeing samples
    plddt, ptm = np.full((4, 40), level), np.full(4, level / 100.0)
    conf = blended_confidence(SEQ, x, plddt, ptm, RankConfig((2.0, 2.0, 0.5), (2.0, 2.0, 0.5)))
    assert (conf.plddt >= 0).all() and (conf.plddt <= 100).all()
    assert ((conf.ptm >= 0) & (conf.ptm <= 1)).all()
    conf = blended_confidence(SEQ, x, plddt, ptm)
    assert (conf.plddt >= 0).all() and (conf.plddt <= 100).all()
    assert ((conf.ptm >= 0) & (conf.ptm <= 1)).all()


def test_unknown_residues_stay_capped() -> None:
    seq = "N" * 5 + SEQ[5:]
    x = np.repeat(helix_trace()[None], 3, 0)  # full agreement would lift them
    plddt = np.full((3, 40), 90.0)
    plddt[:, :5] = N_PLDDT_CAP
    conf = blended_confidence(seq, x, plddt, np.full(3, 0.6))
    assert conf.plddt[:, :5].max() <= N_PLDDT_CAP
    assert conf.plddt[:, 5:].min() > N_PLDDT_CAP


def test_unknown_cap_inside_blend_gives_the_numbers_of_capping_after() -> None:
    """The cap on unknown residues applied inside ``blend`` (score formed once) gives the
    bytes of the former two-pass form: blend, cap, then the ranking score again."""
    seq = "NN" + SEQ[2:20] + "N" + SEQ[21:]
    unknown = np.array([c == "N" for c in seq])
    x = cluster(3)
    plddt = np.linspace(40.0, 95.0, 200).reshape(5, 40)
    ptm = np.linspace(0.3, 0.7, 5)
    two_pass = blend(plddt, ptm, *agreement(x))
    two_pass.plddt[:, unknown] = np.minimum(two_pass.plddt[:, unknown], N_PLDDT_CAP)
    score = ranking_score(torch.from_numpy(two_pass.ptm), torch.from_numpy(two_pass.plddt))
    once = blend(plddt, ptm, *agreement(x), DEFAULT_RANK, unknown)
    full = blended_confidence(seq, x, plddt, ptm)
    for conf in (once, full):
        assert conf.plddt.tobytes() == two_pass.plddt.tobytes()
        assert conf.score.tobytes() == score.numpy().tobytes()
        assert conf.ptm.tobytes() == two_pass.ptm.tobytes()
    assert not np.array_equal(once.score, two_pass.score)  # the cap does change the score


def test_same_input_same_bytes_and_inputs_untouched() -> None:
    x = cluster(2)
    plddt, ptm = np.full((5, 40), 70.0), np.linspace(0.2, 0.6, 5)
    keep = (x.copy(), plddt.copy(), ptm.copy())
    a = blended_confidence(SEQ, x, plddt, ptm)
    b = blended_confidence(SEQ, x, plddt, ptm)
    for k in ("plddt", "ptm", "score", "consensus"):
        u, v = getattr(a, k), getattr(b, k)
        assert u.tobytes() == v.tobytes()
    for u, v in zip(keep, (x, plddt, ptm), strict=True):
        np.testing.assert_array_equal(u, v)


def test_ranked_by_names_the_blend() -> None:
    d = DEFAULT_RANK.described
    assert d["plddt_blend"] == list(DEFAULT_RANK.plddt_blend)
    assert d["ptm_blend"] == list(DEFAULT_RANK.ptm_blend)
    assert "physical models first" in d["score"]
