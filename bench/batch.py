"""Batch throughput of ``rnapredict fold``: sequences per hour on this machine.

Folds ``--records`` random sequences of ``--length`` nt through the full batch pipeline
(:func:`rnapredict.fold.fold_inputs`: reading, folding, writing models, confidence.json,
summary.tsv) and prints a table: wall time, sequences/hour, seconds per record, pipeline
overhead (wall minus time inside the engine), peak RSS.

    python bench/batch.py                       # shipped weights, 200 × 100 nt, 5 models
    python bench/batch.py --engine tiny         # random-init tiny model (no weights needed)
    python bench/batch.py --engine stub         # stand-in engine: pipeline overhead only
    python bench/batch.py --threads 2 --records 50 --steps 20

Length-sorted grouping of records into one engine call is measured only when the engine
offers ``predict_batch(records, options)``; the v1 engine folds one record at a time (its
ensemble is already batched over samples), so the grouped column reads ``n/a``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
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
        sys.path.insert(0, str(REPO))
        from tests.test_fold_support import StubEngine

        return StubEngine()
    if kind == "tiny":
        from rnapredict.engine import tiny_engine

        return tiny_engine(seed=0)
    from rnapredict.engine import load_engine

    return load_engine(None, device=device)


def write_inputs(path: Path, n: int, length: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        for k in range(n):
            fh.write(f">bench{k:05d}\n{''.join(rng.choice(list('ACGU'), size=length))}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--records", type=int, default=200)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("-n", "--samples", type=int, default=5)
    ap.add_argument("--steps", type=int, default=None, help="diffusion steps (engine default)")
    ap.add_argument("--engine", choices=("real", "tiny", "stub"), default="real")
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--keep", type=Path, default=None, help="keep outputs in this directory")
    args = ap.parse_args(argv)

    import torch

    from rnapredict.fold import FoldRunOptions, fold_inputs

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="rnapredict-bench-"))
    try:
        fasta = work / "in.fa"
        write_inputs(fasta, args.records, args.length, seed=0)
        t_load = time.perf_counter()
        engine = TimedEngine(make_engine(args.engine, args.device))
        t_load = time.perf_counter() - t_load
        options = FoldRunOptions(n_samples=args.samples, steps=args.steps, device=args.device)
        out = args.keep or work / "out"
        t0 = time.perf_counter()
        result = fold_inputs([fasta], out, options, engine=engine)
        wall = time.perf_counter() - t0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_hour = result.ok / wall * 3600 if wall > 0 else float("nan")
    grouped = "n/a" if not hasattr(engine.engine, "predict_batch") else "not measured"
    print(
        f"# engine={args.engine} records={args.records} length={args.length} "
        f"samples={args.samples} steps={args.steps or 'default'} threads={args.threads} "
        f"load={t_load:.1f}s"
    )
    print(
        "| grouping | ok | failed | wall s | seq/hour | s/record | engine s | overhead s/rec | peak RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| none | {result.ok} | {result.failed} | {wall:.1f} | {per_hour:,.0f} | "
        f"{wall / max(result.total, 1):.3f} | {engine.seconds:.1f} | "
        f"{(wall - engine.seconds) / max(result.total, 1):.4f} | {peak_mib:.0f} |"
    )
    print(f"| length-sorted | {grouped} | | | | | | | |")
    return 0 if result.failed == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
