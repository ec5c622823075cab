"""Does probing data improve the secondary structure? Base-pair F1 with and without reactivities.

    python -m bench.probing [--min-len 20] [--max-len 400] [--limit N] [--seed 0] [--json out.json]
        [--split train|validation] [--energy-params auto|turner2004|…]

Chains: ``../shared/data/secondary/pdb_dot_bracket.csv`` (PDB-derived base pairs, pseudoknots
included), unmodelled ``-`` positions removed, 20–400 nt, at least one base pair. For each chain
synthetic reactivities are drawn from its known structure (:func:`simulate`): unpaired high,
paired low, realistic noise, 20 % missing. The MFE (``predict_ss``) is scored by base-pair F1
against the known structure with no data, with the data, and with the same values shuffled along
the sequence (uninformative data must not hurt). Prints one table of mean F1 per condition.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnapredict.data.split import split_of
from rnapredict.errors import SecondaryStructureError
from rnapredict.features.probing import ProbingConfig, soft_constraint
from rnapredict.features.secondary import predict_ss
from rnapredict.features.vienna import DEFAULT_CONFIG, ENERGY_PARAM_CHOICES, ViennaConfig
from rnapredict.io.probing import Reactivities
from rnapredict.io.secondary import parse_dot_bracket

REPO = Path(__file__).resolve().parents[1]

DATA = REPO.parent / "shared" / "data" / "secondary" / "pdb_dot_bracket.csv"


def load_chains(
    path: Path = DATA, min_len: int = 20, max_len: int = 400, split: str | None = None
) -> list[tuple[str, str, str]]:
    """``(id, sequence, dot-bracket)`` with ``-`` positions removed, ``T``→``U``, other letters
    → ``N``; kept when ``min_len ≤ L ≤ max_len``, the structure has a base pair and still
    parses (a few pair a residue with an unmodelled one), and (``split`` not None) the release
    date falls in ``split`` (``train``/``validation``, :func:`rnapredict.data.split.split_of`)."""
    out = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if split is not None and split_of(row["release_date"]) != split:
                continue
            keep = [k for k, c in enumerate(row["sequence"]) if c != "-"]
            seq = "".join(row["sequence"][k] for k in keep).upper().replace("T", "U")
            seq = "".join(c if c in "ACGU" else "N" for c in seq)
            ss = "".join(row["dot_bracket"][k] for k in keep)
            if not (min_len <= len(seq) <= max_len and any(c not in ".-" for c in ss)):
                continue
            try:
                parse_dot_bracket(ss)
            except SecondaryStructureError:  # a pair to an unmodelled residue: unusable
                continue
            out.append((row["pdb_chain"], seq, ss))
    return out


def simulate(
    ss: str, seq: str, kind: str, rng: np.random.Generator, missing: float = 0.2
) -> Reactivities:
    """Synthetic normalized reactivities [L] for a known structure.

    Paired nucleotides ~ Exp(mean 0.15); unpaired ones ~ Exp(mean 1.0), except 30 % that are
    protected (stacked or buried loop nucleotides) ~ Exp(mean 0.15); plus Gaussian measurement
    noise (sd 0.05); ``missing`` of the positions have no data. For DMS the signal is on A/C
    only (G/U drawn at the paired level).
    """
    paired = parse_dot_bracket(ss) >= 0
    n = len(ss)
    low = rng.exponential(0.15, n)
    high = rng.exponential(1.0, n)
    protected = rng.random(n) < 0.3
    r = np.where(paired | protected, low, high) + rng.normal(0.0, 0.05, n)
    if kind == "dms":
        gu = np.array([c in "GU" for c in seq])
        r[gu] = low[gu]
    gone = rng.random(n) < missing
    return Reactivities(kind, tuple(None if g else float(v) for v, g in zip(r, gone, strict=True)))


def shuffled(data: Reactivities, rng: np.random.Generator) -> Reactivities:
    """The same values (and missing marks) in a random order along the sequence."""
    vals = list(data.values)
    order = rng.permutation(len(vals))
    return Reactivities(data.kind, tuple(vals[k] for k in order), data.source)


def pairs(ss: str) -> set[tuple[int, int]]:
    p = parse_dot_bracket(ss)
    return {(i, int(j)) for i, j in enumerate(p.tolist()) if j > i}


def pair_f1(pred: str, ref: str) -> float:
    """Base-pair F1 of ``pred`` against ``ref`` (1.0 when both have no pair)."""
    a, b = pairs(pred), pairs(ref)
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def run(
    chains,
    kinds=("shape", "dms"),
    seed: int = 0,
    cfg: ProbingConfig = ProbingConfig(),
    vienna: ViennaConfig = DEFAULT_CONFIG,
):
    """Per-chain F1 per condition: ``{condition: [F1 per chain]}``; each kind with the
    evidence gate (``cfg``) and without it (full-strength pseudo-energies); MFEs under
    ``vienna``'s energy parameters."""
    rng = np.random.default_rng(seed)
    ungated = replace(cfg, gate=False)
    out: dict[str, list[float]] = {"no data": []}
    for _id, seq, ref in chains:
        out["no data"].append(pair_f1(predict_ss(seq, config=vienna), ref))
        for kind in kinds:
            data = simulate(ref, seq, kind, rng)
            noise = shuffled(data, rng)
            for label, c in ((kind, cfg), (f"{kind} no gate", ungated)):
                f1 = pair_f1(predict_ss(seq, soft_constraint(data, c), vienna), ref)
                out.setdefault(label, []).append(f1)
                f1 = pair_f1(predict_ss(seq, soft_constraint(noise, c), vienna), ref)
                out.setdefault(f"{label} shuffled", []).append(f1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-len", type=int, default=20)
    ap.add_argument("--max-len", type=int, default=400)
    ap.add_argument("--limit", type=int, default=None, help="first N chains only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--split", choices=("train", "validation"), default=None)
    ap.add_argument("--energy-params", choices=ENERGY_PARAM_CHOICES, default="auto")
    args = ap.parse_args()
    chains = load_chains(min_len=args.min_len, max_len=args.max_len, split=args.split)
    chains = chains[: args.limit]
    t0 = time.perf_counter()
    res = run(chains, seed=args.seed, vienna=ViennaConfig(energy_params=args.energy_params))
    dt = time.perf_counter() - t0
    base = np.mean(res["no data"])
    print(f"{len(chains)} chains, {args.min_len}-{args.max_len} nt, seed {args.seed}, {dt:.0f} s")
    print(f"{'condition':<24} {'mean F1':>8} {'vs no data':>11} {'better':>7} {'worse':>6}")
    for name, f1 in res.items():
        d = np.asarray(f1) - np.asarray(res["no data"])
        print(
            f"{name:<24} {np.mean(f1):8.3f} {np.mean(f1) - base:+11.3f} "
            f"{int((d > 1e-9).sum()):7d} {int((d < -1e-9).sum()):6d}"
        )
    if args.json:
        args.json.write_text(json.dumps({k: [round(x, 4) for x in v] for k, v in res.items()}))


if __name__ == "__main__":
    main()
