"""The coarse-grained score's pair histograms: the neighbour-list count (O(L) at long L) equals
the all-pairs count it replaced, bin for bin, and is invariant under rigid motion."""

from __future__ import annotations

import numpy as np
import pytest

from rnapredict.prior.cgscore import DEFAULT_FEATURES, histograms


def _all_pairs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cfg = DEFAULT_FEATURES
    s, n = x.shape[:2]
    i, j = np.triu_indices(n, cfg.min_sep)
    sep = np.searchsorted(np.asarray(cfg.sep_edges), j - i, side="right") - 1
    size = len(cfg.sep_edges) * cfg.n_bins
    pair, coord = np.zeros((s, size)), np.zeros((s, cfg.coord_max + 1))
    for k, one in enumerate(x):
        d = np.linalg.norm(one[i] - one[j], axis=-1)
        ok = d < cfg.max_dist
        idx = sep[ok] * cfg.n_bins + (d[ok] / cfg.bin_width).astype(np.int64)
        pair[k] = np.bincount(idx, minlength=size)
        near = d < cfg.coord_radius
        per_res = np.bincount(i[near], minlength=n) + np.bincount(j[near], minlength=n)
        coord[k] = np.bincount(np.minimum(per_res, cfg.coord_max), minlength=cfg.coord_max + 1)
    return pair, coord


def _chains(n: int, seed: int) -> np.ndarray:
    """[3, n, 3] random walks with 5.9 Å steps, one of them folded compact."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(size=(3, n, 3))
    steps *= 5.9 / np.linalg.norm(steps, axis=-1, keepdims=True)
    x = np.cumsum(steps, axis=1)
    x[2] *= 0.3  # compact: many pairs inside every distance bin
    return x


@pytest.mark.parametrize("n", [2, 4, 37, 600])
def test_neighbour_list_histograms_equal_all_pairs(n: int) -> None:
    x = _chains(n, seed=n)
    pair, coord = histograms(x)
    want_pair, want_coord = _all_pairs(x)
    np.testing.assert_array_equal(pair, want_pair)
    np.testing.assert_array_equal(coord, want_coord)
    if n >= 37:
        assert pair[2].sum() > 10 * n  # the compact chain fills the bins


def test_histograms_invariant_under_rigid_motion() -> None:
    x = _chains(300, seed=1)
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))
    moved = x @ q.T + np.array([40.0, -12.0, 7.0])
    a, b = histograms(x), histograms(moved)
    # a distance exactly on a bin edge may round either way after the motion: ≤ 0.1 % of pairs
    assert np.abs(a[0] - b[0]).sum() <= 1e-3 * a[0].sum()
    assert np.abs(a[1] - b[1]).sum() <= 2
