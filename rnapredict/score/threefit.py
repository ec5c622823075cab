"""US-align's ``get_score_fast`` on the identity alignment, in numpy.

Three successive Kabsch fits (all pairs; pairs within max(d0_search², third-smallest d²);
within max(d0_search² + 1, third-smallest d² of the second fit)) rated by the TM-score sum.
The same numbers as :func:`rnapredict.score.fastfit.score_fast` with ``y2x = arange(L)``, for
callers that make a handful of fits (the ranking's consensus: 10 pairs of 5 models) and
should not load numba or pay its first-run compile (about 10 s on a fresh install).
"""

from __future__ import annotations

import numpy as np

from rnapredict.score.superpose import kabsch


def _fit_sq(x: np.ndarray, y: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """[L] squared distances (Å²) of x [L, 3] to y [L, 3] after the Kabsch fit of ``x[sel]``."""
    r, t = kabsch(x[sel], y[sel])
    return ((x @ r.T + t - y) ** 2).sum(-1)


def three_fit_tm_sum(x: np.ndarray, y: np.ndarray, d0: float, d0_search: float) -> float:
    """TM-score sum (divide by the normalising length) of model x [L, 3] on reference y [L, 3]
    (Å, residue k to residue k), the best of US-align's three successive fits."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n == 0:
        return 0.0
    d02 = d0 * d0

    def tm_sum(dis: np.ndarray) -> float:
        return float((1.0 / (1.0 + dis / d02)).sum())

    dis = _fit_sq(x, y, np.ones(n, dtype=bool))
    tm = tm_sum(dis)
    if n < 3:
        return tm
    base = d0_search * d0_search
    sel = dis <= max(base, np.sort(dis)[2])
    if sel.all():
        return tm  # nothing left out: US-align skips both refits
    dis1 = _fit_sq(x, y, sel)
    sel = dis1 <= max(base + 1.0, np.sort(dis1)[2])
    return max(tm, tm_sum(dis1), tm_sum(_fit_sq(x, y, sel)))
