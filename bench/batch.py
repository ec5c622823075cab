"""Batch throughput of ``rnapredict fold``: sequences per hour on this machine.

Folds ``--records`` random sequences of ``--length`` nt through the full batch pipeline
(:func:`rnapredict.fold.fold_inputs`: reading, folding, writing models, confidence.json,
summary.tsv) and prints a table: wall time, sequences/hour, seconds per record (all, and
inside the engine: the difference is the pipeline's own cost), CPU seconds per record and the
throughput they imply with every core free (shared machines: wall time depends on the load),
engine load time, peak RSS.

    python -m bench.batch                       # shipped weights, 200 × 100 nt, 5 models
    python -m bench.batch --engine tiny         # random-init tiny model (no weights needed)
    python -m bench.batch --engine small-random # the released model's size, random weights
    python -m bench.batch --engine stub         # stand-in engine: pipeline overhead only
    python -m bench.batch --threads 1 --procs 2 # also: 2 shard processes × 1 thread each

Length-sorted grouping of records into one engine call is measured only when the engine
offers ``predict_batch(records, options)``; the v1 engine folds one record at a time (its
ensemble is already batched over samples), so the table says ``n/a`` for it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


class TimedEngine:
    """Wraps an engine to measure the time spent inside ``predict``."""

    def __init__(self, engine: object) -> None:
        self.engine = engine
        self.seconds = 0.0
        self.calls = 0

    def predict(self, record, options):  # noqa: ANN001, ANN201  (Engine protocol)
        t0 = time.perf_counter()
        try:
            return self.engine.predict(record, options)
        finally:
            self.seconds += time.perf_counter() - t0
            self.calls += 1


def make_engine(kind: str, device: str) -> object:
    if kind == "stub":
        from tests.test_fold_support import StubEngine  # run from the repository root

        return StubEngine()
    if kind == "tiny":
        from rnapredict.engine import tiny_engine

        return tiny_engine(seed=0)
    if kind == "small-random":  # the released model's size before its weights exist
        import torch

        from rnapredict.engine.engine import FoldEngine
        from rnapredict.model.network import RnaFoldNet
        from rnapredict.model.presets import SMALL_MODEL

        torch.manual_seed(0)
        return FoldEngine(RnaFoldNet(SMALL_MODEL), "small-random", device)
    from rnapredict.engine import load_engine

    return load_engine(None, device=device)


def write_inputs(path: Path, n: int, length: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        for k in range(n):
            fh.write(f">bench{k:05d}\n{''.join(rng.choice(list('ACGU'), size=length))}\n")


def run_batch(args: argparse.Namespace, fasta: Path, out: Path, shard: str) -> dict:
    """Fold ``fasta`` (one shard of it) in this process; return the figures."""
    import torch

    from rnapredict.fold import FoldRunOptions, fold_inputs
    from rnapredict.fold.shard import parse_shard

    torch.set_num_threads(args.threads)
    t_load = time.perf_counter()
    engine = TimedEngine(make_engine(args.engine, args.device))
    t_load = time.perf_counter() - t_load
    options = FoldRunOptions(
        n_samples=args.samples, steps=args.steps, device=args.device, shard=parse_shard(shard)
    )
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    result = fold_inputs([fasta], out, options, engine=engine)
    return {
        "cpu": time.process_time() - cpu0,
        "ok": result.ok,
        "failed": result.failed,
        "total": result.total,
        "wall": time.perf_counter() - t0,
        "load": t_load,
        "engine": engine.seconds,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "batch_api": hasattr(engine.engine, "predict_batch"),
    }


def run_procs(args: argparse.Namespace, fasta: Path, out: Path, procs: int) -> dict:
    """``procs`` shard processes side by side (``--threads`` each), like a SLURM array on one
    node; wall time includes every worker's start-up and engine load."""
    cmd = [sys.executable, __file__, "--engine", args.engine, "-n", str(args.samples)]
    cmd += ["--threads", str(args.threads), "--device", args.device]
    if args.steps:
        cmd += ["--steps", str(args.steps)]
    t0 = time.perf_counter()
    workers = [
        subprocess.Popen(
            [*cmd, "--worker", f"{i}/{procs}", str(fasta), str(out)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(1, procs + 1)
    ]
    stats = [json.loads(w.communicate()[0].splitlines()[-1]) for w in workers]
    wall = time.perf_counter() - t0
    return {
        "ok": sum(s["ok"] for s in stats),
        "failed": sum(s["failed"] for s in stats),
        "total": sum(s["total"] for s in stats),
        "wall": wall,
        "cpu": sum(s["cpu"] for s in stats),
        "load": max(s["load"] for s in stats),
        "engine": sum(s["engine"] for s in stats),
        "rss_mib": max(s["rss_mib"] for s in stats),
        "batch_api": stats[0]["batch_api"],
    }


def row(label: str, s: dict) -> str:
    n = max(s["total"], 1)
    per_hour = s["ok"] / s["wall"] * 3600 if s["wall"] > 0 else float("nan")
    return (
        f"| {label} | {s['ok']} | {s['failed']} | {s['wall']:.1f} | {per_hour:,.0f} | "
        f"{s['wall'] / n:.3f} | {s['engine'] / n:.3f} | {s['cpu'] / n:.2f} | "
        f"{3600 * (os.cpu_count() or 1) / max(s['cpu'] / n, 1e-9):,.0f} | "
        f"{s['load']:.1f} | {s['rss_mib']:.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("-n", "--samples", type=int, default=5)
    ap.add_argument("--steps", type=int, default=None, help="diffusion steps (engine default)")
    ap.add_argument("--engine", choices=("real", "tiny", "small-random", "stub"), default="real")
    ap.add_argument("--threads", type=int, default=2, help="torch threads per process")
    ap.add_argument(
        "--procs", type=int, default=0, help="also run this many shard processes side by side"
    )
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--worker", nargs=3, metavar=("SHARD", "FASTA", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:  # one shard of a --procs run: print figures as JSON for the parent
        shard, fasta, out = args.worker
        print(json.dumps(run_batch(args, Path(fasta), Path(out), shard)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="rnapredict-bench-"))
    try:
        fasta = work / "in.fa"
        write_inputs(fasta, args.records, args.length, seed=0)
        rows = [("1 process", run_batch(args, fasta, work / "single", "1/1"))]
        if args.procs > 1:
            label = f"{args.procs} shard processes"
            rows.append((label, run_procs(args, fasta, work / "procs", args.procs)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"# engine={args.engine} records={args.records} length={args.length} "
        f"samples={args.samples} steps={args.steps or 'default'} threads/process={args.threads} "
        f"cpus={os.cpu_count()}"
    )
    print(
        "| run | ok | failed | wall s | seq/hour | s/record | engine s/record | CPU s/record "
        "| seq/hour if all cores free | load s | peak RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, stats in rows:
        print(row(label, stats))
    if not rows[0][1]["batch_api"]:
        print("length-sorted grouping: n/a (the engine folds one record per call)")
    return 0 if all(s["failed"] == 0 for _, s in rows) else 3


if __name__ == "__main__":
    sys.exit(main())
