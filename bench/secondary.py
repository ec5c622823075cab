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
- per parameter set, a base-pair span limit (``--spans``) on chains over 150 nt;
- ``auto, span ≤ S``: the ``auto`` MFE with its pairs spanning more than S nt dropped
  (chains over 150 nt): are long-range pairs worth keeping?

Prints mean F1 per length bin (50–150, 150–300, > 300 nt) and overall, then the precision of
the MFE's pairs by span (j − i) on chains over 150 nt. Skips (exit 0) without the data.
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
#: Pair-span bins (nt, j − i) of the precision table and the span cut-offs tried on ``auto``.
SPAN_BINS = ((0, 50), (50, 100), (100, 200), (200, 300), (300, 100_000))
DROP_SPANS = (200, 300, 400)


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


def count_by_span(pred: str, ref: str, counts: dict[tuple[int, int], list[int]]) -> None:
    """Add ``[predicted, correct]`` pairs of ``pred`` (vs ``ref``) per span bin to ``counts``."""
    want = pairs(ref)
    for i, j in pairs(pred):
        b = next(b for b in SPAN_BINS if b[0] <= j - i < b[1])
        counts.setdefault(b, [0, 0])
        counts[b][0] += 1
        counts[b][1] += (i, j) in want


def without_long_pairs(ss: str, span: int) -> str:
    """``ss`` [L] with the pairs spanning more than ``span`` nt opened."""
    out = list(ss)
    for i, j in pairs(ss):
        if j - i > span:
            out[i] = out[j] = "."
    return "".join(out)


def run(
    chains: list[tuple[str, str, str]],
    spans: list[int],
    by_span: dict[str, dict[tuple[int, int], list[int]]] | None = None,
) -> dict[str, list[float]]:
    """F1 per chain per condition (``nan`` where a condition does not apply); ``by_span``
    (when given) collects :func:`count_by_span` of each set's MFE on chains over 150 nt."""
    res: dict[str, list[float]] = {}
    for _id, seq, ref in chains:
        mfes = {}
        for name in (*ENERGY_PARAMS, "auto"):
            cfg = replace(DEFAULT_CONFIG, energy_params=name)
            mfes[name] = mfe_structure(seq, cfg)
            res.setdefault(name, []).append(pair_f1(mfes[name], ref))
        four = [mfes[k] for k in ENERGY_PARAMS]
        res.setdefault("consensus 3/4", []).append(pair_f1(consensus(four, 3), ref))
        for span in DROP_SPANS:
            f1 = pair_f1(without_long_pairs(mfes["auto"], span), ref) if len(seq) > 150 else None
            res.setdefault(f"auto, span <= {span}", []).append(f1 if f1 is not None else np.nan)
        if by_span is not None and len(seq) > 150:
            for name, ss in mfes.items():
                count_by_span(ss, ref, by_span.setdefault(name, {}))
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
    by_span: dict[str, dict[tuple[int, int], list[int]]] = {}
    res = run(chains, spans, by_span)
    print(
        f"{args.split}: {len(chains)} chains, {args.min_len}-{args.max_len} nt, "
        f"{time.perf_counter() - t0:.0f} s; mean base-pair F1 of the MFE"
    )
    print("\n".join(table(chains, res)))
    print("precision of the MFE's pairs by span (j - i), chains over 150 nt: correct/predicted")
    print(
        f"{'set':<16}"
        + "".join(f"{f'{lo}-{hi}' if hi < 100_000 else f'>{lo}':>14}" for lo, hi in SPAN_BINS)
    )
    for name, counts in by_span.items():
        cells = [counts.get(b, [0, 0]) for b in SPAN_BINS]
        print(f"{name:<16}" + "".join(f"{c / max(p, 1):>7.2f} {f'({p})':>6}" for p, c in cells))
    if args.json is not None:
        ids = [i for i, _s, _r in chains]
        args.json.write_text(json.dumps({"ids": ids, "f1": res}, indent=1))


if __name__ == "__main__":
    main()
