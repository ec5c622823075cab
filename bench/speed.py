"""Speed and memory of ``Engine.predict`` per sequence length (one subprocess per length).

    python -m bench.speed [--lengths 50 100 ... 4000] [-n 5] [--steps N] [--weights DIR]
        [--whole] [--threads N]

``--whole``: the whole process instead — ``rnapredict fold`` (model check, repair, writing)
run in a fresh process per length as the console script runs it (thread pools sized and
OpenMP workers set to sleep when idle before torch loads: ``rnapredict.threads``; without that,
spinning workers made a 100-nt fold 27–65 s instead of 7–9 s on a loaded 2-core machine; the
CLI's thread count is ``--threads``, default the CPUs the job has, not ``OMP_NUM_THREADS``),
its wall time from start-up to exit, its peak RSS, the
record's status and how many of the written models the engine had to repair, of them how many
by rebuilding windows (``geometry.window``) and how many by a whole rebuild on a tighter trace.

For each L a fresh Python process folds one random sequence (seeded) with ViennaRNA MFE SS and
S samples, reporting wall time (split into SS + candidates / sampling / all-atom build) and its
own peak RSS (``ru_maxrss``). Then log-log slopes of time and RSS between consecutive lengths and between
500 and 4,000 nt. Without released weights it uses a random-initialised network of the
released size (same cost). Torch uses its default thread count unless ``--threads``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
t_start = time.perf_counter()
import numpy as np, torch
if {threads} > 0:
    torch.set_num_threads({threads})
from rnapredict.pipeline.api import FoldOptions
from rnapredict.io.records import Record
from rnapredict.errors import WeightsError
from rnapredict.engine import load_engine
try:
    engine = load_engine({weights!r})
    version = engine.model_version
except WeightsError:
    from rnapredict.engine.engine import FoldEngine
    from rnapredict.model.network import RnaFoldNet
    from rnapredict.model.presets import SMALL_MODEL
    engine, version = FoldEngine(RnaFoldNet(SMALL_MODEL), "random-small"), "random-small"
rng = np.random.default_rng({length})
seq = "".join(rng.choice(list("ACGU"), {length}))
t0 = time.perf_counter()
p = engine.predict(Record("bench", seq), FoldOptions(n_samples={samples}, steps={steps}))
wall = time.perf_counter() - t0
print(json.dumps({{"length": {length}, "wall_s": wall, "timing": p.extra["timing_s"],
    "startup_s": t0 - t_start, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "version": version, "threads": torch.get_num_threads()}}))
"""


WHOLE = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
t_start = time.perf_counter()
tmp = Path(tempfile.mkdtemp(prefix="rnapredict-speed-"))
args = ["fold", str(tmp / "in.fa"), "-o", str(tmp / "out"), "-n", "{samples}", "--seed", "0", "-q"]
if {threads} > 0:
    args += ["--threads", "{threads}"]
if {weights!r} is not None:
    args += ["--weights", {weights!r}]
from rnapredict.threads import configure_environment
configure_environment(args)  # as the console script does, before numpy / torch load
import numpy as np
rng = np.random.default_rng({length})
seq = "".join(rng.choice(list("ACGU"), {length}))
(tmp / "in.fa").write_text(f">bench\n{{seq}}\n")
from rnapredict.cli import app
try:
    app(args, standalone_mode=False)
    rc = 0
except SystemExit as exc:
    rc = exc.code if isinstance(exc.code, int) else 1
