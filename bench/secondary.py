"""Which ViennaRNA energy parameters and base-pair span limit give the best MFE, by length?

    OMP_NUM_THREADS=1 python -m bench.secondary [--split train] [--min-len 50] [--max-len 1500]
        [--spans 100,150,200,300] [--limit N] [--json out.json]

Chains: ``../shared/data/secondary/pdb_dot_bracket.csv`` (PDB-derived base pairs, pseudoknots
included; :func:`bench.probing.load_chains`, unmodelled ``-`` positions removed) of one split
(choose on ``train``; ``validation`` is for measuring only). Each chain's MFE
(:func:`rnapredict.features.vienna.mfe_structure`, the code path ``rnapredict fold`` uses) is
scored by base-pair F1 against the known pairs, for:

- every shipped parameter set (:data:`~rnapredict.features.vienna.ENERGY_PARAMS`) and ``auto``
  (the length rule of :class:`~rnapredict.features.vienna.ViennaConfig`);
- ``consensus``: pairs in the MFE of at least 3 of the 4 parameter sets (always nested);
- per parameter set, a base-pair span limit (``--spans``) on chains over 150 nt.

Prints mean F1 per length bin (50–150, 150–300, > 300 nt) and overall. Skips (exit 0) without
the data.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.probing import DATA, load_chains, pair_f1, pairs
from rnapredict.features.vienna import DEFAULT_CONFIG, ENERGY_PARAMS, mfe_structure

#: Length bins (nt, inclusive lower, exclusive upper) of the table.
BINS = ((0, 150), (150, 300), (300, 100_000))


def consensus(structures: list[str], votes: int) -> str:
    """Dot-bracket [L] of the pairs found in at least ``votes`` of ``structures`` (each [L]).

    With ``votes`` > half of them every two kept pairs share a structure, so the result nests.
    """
    count: dict[tuple[int, int], int] = {}
    for ss in structures:
        for p in pairs(ss):
            count[p] = count.get(p, 0) + 1
    out = ["."] * len(structures[0])
    for (i, j), c in count.items():
        if c >= votes:
            out[i], out[j] = "(", ")"
    return "".join(out)


def run(chains: list[tuple[str, str, str]], spans: list[int]) -> dict[str, list[float]]:
    """F1 per chain per condition (``nan`` where a condition does not apply)."""
    res: dict[str, list[float]] = {}
    for _id, seq, ref in chains:
        mfes = {}
        for name in (*ENERGY_PARAMS, "auto"):
            cfg = replace(DEFAULT_CONFIG, energy_params=name)
            mfes[name] = mfe_structure(seq, cfg)
            res.setdefault(name, []).append(pair_f1(mfes[name], ref))
        four = [mfes[k] for k in ENERGY_PARAMS]
        res.setdefault("consensus 3/4", []).append(pair_f1(consensus(four, 3), ref))
        for name in ENERGY_PARAMS:
            for span in spans:
                key = f"{name} span {span}"
                if len(seq) <= 150:
                    res.setdefault(key, []).append(float("nan"))
                    continue
                cfg = replace(DEFAULT_CONFIG, energy_params=name, global_max_bp_span=span)
                res.setdefault(key, []).append(pair_f1(mfe_structure(seq, cfg), ref))
    return res


def table(chains: list[tuple[str, str, str]], res: dict[str, list[float]]) -> list[str]:
    """One line per condition: mean F1 per length bin and over all chains that apply."""
    lengths = np.array([len(s) for _i, s, _r in chains])
    masks = [(lengths >= lo) & (lengths < hi) for lo, hi in BINS]
    head = "".join(f"{f'{lo}-{hi}' if hi < 100_000 else f'>{lo}':>10}" for lo, hi in BINS)
    lines = [
        f"{'condition':<26}{head}{'all':>8}",
        f"{'chains':<26}" + "".join(f"{int(m.sum()):>10}" for m in masks) + f"{len(chains):>8}",
    ]
    for name, f1 in res.items():
        v = np.asarray(f1)
        cells = "".join(
            f"{np.nanmean(v[m]):>10.3f}" if np.isfinite(v[m]).any() else f"{'-':>10}" for m in masks
        )
        lines.append(f"{name:<26}{cells}{np.nanmean(v):>8.3f}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("train", "validation"), default="train")
    ap.add_argument("--min-len", type=int, default=50)
    ap.add_argument("--max-len", type=int, default=1500)
    ap.add_argument("--spans", default="100,150,200,300", help="comma-separated, nt")
    ap.add_argument("--limit", type=int, default=None, help="first N chains only")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found")
        return
    chains = load_chains(min_len=args.min_len, max_len=args.max_len, split=args.split)
    chains = chains[: args.limit]
    spans = [int(s) for s in args.spans.split(",") if s]
    t0 = time.perf_counter()
    res = run(chains, spans)
    print(
        f"{args.split}: {len(chains)} chains, {args.min_len}-{args.max_len} nt, "
        f"{time.perf_counter() - t0:.0f} s; mean base-pair F1 of the MFE"
    )
    print("\n".join(table(chains, res)))
    if args.json is not None:
        ids = [i for i, _s, _r in chains]
        args.json.write_text(json.dumps({"ids": ids, "f1": res}, indent=1))


if __name__ == "__main__":
    main()
