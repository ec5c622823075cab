"""Speed of the geometry builders on CPU: prints a table.

torsions -> all atoms (``torsions_to_atoms``) and C1′ trace -> all atoms (``c1_to_atoms``)
for 1,000 and 10,000 nt x 5 models, float32, torch.no_grad, 2 threads; plus atoms ->
torsions and the A-form baseline trace (``aform_c1``).

Usage: python -m bench.geometry [--repeat N] [--threads T]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import torch

from rnapredict.geometry.aform import aform_c1, layout_pairs
from rnapredict.geometry.from_c1 import c1_to_atoms
from rnapredict.geometry.helix import aform_torsions
from rnapredict.geometry.nerf import torsions_to_atoms
from rnapredict.geometry.torsions import atoms_to_torsions

SAMPLES = 5


def _time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (template caches)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _hairpins(n: int) -> str:
    unit = "((((((((....))))))))...."  # 24 nt: 8-bp stem, tetraloop, linker
    return (unit * (n // len(unit) + 1))[:n].replace("(", ".", 0)


def main(argv: list[str]) -> None:
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 3
    threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 2
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    print(f"threads={torch.get_num_threads()}  samples={SAMPLES}  dtype=float32  best of {repeat}")
    print(f"{'operation':36s} {'L':>6s} {'S':>3s} {'seconds':>9s} {'s per 1000 nt':>14s}")
    for n in (1000, 10000):
        seq = "".join(rng.choice(list("ACGU"), n))
        db = _hairpins(n)
        db = db[: n - (n % 24)] + "." * (n % 24)
        tors = aform_torsions(n, torch.float32).expand(SAMPLES, n, -1).clone()
        tors += torch.randn(tors.shape, generator=torch.Generator().manual_seed(0)) * 0.1
        c1 = torch.from_numpy(aform_c1(seq, db)).float()
        c1 = c1 + torch.randn(SAMPLES, n, 3, generator=torch.Generator().manual_seed(1)) * 0.5
        partner = torch.from_numpy(layout_pairs(db))
        with torch.no_grad():
            atoms, mask = torsions_to_atoms(seq, tors)
            rows = [
                ("torsions_to_atoms", partial(torsions_to_atoms, seq, tors), SAMPLES),
                ("c1_to_atoms", partial(c1_to_atoms, seq, c1, partner), SAMPLES),
                ("atoms_to_torsions", partial(atoms_to_torsions, seq, atoms, mask), SAMPLES),
                ("aform_c1 (numpy, one model)", partial(aform_c1, seq, db), 1),
            ]
            for name, fn, s in rows:
                sec = _time(fn, repeat)
                print(f"{name:36s} {n:6d} {s:3d} {sec:9.3f} {sec / n * 1000:14.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