wall = time.perf_counter() - t_start
row = (tmp / "out" / "summary.tsv").read_text().splitlines()
status = dict(zip(row[0].split("\t"), row[1].split("\t")))["status"] if len(row) > 1 else "-"
doc = json.loads((tmp / "out" / "bench" / "confidence.json").read_text()) if status == "ok" else {{}}
notes = [m.get("prior", {{}}).get("geometry", "") for m in doc.get("models", [])]
print(json.dumps({{"length": {length}, "wall_s": wall, "rc": rc, "status": status,
    "models": len(notes), "repaired": sum("reverted" in n or "rebuilt" in n for n in notes),
    "window": sum("window" in n for n in notes), "rebuilt": sum("tighter trace" in n for n in notes),
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run_one(
    length: int,
    samples: int,
    steps: int | None,
    weights: str | None,
    threads: int,
    whole: bool = False,
) -> dict:
    code = (WHOLE if whole else CHILD).format(
        length=length,
        samples=samples,
        steps=steps,
        weights=weights,
        threads=threads,
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # the child imports this tree's rnapredict
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    if out.returncode != 0:
        return {"length": length, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def slope(a: dict, b: dict, key: str) -> float:
    return math.log(b[key] / a[key]) / math.log(b["length"] / a["length"])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--lengths", type=int, nargs="+", default=[50, 100, 200, 500, 1000, 2000, 4000])
    p.add_argument("-n", "--samples", type=int, default=5)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    p.add_argument("--whole", action="store_true", help="time the whole `rnapredict fold`")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    rows = []
    if a.whole:
        whole(a)
        return
    print(f"{'L':>6} {'wall s':>8} {'prior s':>7} {'sample s':>9} {'atoms s':>8} {'RSS MB':>8}")
    for n in a.lengths:
        r = run_one(n, a.samples, a.steps, a.weights, a.threads)
        rows.append(r)
        if "error" in r:
            print(f"{n:>6} failed: {r['error']}")
            continue
        t = r["timing"]
        print(f"{n:>6} {r['wall_s']:>8.2f} {t['prior']:>7.2f} {t['sample']:>9.2f} {t['atoms']:>8.2f}"
              f" {r['rss_mb']:>8.0f}", flush=True)  # fmt: skip
    ok = [r for r in rows if "error" not in r]
    print("\nlog-log slopes (time, RSS):")
    for x, y in zip(ok, ok[1:], strict=False):
        print(
            f"  {x['length']:>5} → {y['length']:<5} time {slope(x, y, 'wall_s'):.2f}"
            f"  RSS {slope(x, y, 'rss_mb'):.2f}"
        )
    ends = {r["length"]: r for r in ok}
    if 500 in ends and 4000 in ends:
        print(
            f"  500 → 4000 time {slope(ends[500], ends[4000], 'wall_s'):.2f}"
            f"  RSS {slope(ends[500], ends[4000], 'rss_mb'):.2f}"
        )
    if ok:
        print(f"model {ok[0]['version']}, {a.samples} samples, threads {ok[0]['threads']}")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


def whole(a: argparse.Namespace) -> None:
    """The ``--whole`` table: one ``rnapredict fold`` process per length."""
    print(f"{'L':>6} {'wall s':>8} {'RSS MB':>8} {'status':>8} {'models':>7} {'repaired':>9}"
          f" {'window':>7} {'rebuilt':>8}")  # fmt: skip
    rows = []
    for n in a.lengths:
        r = run_one(n, a.samples, a.steps, a.weights, a.threads, whole=True)
        rows.append(r)
        if "error" in r:
            print(f"{n:>6} failed: {r['error']}")
            continue
        print(f"{n:>6} {r['wall_s']:>8.1f} {r['rss_mb']:>8.0f} {r['status']:>8} {r['models']:>7}"
              f" {r['repaired']:>9} {r['window']:>7} {r['rebuilt']:>8}", flush=True)  # fmt: skip
    ok = [r for r in rows if "error" not in r]
    for x, y in zip(ok, ok[1:], strict=False):
        print(
            f"  {x['length']:>5} → {y['length']:<5} time {slope(x, y, 'wall_s'):.2f}"
            f"  RSS {slope(x, y, 'rss_mb'):.2f}"
        )
    print(f"whole process, {a.samples} samples, threads {a.threads or 'default'}")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
