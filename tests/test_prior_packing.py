"""Helix packing at loops: axis angles of ideal stems placed at known angles, coaxial bulges,
invariance to rigid motion, histogram bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from rnapredict.geometry.aform import aform_c1
from rnapredict.prior.motifs import apply, stem_local
from rnapredict.prior.packing import N_FEATURES, end_pairs, geometry, packing_histogram

#: Two 4-pair hairpins side by side in the exterior loop (one helix-end pair, class 1).
SS2 = "((((....))))((((....))))"


def two_stems(theta: float, shift: float = 25.0) -> np.ndarray:
    """C1′ [24, 3] of SS2: stem 1 at the origin frame, stem 2 turned by ``theta`` about x and
    moved ``shift`` Å along x; hairpin loops on a straight line across each stem's end."""
    x = np.zeros((24, 3))
    c, s = np.cos(theta), np.sin(theta)
    g2 = np.eye(4)
    g2[:3, :3] = [[1, 0, 0], [0, c, -s], [0, s, c]]
    g2[0, 3] = shift
    for start, g in ((0, np.eye(4)), (12, g2)):
        pts = apply(g, stem_local(4))  # [4, 2, 3]
        x[start : start + 4] = pts[:, 0]
        x[start + 8 : start + 12] = pts[::-1, 1]
        a, b = pts[3, 0], pts[3, 1]
        for k in range(4):
            x[start + 4 + k] = a + (b - a) * (k + 1) / 5
    return x


@pytest.mark.parametrize("theta_deg", [0.0, 60.0, 90.0, 135.0, 180.0])
def test_axis_cosine_of_stems_at_known_angles(theta_deg: float) -> None:
    cos, dist, cls = geometry(two_stems(np.radians(theta_deg)), SS2)
    assert cls.tolist() == [1]
    assert cos[0] == pytest.approx(np.cos(np.radians(theta_deg)), abs=1e-9)
    assert dist[0] > 15.0


def test_bulge_in_a_continuous_helix_is_a_near_coaxial_stack() -> None:
    ss = "(((((((((((....))))).))))))"
    cos, dist, cls = geometry(aform_c1("G" * len(ss), ss), ss)
    assert cls.tolist() == [0]  # one internal-class pair, not counted twice
    assert cos[0] < -0.8 and dist[0] < 9.0
    h = packing_histogram(aform_c1("G" * len(ss), ss), ss)
    assert h.shape == (N_FEATURES,) and h.sum() == pytest.approx(1.0) and h[0] == 1.0


def test_invariant_to_rigid_motion_and_blind_to_lone_pairs() -> None:
    x = two_stems(np.radians(70.0)) + np.random.default_rng(0).normal(0, 0.3, (24, 3))
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    moved = x @ q.T + np.array([3.0, -7.0, 11.0])
    np.testing.assert_allclose(geometry(x, SS2)[0], geometry(moved, SS2)[0], atol=1e-9)
    np.testing.assert_allclose(geometry(x, SS2)[1], geometry(moved, SS2)[1], atol=1e-9)
    assert len(end_pairs("(...)(...)")[0]) == 0  # lone pairs have no axis
    assert packing_histogram(np.zeros((10, 3)), "(...)(...)").sum() == 0.0
