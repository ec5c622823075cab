"""Pulling pseudoknot pairs together and restoring the backbone (rnapredict.prior.pseudoknot)."""

from __future__ import annotations

import numpy as np

from rnapredict.prior.pseudoknot import MAX_STEP, PAIR, pull_pseudoknots


def _steps(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.diff(x, axis=0), axis=-1)


def test_pairs_close_to_a_base_pair_and_steps_stay_within_their_limit() -> None:
    """A hairpin-like strand with two pseudoknot pairs 40 Å apart: the movable loop brings them
    to about a base pair's C1′–C1′ distance while every step keeps ≤ 6.5 Å; fixed residues
    do not move."""
    t = np.linspace(0.0, np.pi, 60)
    x = np.stack([40.0 * np.cos(t), 40.0 * np.sin(t), np.zeros_like(t)], 1)  # arc, steps ≈ 2.1 Å
    movable = np.ones(60, dtype=bool)
    movable[:5] = movable[-5:] = False
    pk = np.array([[10, 50], [11, 49]])
    y = pull_pseudoknots(x, pk, movable)
    d = np.linalg.norm(y[pk[:, 0]] - y[pk[:, 1]], axis=-1)
    assert np.linalg.norm(x[pk[:, 0]] - x[pk[:, 1]], axis=-1).min() > 60.0
    assert (d < PAIR + 3.0).all(), d
    assert (_steps(y) <= MAX_STEP + 0.02).all()  # stops once every excess is < 0.01 Å
    assert np.array_equal(y[~movable], x[~movable])


def test_a_step_that_cannot_close_does_not_stop_the_rest_from_closing() -> None:
    """Two movable stretches: one pinned between fixed residues 150 Å apart (10 steps of at
    most 6.5 Å cannot span it), one stretched 3× between ends that allow it. The final passes
    stop early on the pinned one (it stalls) but only once the other is within its limit."""
    a = np.zeros((12, 3))
    a[:, 0] = np.linspace(0.0, 150.0, 12)  # pinned: ends fixed 150 Å apart
    b = np.zeros((30, 3))
    b[:, 0] = 200.0 + np.linspace(0.0, 60.0, 30)  # 29 steps of 2.07 Å
    b[15:, 0] += 100.0  # one 102-Å gap in the middle; ends 160 Å apart, 29 × 6.5 = 188 Å
    x = np.concatenate([a, b])
    movable = np.ones(len(x), dtype=bool)
    movable[[0, 11, 12, len(x) - 1]] = False
    step_max = np.full(len(x) - 1, MAX_STEP)
    step_max[11] = 1e3  # the link between the stretches is free
    y = pull_pseudoknots(x, np.zeros((0, 2), dtype=np.int64), movable, step_max=step_max)
    s = _steps(y)
    assert s[:11].max() > MAX_STEP + 1.0  # the pinned stretch cannot close
    assert (s[12:] <= MAX_STEP + 0.05).all(), s[12:].max()  # the other one did
    assert np.array_equal(y[~movable], x[~movable])
