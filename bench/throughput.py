"""HPC throughput of ``rnapredict fold``: records per hour for ``--jobs`` × ``--threads``, and
what sharing the CPUs with busy processes costs.

Two tables, each from whole ``rnapredict fold`` processes (start-up included, as a SLURM task
or Snakemake job runs it):

1. **jobs × threads.** A mixed batch (``--records`` random sequences of 50–500 nt, fixed seed)
   folded with each ``--combos`` entry (``JOBSxTHREADS``); repeats run round-robin (A B C A B C)
   so a change in the machine's load hits every combination alike. Records per hour, the time
   relative to the first combination, and whether every model file is byte-identical to the
   first combination's.
2. **contention.** One 100-nt random record folded with default settings (no thread flags),
   alone and while ``--busy`` processes spin on the CPUs, alternating; the ratio busy/quiet.
   ``--pythonpath A,B`` runs several checkouts (e.g. before and after a change), interleaved.

    OMP_NUM_THREADS=1 python -m bench.throughput                     # both tables
    python -m bench.throughput --combos 1x2,2x1 --records 12 --repeats 2
    python -m bench.throughput --skip-batch --pythonpath ../main,.   # contention, old vs new

The machine's load average is printed with each table: on a shared machine wall times are only
comparable within one run.
"""

from __future__ import annotations

import argparse
import hashlib
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


def random_fasta(path: Path, lengths: list[int], seed: int) -> Path:
    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        for k, n in enumerate(lengths):
            fh.write(f">rec{k:03d}_{n}nt\n{''.join(rng.choice(list('ACGU'), size=n))}\n")
    return path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fold(fasta: Path, out: Path, args: list[str], pythonpath: str) -> tuple[float, float]:
    """Wall and CPU seconds (workers included) of one ``rnapredict fold`` process (fails
    loudly on a non-zero exit)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": pythonpath}
    cmd = [sys.executable, "-m", "rnapredict", "fold", str(fasta), "-o", str(out), "-q", *args]
    t0, c0 = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return seconds, cpu


def model_digest(out: Path) -> str:
    """sha256 over every model file (path and bytes), in name order."""
    h = hashlib.sha256()
    for p in sorted(out.glob("*/model_*")):
        h.update(str(p.relative_to(out)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def batch_table(args: argparse.Namespace, work: Path) -> None:
    rng = np.random.default_rng(args.seed)
    lengths = [int(n) for n in rng.integers(50, 501, size=args.records)]
    fasta = random_fasta(work / "mixed.fa", lengths, args.seed)
    combos = [tuple(int(x) for x in c.lower().split("x")) for c in args.combos.split(",")]
    times: dict[tuple[int, ...], list[float]] = {c: [] for c in combos}
    cpus: dict[tuple[int, ...], list[float]] = {c: [] for c in combos}
    digests: dict[tuple[int, ...], str] = {}
    print(
        f"mixed batch: {args.records} records, {min(lengths)}–{max(lengths)} nt "
        f"({sum(lengths)} nt), -n {args.models}; {load()}",
        flush=True,
    )
    for rep in range(args.repeats):
        for jobs, threads in combos:
            out = work / f"out_{jobs}x{threads}"
            flags = ["-n", str(args.models), "--seed", "0", "--jobs", str(jobs)]
            flags += ["--threads", str(threads)]
            s, cpu = fold(fasta, out, flags, args.pythonpath)
            times[(jobs, threads)].append(s)
            cpus[(jobs, threads)].append(cpu)
            digests[(jobs, threads)] = model_digest(out)
            print(
                f"  repeat {rep + 1}: --jobs {jobs} --threads {threads}: {s:.1f} s, "
                f"CPU {cpu:.1f} s; {load()}",
                flush=True,
            )
    base = combos[0]
    print(
        f"\n| jobs × threads | wall s (median) | records/hour | time vs {base[0]}×{base[1]} "
        "| CPU s (median) | models identical |"
    )
    print("|---|---|---|---|---|---|")
    ref = float(np.median(times[base]))
    for c in combos:
        med = float(np.median(times[c]))
        same = "yes" if digests[c] == digests[base] else "NO"
        print(
            f"| {c[0]} × {c[1]} | {med:.1f} | {3600 * args.records / med:.0f} | "
            f"{med / ref:.2f} | {float(np.median(cpus[c])):.1f} | {same} |"
        )
    print(f"({load()} at the end)\n", flush=True)


def _busy_fold(
    fasta: Path, out: Path, flags: list[str], pythonpath: str, busy: int
) -> tuple[float, float]:
    """Wall and CPU seconds of a fold while ``busy`` pure-Python processes spin (the other
    jobs of a shared node: no thread pools of their own)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        return fold(fasta, out, flags, pythonpath)
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def contention_table(args: argparse.Namespace, work: Path) -> None:
    fasta = random_fasta(work / "one.fa", [100], args.seed + 1)
    flags = ["-n", str(args.models), "--seed", "0"]
    trees = args.pythonpath.split(",")
    quiet: dict[str, list[tuple[float, float]]] = {t: [] for t in trees}
    busy: dict[str, list[tuple[float, float]]] = {t: [] for t in trees}
    print(
        f"contention: 1 × 100 nt, -n {args.models}, default threads, {args.busy} busy "
        f"process(es); {load()}",
        flush=True,
    )
    for tree in trees:
        fold(fasta, work / "warm", flags, tree)  # page cache, numba cache
    for rep in range(args.repeats):  # round-robin: A quiet, A busy, B quiet, B busy, ...
        for tree in trees:
            quiet[tree].append(fold(fasta, work / "quiet", flags, tree))
            busy[tree].append(_busy_fold(fasta, work / "busy", flags, tree, args.busy))
            (qw, qc), (bw, bc) = quiet[tree][-1], busy[tree][-1]
            print(
                f"  repeat {rep + 1}, {tree}: quiet {qw:.1f} s (CPU {qc:.1f} s), "
                f"busy {bw:.1f} s (CPU {bc:.1f} s); {load()}",
                flush=True,
            )
    print("\n| code | quiet s | with busy processes s | ratio | CPU s quiet | CPU s busy |")
    print("|---|---|---|---|---|---|")
    for tree in trees:
        (q, qc), (b, bc) = (np.median(np.array(x), axis=0) for x in (quiet[tree], busy[tree]))
        print(f"| {tree} | {q:.1f} | {b:.1f} | {b / q:.2f} | {qc:.1f} | {bc:.1f} |")
    print(f"({load()} at the end)\n", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=12, help="records in the mixed batch")
    ap.add_argument("--combos", default="1x2,2x1", help="JOBSxTHREADS, comma-separated")
    ap.add_argument("--repeats", type=int, default=1, help="round-robin repeats")
    ap.add_argument("--models", type=int, default=5, help="-n per record")
    ap.add_argument("--busy", type=int, default=2, help="busy processes for the contention test")
    ap.add_argument("--seed", type=int, default=0, help="sequence seed")
    ap.add_argument(
        "--pythonpath",
        default=str(REPO),
        help="checkout(s) to run (PYTHONPATH); comma-separated: contention rows interleaved",
    )
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-contention", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rnapredict-throughput-") as tmp:
        work = Path(tmp)
        if not args.skip_batch:
            batch_table(args, work)
        if not args.skip_contention:
            contention_table(args, work)


if __name__ == "__main__":
    main()
