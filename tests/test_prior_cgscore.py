"""Coarse-grained learned score (rnapredict.prior.cgscore, rnapredict.train.cgscore): golden features,
invariance, round-trip, the fit, the shipped file, and its use in selection and ranking."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from rnapredict.errors import WeightsError
from rnapredict.geometry.candidate import Candidate
from rnapredict.prior import cgscore
from rnapredict.prior.cgscore import (
    CGSCORE_FILE,
    DEFAULT_FEATURES,
    CgFeatureConfig,
    CgScore,
    default_cgscore,
    features,
    histograms,
)
from rnapredict.prior.select import SelectConfig, select_candidates
from rnapredict.train.cgscore import fit_weights, fold_of_families, normal_scores

WEIGHTS = Path(cgscore.__file__).resolve().parents[2] / "weights"


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_pair_and_coordination_histograms_golden() -> None:
    # 5 C1′ on a line 4 Å apart: pairs with |i − j| ≥ 3 are (0,3) 12 Å, (1,4) 12 Å — separation
    # class 0 (|i − j| = 3), bin 12 — and (0,4) 16 Å — class 1 (|i − j| = 4), bin 16.
    x = np.array([[4.0 * k, 0, 0] for k in range(5)])[None]
    h, c = histograms(x)
    h = h.reshape(len(DEFAULT_FEATURES.sep_edges), DEFAULT_FEATURES.n_bins)
    assert h[0, 12] == 2 and h[1, 16] == 1 and h.sum() == 3
    # within 12 Å at |i − j| ≥ 3: none (12 is not < 12), so every residue counts 0 neighbours
    assert c[0, 0] == 5 and c.sum() == 5
    _, c = histograms(x * 0.9)  # 10.8 Å: residues 0, 1, 3, 4 have one neighbour each
    assert c[0, 0] == 1 and c[0, 1] == 4


def test_features_invariant_to_rigid_motion_per_candidate() -> None:
    rng = np.random.default_rng(0)
    seq = "GGGAAACCCAGGGAAACCCA"
    x = np.cumsum(rng.normal(scale=3.5, size=(3, len(seq), 3)), axis=1)
    ss = ["(((...)))." * 2, "." * 20, "(((...)))." * 2]
    f = features(seq, x, ss)
    moved = np.stack([xi @ _rotation(k).T + 10.0 * k for k, xi in enumerate(x)])
    np.testing.assert_allclose(features(seq, moved, ss), f, atol=1e-9)
    assert f.shape == (3, DEFAULT_FEATURES.n_features)
    # −ΔG column: 0 for the unpaired chain, the same for the same structure
    assert f[1, -2] == 0.0 and f[0, -2] == f[2, -2]


def test_fit_recovers_the_order_of_a_linear_truth() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(size=6)
    sets = []
    for _ in range(20):
        f = rng.normal(size=(15, 6)) + rng.normal(size=6)  # per-target offsets are ignored
        sets.append((f, 0.3 + 0.01 * (f @ truth)))
    f = rng.normal(size=(30, 6))
    w = fit_weights(sets, ridge=1e-6, target="z")
    assert spearmanr(f @ w, f @ truth).statistic > 0.999
    w = fit_weights(sets, ridge=1e-6)  # normal scores of the ranks: the order, not the values
    assert spearmanr(f @ w, f @ truth).statistic > 0.98


def test_normal_scores_golden() -> None:
    # ranks 1, 3, 2 of 3 → Φ⁻¹(1/6), Φ⁻¹(5/6), Φ⁻¹(1/2); ties share the mean rank; any
    # monotone change of TM gives the same label
    got = normal_scores(np.array([0.1, 0.3, 0.2]))
    np.testing.assert_allclose(got, [-0.9674216, 0.9674216, 0.0], atol=1e-6)
    np.testing.assert_allclose(normal_scores(np.array([0.2, 0.2, 0.5]))[:2], -0.4307273, atol=1e-6)
    np.testing.assert_array_equal(normal_scores(np.array([0.1, 0.3, 0.2]) ** 3), got)
    assert not normal_scores(np.full(4, 0.3)).any()


def test_bytes_round_trip_deterministic_and_bad_bytes_rejected() -> None:
    s = CgScore(np.linspace(-1, 1, DEFAULT_FEATURES.n_features), meta=(("n_targets", "3"),))
    data = s.to_bytes()
    assert data == CgScore(s.weights.copy(), meta=s.meta).to_bytes()
    back = CgScore.from_bytes(data)
    np.testing.assert_allclose(back.weights, s.weights, atol=1e-7)
    assert back.config == s.config and dict(back.meta) == {"n_targets": "3"}
    with pytest.raises(WeightsError, match="not a cgscore"):
        CgScore.from_bytes(b"garbage", "x.safetensors")


def test_families_stay_in_one_fold() -> None:
    a = "GGGCGAAAGCCCAUAGGCUUCGGCCUAUGG"
    ids, seqs = ["A_1", "B_1", "C_1"], [a, a + "AA", "UUUUUUUUCCCCCCCCAAAAAAAAGGGGGGGG"]
    fold = fold_of_families(ids, seqs, 5)
    assert fold["A_1"] == fold["B_1"] != fold["C_1"]


def test_selection_follows_the_quality_and_keeps_the_own_structure_first() -> None:
    rng = np.random.default_rng(2)
    pool = [Candidate("." * 12, rng.normal(scale=8, size=(12, 3)), "assembly") for _ in range(5)]
    out = select_candidates(pool, 3, SelectConfig(min_rmsd=0.0), np.array([0, 1, 5, 2, 9.0]))
    assert [next(k for k, p in enumerate(pool) if p is c) for c in out] == [0, 4, 2]


def test_shipped_score_verified_and_prefers_the_native_fold() -> None:
    entry = json.loads((WEIGHTS / "manifest.json").read_text()).get("cgscore")
    if entry is None:
        pytest.skip("no cgscore in this weights directory")
    data = (WEIGHTS / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    score = default_cgscore()
    assert score is not None and score.weights.shape == (score.config.n_features,)
    # tRNA-Phe (1ehz, C1′) against the same chain stretched: compact native-like geometry wins
    from rnapredict.io.pdbio import read_structure
    from tests.conftest import shared_path

    st = read_structure(shared_path("data", "structures", "1ehz.cif"))
    x, _ = st.atom_coords("C1'")
    x = x[np.isfinite(x).all(1)]
    seq = "N" * len(x)
    ss = ["." * len(x)] * 2
    stretched = (x - x.mean(0)) * np.array([1.6, 1.0, 1.0])
    both = np.stack([x, stretched])
    learned = score(seq, both, ss)
    assert learned[0] > learned[1]


def test_no_shipped_score_means_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A weights directory whose manifest lists no cgscore has none (selection then falls
    back to compactness); a listed file that was altered is refused."""
    (tmp_path / "manifest.json").write_text("{}")
    monkeypatch.setenv("RNAPREDICT_WEIGHTS", str(tmp_path))
    default_cgscore.cache_clear()
    try:
        assert default_cgscore() is None
        src = json.loads((WEIGHTS / "manifest.json").read_text()).get("cgscore")
        if src is None:
            return
        data = bytearray((WEIGHTS / src["file"]).read_bytes())
        data[-1] ^= 1
        (tmp_path / src["file"]).write_bytes(bytes(data))
        (tmp_path / "manifest.json").write_text(json.dumps({"cgscore": src}))
        default_cgscore.cache_clear()
        with pytest.raises(WeightsError):
            default_cgscore()
    finally:
        default_cgscore.cache_clear()


