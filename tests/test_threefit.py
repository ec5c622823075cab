"""The numpy three-fit TM sum equals the compiled ``get_score_fast`` on the identity alignment,
and the ranking no longer loads numba."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from rnapredict.score.fastfit import score_fast
from rnapredict.score.threefit import three_fit_tm_sum
from rnapredict.score.tmsearch import d0_rna, d0_search_of


def _pair(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    y = np.cumsum(rng.normal(0, 3.5, (n, 3)), axis=0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    x = (y + rng.normal(0, noise, (n, 3))) @ q.T + rng.normal(0, 20, 3)
    # a displaced domain: the second and third fits then select a subset
    x[n // 2 :] += rng.normal(0, noise * 2, 3)
    return x, y


@pytest.mark.parametrize("n", [2, 3, 8, 40, 157])
@pytest.mark.parametrize("noise", [0.0, 1.0, 6.0])
def test_equals_compiled_score_fast(n: int, noise: float) -> None:
    rng = np.random.default_rng(n * 10 + int(noise))
    for _ in range(5):
        x, y = _pair(rng, n, noise)
        d0 = d0_rna(n)
        want = score_fast(x, y, np.arange(n), d0, d0_search_of(d0))
        got = three_fit_tm_sum(x, y, d0, d0_search_of(d0))
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_rigid_copy_scores_full_length() -> None:
    rng = np.random.default_rng(3)
    x, y = _pair(rng, 60, 0.0)
    x = y @ np.linalg.qr(rng.normal(size=(3, 3)))[0].T  # no displaced domain
    assert three_fit_tm_sum(x, y, 3.0, 4.5) == pytest.approx(60.0, abs=1e-6)


def test_ranking_does_not_load_numba() -> None:
    code = (
        "import sys, numpy as np\n"
        "from rnapredict.pipeline.rank import agreement\n"
        "agreement(np.random.default_rng(0).normal(0, 10, (3, 30, 3)))\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
