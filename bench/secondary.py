"""Which ViennaRNA energy parameters and base-pair span limit give the best MFE, by length?

    OMP_NUM_THREADS=1 python -m bench.secondary [--split train] [--min-len 50] [--max-len 1500]
        [--spans 100,150,200,300] [--consensus] [--limit N] [--json out.json]
    OMP_NUM_THREADS=1 python -m bench.secondary --time 300,1000,3000

Chains: ``../shared/data/secondary/pdb_dot_bracket.csv`` (PDB-derived base pairs, pseudoknots
included; :func:`bench.probing.load_chains`, unmodelled ``-`` positions removed) of one split
(choose on ``train``; ``validation`` is for measuring only). Each chain's MFE
(:func:`rnapredict.features.vienna.mfe_structure`, the code path ``rnapredict fold`` uses) is
scored by base-pair F1 against the known pairs, for:

- every shipped parameter set (:data:`~rnapredict.features.vienna.ENERGY_PARAMS`) and ``auto``
  (the length rule of :class:`~rnapredict.features.vienna.ViennaConfig`);
- ``consensus k/4``: pairs in the MFE of at least k of the 4 parameter sets, nested
  (:func:`rnapredict.features.consensus.vote`; ties go to Turner 1999); with ``--consensus``
  also k = 2 and 4, and ``consensus k/4 + refold``: those pairs enforced in a Turner 1999 MFE
  refold (``energy_params="consensus"``, the ``fold --energy-params consensus`` path), and
  ``pooled p > t``: pairs whose base-pair probability averaged over the 4 sets
  (:func:`~rnapredict.features.vienna.pair_probabilities`, RNAplfold windows beyond 400 nt)
  exceeds t (t = 0.5: the centroid of the pooled ensemble, nested by construction; lower t
  nested greedily, likeliest first);
- per parameter set, a base-pair span limit (``--spans``) on chains over 150 nt;
- ``auto, span ≤ S``: the ``auto`` MFE with its pairs spanning more than S nt dropped
  (chains over 150 nt): are long-range pairs worth keeping?

Prints mean F1 per length bin (< 120, 120–150, 150–300, > 300 nt) and overall, the mean
precision and recall per bin of every condition (chains without a predicted pair count as
precision 1), then the precision of the MFE's pairs by span (j − i) on chains over 150 nt.
Skips (exit 0) without the data. ``--time``: seconds of one MFE (``auto``) against the consensus
rule (with and without refold) on random sequences
(``numpy.random.default_rng(0)``) of the given lengths, nothing else.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.probing import DATA, load_chains, pairs
from rnapredict.features.consensus import greedy_nested, vote
from rnapredict.features.vienna import (
    CONSENSUS,
    DEFAULT_CONFIG,
    ENERGY_PARAMS,
    mfe_structure,
    pair_probabilities,
)
from rnapredict.io.secondary import pairs_from_list, to_dot_bracket

#: Length bins (nt, inclusive lower, exclusive upper) of the table.
BINS = ((0, 120), (120, 150), (150, 300), (300, 100_000))
#: Pair-span bins (nt, j − i) of the precision table and the span cut-offs tried on ``auto``.
SPAN_BINS = ((0, 50), (50, 100), (100, 200), (200, 300), (300, 100_000))
DROP_SPANS = (200, 300, 400)
#: Thresholds of the pooled-probability structures (``--consensus``).
POOLED = (0.5, 0.3)


def pooled(seq: str, threshold: float) -> str:
    """Dot-bracket [L] of the pairs whose probability averaged over the :data:`ENERGY_PARAMS`
    sets exceeds ``threshold``, nested greedily (likeliest first)."""
    mean: dict[tuple[int, int], float] = {}
    for name in ENERGY_PARAMS:
        cfg = replace(DEFAULT_CONFIG, probability_params=name)
        for i, j, p in pair_probabilities(seq, top_k=3, config=cfg):
            mean[(i, j)] = mean.get((i, j), 0.0) + p / len(ENERGY_PARAMS)
    cands = sorted((p for p, v in mean.items() if v > threshold), key=lambda p: -mean[p])
    return to_dot_bracket(pairs_from_list(len(seq), greedy_nested(cands, len(seq))))


def scores(pred: str, ref: str) -> tuple[float, float, float]:
    """Base-pair precision, recall and F1 of ``pred`` against ``ref`` (precision 1 without a
    predicted pair, recall 1 without a known pair, F1 1 when neither has one)."""
    a, b = pairs(pred), pairs(ref)
    hit = len(a & b)
    f1 = 2 * hit / (len(a) + len(b)) if a or b else 1.0
    return hit / len(a) if a else 1.0, hit / len(b) if b else 1.0, f1


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
    consensus_rules: bool = False,
) -> dict[str, list[tuple[float, float, float]]]:
    """Precision, recall, F1 (:func:`scores`) per chain per condition (``nan`` where a condition
    does not apply); ``by_span`` (when given) collects :func:`count_by_span` of each set's MFE on
    chains over 150 nt; ``consensus_rules``: every consensus variant (k = 2, 3, 4, with and
    without refold) instead of 3/4 alone."""
    res: dict[str, list[tuple[float, float, float]]] = {}
    skip = (np.nan, np.nan, np.nan)
    base = list(ENERGY_PARAMS).index(DEFAULT_CONFIG.consensus_base)
    for _id, seq, ref in chains:
        mfes = {}
        for name in (*ENERGY_PARAMS, "auto"):
            cfg = replace(DEFAULT_CONFIG, energy_params=name)
            mfes[name] = mfe_structure(seq, cfg)
            res.setdefault(name, []).append(scores(mfes[name], ref))
        four = [mfes[k] for k in ENERGY_PARAMS]
        for k in (2, 3, 4) if consensus_rules else (3,):
            kept = to_dot_bracket(pairs_from_list(len(seq), vote(four, k, prefer=base)))
            res.setdefault(f"consensus {k}/4", []).append(scores(kept, ref))
            if consensus_rules:
                cfg = replace(
                    DEFAULT_CONFIG,
                    energy_params=CONSENSUS,
                    consensus_votes=k,
                    consensus_refold=True,
                )
                res.setdefault(f"consensus {k}/4 + refold", []).append(
                    scores(mfe_structure(seq, cfg), ref)
                )
        for t in POOLED if consensus_rules else ():
            res.setdefault(f"pooled p > {t}", []).append(scores(pooled(seq, t), ref))
        for span in DROP_SPANS:
            dropped = scores(without_long_pairs(mfes["auto"], span), ref)
            res.setdefault(f"auto, span <= {span}", []).append(dropped if len(seq) > 150 else skip)
        if by_span is not None and len(seq) > 150:
            for name, ss in mfes.items():
                count_by_span(ss, ref, by_span.setdefault(name, {}))
        for name in ENERGY_PARAMS:
            for span in spans:
                key = f"{name} span {span}"
                if len(seq) <= 150:
                    res.setdefault(key, []).append(skip)
                    continue
                cfg = replace(DEFAULT_CONFIG, energy_params=name, global_max_bp_span=span)
                res.setdefault(key, []).append(scores(mfe_structure(seq, cfg), ref))
    return res


def table(
    chains: list[tuple[str, str, str]],
    res: dict[str, list[tuple[float, float, float]]],
    metric: int = 2,
) -> list[str]:
    """One line per condition: mean of ``metric`` (0 precision, 1 recall, 2 F1) per length bin
    and over all chains that apply."""
    lengths = np.array([len(s) for _i, s, _r in chains])
    masks = [(lengths >= lo) & (lengths < hi) for lo, hi in BINS]
    head = "".join(f"{f'{lo}-{hi}' if hi < 100_000 else f'>{lo}':>10}" for lo, hi in BINS)
    lines = [
        f"{'condition':<26}{head}{'all':>8}",
        f"{'chains':<26}" + "".join(f"{int(m.sum()):>10}" for m in masks) + f"{len(chains):>8}",
    ]
    for name, per_chain in res.items():
        v = np.asarray(per_chain, dtype=np.float64).reshape(-1, 3)[:, metric]
        cells = "".join(
            f"{np.nanmean(v[m]):>10.3f}" if np.isfinite(v[m]).any() else f"{'-':>10}" for m in masks
        )
        lines.append(f"{name:<26}{cells}{np.nanmean(v):>8.3f}")
    return lines


def timings(lengths: list[int]) -> list[str]:
    """Seconds of one MFE per rule on random sequences of ``lengths`` (Turner 1999 alone, what
    ``auto`` used beyond 120 nt before the consensus rule, and the rule)."""
    rules = {
        "turner1999": replace(DEFAULT_CONFIG, energy_params="turner1999"),
        "consensus": replace(DEFAULT_CONFIG, energy_params=CONSENSUS),
        "consensus + refold": replace(
            DEFAULT_CONFIG, energy_params=CONSENSUS, consensus_refold=True
        ),
    }
    lines = [f"{'length':>8}" + "".join(f"{k:>20}" for k in rules)]
    rng = np.random.default_rng(0)
    for n in lengths:
        seq = "".join(rng.choice(list("ACGU"), n))
        cells = []
        for cfg in rules.values():
            t0 = time.perf_counter()
            mfe_structure(seq, cfg)
            cells.append(time.perf_counter() - t0)
        lines.append(f"{n:>8}" + "".join(f"{c:>20.2f}" for c in cells))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("train", "validation"), default="train")
    ap.add_argument("--min-len", type=int, default=50)
    ap.add_argument("--max-len", type=int, default=1500)
    ap.add_argument("--spans", default="100,150,200,300", help="comma-separated, nt")
    ap.add_argument("--consensus", action="store_true", help="every consensus variant")
    ap.add_argument("--limit", type=int, default=None, help="first N chains only")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--time", default=None, help="comma-separated lengths (nt): timings only")
    args = ap.parse_args()
    if args.time:
        print("\n".join(timings([int(n) for n in args.time.split(",")])))
        return
    if not DATA.exists():
        print(f"skipped: {DATA} not found")
        return
    chains = load_chains(min_len=args.min_len, max_len=args.max_len, split=args.split)
    chains = chains[: args.limit]
    spans = [int(s) for s in args.spans.split(",") if s]
    t0 = time.perf_counter()
    by_span: dict[str, dict[tuple[int, int], list[int]]] = {}
    res = run(chains, spans, by_span, args.consensus)
    print(
        f"{args.split}: {len(chains)} chains, {args.min_len}-{args.max_len} nt, "
        f"{time.perf_counter() - t0:.0f} s; mean base-pair F1 of the MFE"
    )
    print("\n".join(table(chains, res)))
    for metric, label in ((0, "precision"), (1, "recall")):
        print(f"mean base-pair {label}")
        print("\n".join(table(chains, res, metric)))
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
        args.json.write_text(json.dumps({"ids": ids, "precision_recall_f1": res}, indent=1))


if __name__ == "__main__":
    main()