def test_builder_same_bytes_for_same_data_with_arrangement_decoys() -> None:
    from rnapredict.prior.natives import load_native_chains
    from rnapredict.train.cgscore import CgFitConfig, build
    from tests.conftest import shared_path

    train = load_native_chains(shared_path("data"), ("train",))
    chains = [c for c in train if 50 <= len(c.seq) <= 56][:4]
    cfg = CgFitConfig(structures=2, alternatives=1, folds=2, sampled=2, searched=1, contacts=True)
    a, b = build(chains, cfg), build(chains, cfg)
    assert a.to_bytes() == b.to_bytes()
    meta = dict(a.meta)
    assert meta["n_targets"] == str(2 * len(chains))  # plain pool + arrangements per chain
    assert a.config.contacts and a.weights.shape == (a.config.n_features,)
    assert "searched_with_sha256" in meta


def test_searched_with_note_says_whether_a_rebuild_can_reproduce_the_file() -> None:
    from rnapredict.train.cgscore import searched_with_note

    earlier = b"an earlier score file"
    digest = hashlib.sha256(earlier).hexdigest()
    shipped = CgScore(np.zeros(3), CgFeatureConfig(), (("searched_with_sha256", digest),))
    assert searched_with_note(earlier, shipped).endswith(
        "match the shipped score's searched_with_sha256"
    )
    note = searched_with_note(b"another file", shipped)
    assert f"searched_with_sha256 {digest}: this build will not reproduce" in note


def test_builder_anneals_its_search_decoys_under_the_given_score(tmp_path: Path) -> None:
    """``build(search_weights=FILE)``: the search decoys anneal under FILE's score and meta
    names FILE's sha256; FILE = the shipped score gives the default build's bytes."""
    from rnapredict.prior.natives import load_native_chains
    from rnapredict.train.cgscore import CgFitConfig, arrangement_pool, build
    from tests.conftest import shared_path

    shipped = default_cgscore()
    if shipped is None:
        pytest.skip("no shipped score")
    flipped = CgScore(-shipped.weights, shipped.config, shipped.meta)
    path = tmp_path / "flipped.safetensors"
    path.write_bytes(flipped.to_bytes())
    ss = "a((((a((((....))))a((((....))))aa))))a".replace("a", ".")  # a three-way junction
    seq = ("GGCAUCGCAGAAAUGCGAGCCUGUUCAGGCAAUGCCAU" * 2)[: len(ss)]
    own = arrangement_pool(seq, ss, "rec", None, 0, 3)
    other = arrangement_pool(seq, ss, "rec", None, 0, 3, learned=flipped)
    assert any(not np.array_equal(p.coords, q.coords) for p, q in zip(own, other, strict=False))
    train = load_native_chains(shared_path("data"), ("train",))
    chains = [c for c in train if 50 <= len(c.seq) <= 56][:2]
    cfg = CgFitConfig(structures=1, alternatives=1, folds=2, sampled=0, searched=2)
    default = build(chains, cfg)
    assert (
        build(chains, cfg, search_weights=WEIGHTS / CGSCORE_FILE).to_bytes() == default.to_bytes()
    )
    moved = build(chains, cfg, search_weights=path)
    assert dict(moved.meta)["searched_with_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
