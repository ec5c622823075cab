"""bench.long's diagnostics: per-domain TM and the oracle packing see domains alone (a model
whose domains are the native's moved rigidly scores 1 on both, not on the whole), invariant to
rotating the model; SS recovery counts native pairs and stems."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from bench.long import domain_tm, oracle_packing, ss_recovery, tm


def native() -> np.ndarray:
    """A 120-point compact random walk with 3.8–6 Å steps (Å)."""
    rng = np.random.default_rng(0)
    steps = rng.normal(size=(120, 3))
    steps *= (5.0 / np.linalg.norm(steps, axis=1))[:, None]
    return np.cumsum(steps, axis=0)


def test_domains_moved_rigidly_score_one_alone_not_together() -> None:
    ref = native()
    doms = [(0, 49), (60, 119)]
    model = ref.copy()
    model[0:50] = Rotation.from_euler("xyz", [40, 10, 70], degrees=True).apply(ref[0:50]) + 30
    model[60:120] = Rotation.from_euler("xyz", [-60, 25, 5], degrees=True).apply(ref[60:120]) - 20
    assert tm(model, ref) < 0.6
    assert domain_tm(model, ref, doms) > 0.999
    assert tm(oracle_packing(model, ref, doms), ref) > 0.999
    turned = Rotation.from_euler("xyz", [11, 22, 33], degrees=True).apply(model) + 7.0
    assert abs(domain_tm(turned, ref, doms) - domain_tm(model, ref, doms)) < 1e-9
    np.testing.assert_allclose(
        oracle_packing(turned, ref, doms), oracle_packing(model, ref, doms), atol=1e-6
    )


def test_ss_recovery() -> None:
    native_ss = "((((....))))..((((....))))"
    half = "((((....))))..............."[: len(native_ss)]
    assert ss_recovery(native_ss, native_ss) == (1.0, 1.0)
    assert ss_recovery(native_ss, half) == (0.5, 0.5)
    two_of_four = (
        "..((....))..........(....)"  # stem 1: 2 of 4 pairs (half: kept); (20, 25) not native
    )
    bp, stems = ss_recovery(native_ss, two_of_four)
    assert (bp, stems) == (2 / 8, 0.5)
