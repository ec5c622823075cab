"""TM-align dynamic programming: compiled kernels equal a direct port of US-align's NWDP_TM."""

from __future__ import annotations

import numpy as np
import pytest

from rnapredict.score.dp import DPWorkspace, nw_score, nw_tm


def reference_nw(score: np.ndarray, gap: float) -> np.ndarray:
    """US-align NW.h NWDP_TM, full value matrix and recomputed traceback (plain Python)."""
    len1, len2 = score.shape
    val = np.zeros((len1 + 1, len2 + 1))
    path = np.zeros((len1 + 1, len2 + 1), dtype=bool)
    for i in range(1, len1 + 1):
        for j in range(1, len2 + 1):
            d = val[i - 1, j - 1] + score[i - 1, j - 1]
            h = val[i - 1, j] + (gap if path[i - 1, j] else 0.0)
            v = val[i, j - 1] + (gap if path[i, j - 1] else 0.0)
            if d >= h and d >= v:
                path[i, j], val[i, j] = True, d
            else:
                val[i, j] = v if v >= h else h
    j2i = np.full(len2, -1)
    i, j = len1, len2
    while i > 0 and j > 0:
        if path[i, j]:
            j2i[j - 1] = i - 1
            i, j = i - 1, j - 1
        else:
            h = val[i - 1, j] + (gap if path[i - 1, j] else 0.0)
            v = val[i, j - 1] + (gap if path[i, j - 1] else 0.0)
            if v >= h:
                j -= 1
            else:
                i -= 1
    return j2i


@pytest.mark.parametrize("seed", range(6))
def test_score_matrix_dp_equals_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(3, 40, size=2))
    # integer scores (like the secondary-structure seed) make many ties
    score = rng.integers(0, 2, size=shape).astype(float)
    for gap in (-1.0, -0.6, 0.0):
        np.testing.assert_array_equal(nw_score(score, gap), reference_nw(score, gap))
    real = rng.random(shape)
    np.testing.assert_array_equal(nw_score(real, -0.6), reference_nw(real, -0.6))


def test_tm_dp_equals_reference_and_reuses_workspace() -> None:
    rng = np.random.default_rng(7)
    x = np.cumsum(rng.normal(size=(35, 3)) * 3, axis=0)
    y = np.concatenate([x[5:30] + rng.normal(scale=1.0, size=(25, 3)), rng.normal(size=(4, 3))])
    ws = DPWorkspace(len(x), len(y))
    for d02, gap in ((9.0, -0.6), (4.0, 0.0), (16.0, -1.0)):
        d2 = np.sum((x[:, None] - y[None]) ** 2, axis=-1)
        want = reference_nw(1.0 / (1.0 + d2 / d02), gap)
        np.testing.assert_array_equal(nw_tm(x, y, d02, gap, ws), want)
    assert (nw_tm(x, y, 9.0, -0.6)[:25] == np.arange(5, 30)).mean() > 0.8


def test_tm_dp_with_secondary_structure_bonus_equals_reference() -> None:
    rng = np.random.default_rng(8)
    x = np.cumsum(rng.normal(size=(30, 3)) * 3, axis=0)
    y = x[::-1] + rng.normal(scale=2.0, size=x.shape)
    secx = rng.choice(np.frombuffer(b".<>", dtype=np.uint8), size=30)
    secy = rng.choice(np.frombuffer(b".<>", dtype=np.uint8), size=30)
    d2 = np.sum((x[:, None] - y[None]) ** 2, axis=-1)
    score = 1.0 / (1.0 + d2 / 20.0) + 0.5 * (secx[:, None] == secy[None, :])
    got = nw_tm(x, y, 20.0, -1.0, sec=(secx, secy), bonus=0.5)
    np.testing.assert_array_equal(got, reference_nw(score, -1.0))
    ss = (secx[:, None] == secy[None, :]).astype(np.uint8)
    np.testing.assert_array_equal(nw_score(ss, -1.0), reference_nw(ss.astype(float), -1.0))
