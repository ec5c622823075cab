"""Time per model–reference pair of `rnapredict score`'s TM-score, by length and mode.

Pairs are synthetic: a chain of A-form-like helical segments (C3' trace, rise 2.8 Å, twist
32.7°, radius 8.7 Å) whose direction changes every 20 nt, and a model made from it by a
random rigid motion plus Gaussian noise (σ Å per coordinate). Prints a table:

    python -m bench.score                      # 100, 1000, 5000 nt; index + structure
    python -m bench.score --lengths 100 1000 --noise 1.5 3 --repeat 3
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

from rnapredict.score.tmalign import tm_align
from rnapredict.score.tmscore import tm_fixed_alignment


def synthetic_chain(n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, 3] C3'-like trace of helical segments joined at random angles (Å)."""
    out = np.zeros((n, 3))
    pos, frame = np.zeros(3), np.eye(3)
    for start in range(0, n, 20):
        k = np.arange(min(20, n - start))
        t = np.radians(32.7) * k
        local = np.stack([8.7 * np.cos(t), 8.7 * np.sin(t), 2.8 * k], axis=1)
        out[start : start + len(k)] = pos + local @ frame.T
        pos = out[start + len(k) - 1] + frame[:, 2] * 6.0
        q, _ = np.linalg.qr(frame + rng.normal(scale=0.6, size=(3, 3)))
        frame = q * np.sign(np.linalg.det(q))
    return out


def model_of(ref: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    return (ref + rng.normal(scale=noise, size=ref.shape)) @ q.T + rng.normal(scale=20, size=3)


def best_time(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[100, 1000, 5000])
    ap.add_argument("--noise", type=float, nargs="+", default=[1.5])
    ap.add_argument("--modes", nargs="+", default=["index", "structure"])
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    if "structure" in args.modes:  # compile / load the numba DP once, outside the timings
        tiny = synthetic_chain(12, rng)
        tm_align(tiny, tiny, "A" * 12, "A" * 12)
    print(f"{'length':>7} {'noise':>6} {'mode':>10} {'seconds':>9} {'TM':>7} {'aligned':>8}")
    for n in args.lengths:
        ref = synthetic_chain(n, rng)
        seq = "".join(rng.choice(list("ACGU"), size=n))
        for noise in args.noise:
            model = model_of(ref, noise, rng)
            for mode in args.modes:
                if mode == "index":
                    pairs = np.stack([np.arange(n)] * 2, axis=1)
                    call = partial(tm_fixed_alignment, model, ref, pairs)
                else:
                    call = partial(tm_align, model, ref, seq, seq)
                secs, res = best_time(call, args.repeat)
                print(
                    f"{n:>7} {noise:>6.1f} {mode:>10} {secs:>9.3f} {res.tm_ref:>7.4f} "
                    f"{res.aligned:>8}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
