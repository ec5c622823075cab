"""How often and how expensively the all-atom stage repairs models (issue 24 speed).

    python -m bench.repair [--seeds 0 1 2 3 4 5] [--length 1000] [-n 5] [--dump DIR]
    python -m bench.repair --replay DIR

Per seed k a fresh process folds the random sequence ``numpy.random.default_rng(k).choice(
list("ACGU"), length)`` (record id ``r<k>``, run seed 0, ``n`` models, shipped weights) with
``Engine.predict`` and reports its wall time, the all-atom stage's (``timing_s.atoms``), the
time inside :func:`rnapredict.pipeline.allatom.c1_models` and, over every sample it built
(replacements included), how many passed the check straight after the clean-up, were repaired
by reverting residues (``reverted``), by rebuilding windows (``window``), by the whole-model
rebuild on a tighter trace (``rebuilt``), or failed (``failed``: replaced by new samples).

``--dump DIR`` saves each ``c1_models`` call's inputs (``r<k>_<call>.npz``); ``--replay DIR``
runs ``c1_models`` again on each and prints its time and outcome, so a change to the repair
can be measured on the very traces that needed it. Set ``OMP_NUM_THREADS=1`` for timings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, time
t_start = time.perf_counter()
import numpy as np
from bench.repair import outcome, recorder
from rnapredict.engine import load_engine
from rnapredict.io.records import Record
from rnapredict.pipeline import allatom
from rnapredict.pipeline.api import FoldOptions
engine = load_engine(None)
seq = "".join(np.random.default_rng({seed}).choice(list("ACGU"), {length}))
calls = recorder(allatom, "r{seed}", {dump!r})
t0 = time.perf_counter()
p = engine.predict(Record("r{seed}", seq), FoldOptions(n_samples={samples}))
wall = time.perf_counter() - t0
notes = [n for c in calls for n in c["notes"]]
passed = [ok for c in calls for ok in c["passed"]]
print(json.dumps({{"seed": {seed}, "wall_s": wall, "startup_s": t0 - t_start,
    "atoms_s": p.extra["timing_s"]["atoms"], "c1_models_s": sum(c["s"] for c in calls),
    **outcome(notes, passed)}}))
"""

#: Outcome columns, in table order.
COLUMNS = ("built", "clean", "reverted", "window", "rebuilt", "failed")


def outcome(notes: list[str | None], passed: list[bool]) -> dict[str, int]:
    """Counts of ``c1_models`` outcomes from its notes and pass flags (see module docstring)."""
    ok = [n for n, p in zip(notes, passed, strict=True) if p]
    return {
        "built": len(notes),
        "clean": sum(n is None for n in ok),
        "reverted": sum(n is not None and "reverted" in n and "rebuilt" not in n for n in ok),
        "window": sum(n is not None and "window" in n for n in ok),
        "rebuilt": sum(n is not None and "tighter trace" in n for n in ok),
        "failed": sum(not p for p in passed),
    }


def recorder(module: object, tag: str, dump: str | None) -> list[dict]:
    """Wrap ``module.c1_models`` to time each call and keep its notes (and, with ``dump``, save
    its inputs there); returns the list the calls are appended to."""
    inner = module.c1_models
    calls: list[dict] = []

    def wrapped(seq, c1, ss, plddt, cleanup=True):  # noqa: ANN001, ANN202
        if dump:
            path = Path(dump) / f"{tag}_{len(calls)}.npz"
            np.savez(path, seq=seq, c1=c1, ss=np.array(ss), plddt=plddt, cleanup=cleanup)
        t0 = time.perf_counter()
        models, notes, passed = inner(seq, c1, ss, plddt, cleanup)
        calls.append({"s": time.perf_counter() - t0, "notes": notes, "passed": passed})
        return models, notes, passed

    module.c1_models = wrapped
    return calls


def replay(folder: Path) -> None:
    """Run ``c1_models`` on every dumped call in ``folder`` and print time and outcome."""
    from rnapredict.pipeline.allatom import c1_models

    print(f"{'call':<12} {'s':>7} " + " ".join(f"{c:>8}" for c in COLUMNS))
    total = 0.0
    for path in sorted(folder.glob("*.npz")):
        z = np.load(path)
        t0 = time.perf_counter()
        _, notes, passed = c1_models(
            str(z["seq"]), z["c1"].copy(), [str(s) for s in z["ss"]], z["plddt"],
            bool(z["cleanup"]),
        )  # fmt: skip
        dt = time.perf_counter() - t0
        total += dt
        row = outcome(notes, passed)
        print(f"{path.stem:<12} {dt:>7.2f} " + " ".join(f"{row[c]:>8}" for c in COLUMNS))
        for n in notes:
            if n:
                print(f"    {n}")
    print(f"total {total:.2f} s")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    p.add_argument("--length", type=int, default=1000)
    p.add_argument("-n", "--samples", type=int, default=5)
    p.add_argument("--dump", type=Path, default=None)
    p.add_argument("--replay", type=Path, default=None)
    a = p.parse_args(argv)
    if a.replay:
        replay(a.replay)
        return
    if a.dump:
        a.dump.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    print(f"{'seed':>4} {'wall s':>7} {'atoms s':>8} {'c1_models s':>11} "
          + " ".join(f"{c:>8}" for c in COLUMNS))  # fmt: skip
    for k in a.seeds:
        code = CHILD.format(
            seed=k, length=a.length, samples=a.samples, dump=str(a.dump) if a.dump else None
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
        )
        if out.returncode != 0:
            print(f"{k:>4} failed: {out.stderr.strip().splitlines()[-1:]}", flush=True)
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{k:>4} {r['wall_s']:>7.1f} {r['atoms_s']:>8.1f} {r['c1_models_s']:>11.1f} "
              + " ".join(f"{r[c]:>8}" for c in COLUMNS), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
