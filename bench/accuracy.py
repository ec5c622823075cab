"""Validation accuracy of the fold engine vs the A-form-from-SS baseline.

    python bench/accuracy.py [--weights weights] [-n 5] [--steps N] [--json out.json]

Targets: the validation split of ../shared/data (released 2020-01-01 … 2022-04-30). Their
references have C1′ coordinates only, so every figure here is over C1′ (``--atom "C1'"``,
index alignment) with ``rnapredict.score``; INF needs base atoms and is reported as n/a for
these targets. Both engine and baseline get the same ViennaRNA MFE secondary structure (what
``rnapredict fold`` uses without ``--ss``). Prints a per-target table, means, and means per
length bin (<50, 50–150, 150–500, >500 nt).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rnapredict.engine import load_engine  # noqa: E402
from rnapredict.engine.api import FoldOptions  # noqa: E402
from rnapredict.geometry.aform import aform_structure  # noqa: E402
from rnapredict.io.records import Record  # noqa: E402
from rnapredict.io.structure import RnaStructure  # noqa: E402
from rnapredict.score.api import ScoreOptions, score_structures  # noqa: E402
from rnapredict.train.data import load_chains  # noqa: E402

BINS = [("<50", 0, 50), ("50-150", 50, 150), ("150-500", 150, 500), (">500", 500, 10**9)]
OPTS = ScoreOptions(atom="C1'", align="index", interactions=False, clashes=False)


def c1_reference(seq: str, xyz: np.ndarray) -> RnaStructure:
    """A C1′-only structure from a coordinate array [L, 3] (Å)."""
    return RnaStructure.from_residues(seq, [{"C1'": p} for p in xyz])


def score(model: RnaStructure, ref: RnaStructure) -> tuple[float, float]:
    r = score_structures(model, ref, OPTS)
    return float(r.tm.tm_ref), float(r.lddt)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--weights", type=Path, default=None)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("-n", "--samples", type=int, default=5)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument(
        "--init-sigma",
        type=float,
        default=None,
        help="override partial diffusion from the A-form prior (Å; ≤ 0: off)",
    )
    a = p.parse_args(argv)

    engine = load_engine(a.weights)
    if a.init_sigma is not None:
        engine.init_sigma = a.init_sigma if a.init_sigma > 0 else None
    chains = load_chains(a.data, "validation", REPO / "runs" / "ss_cache.json")
    chains = chains[: a.limit] if a.limit else chains
    rows = []
    t0 = time.time()
    for ch in chains:
        ref = c1_reference(ch.seq, ch.coords)
        pred = engine.predict(
            Record(ch.id, ch.seq, ss=ch.ss),
            FoldOptions(n_samples=a.samples, seed=a.seed, steps=a.steps),
        )
        scores = [score(m, ref) for m in pred.models]
        base_tm, base_lddt = score(aform_structure(ch.seq, ch.ss), ref)
        rows.append({
            "id": ch.id, "length": len(ch.seq),
            "tm_best": max(s[0] for s in scores), "tm_model1": scores[0][0],
            "lddt_model1": scores[0][1], "lddt_best": max(s[1] for s in scores),
            "plddt_model1": float(pred.plddt[0].mean()), "ptm_model1": float(pred.ptm[0]),
            "aform_tm": base_tm, "aform_lddt": base_lddt,
        })  # fmt: skip
        r = rows[-1]
        print(f"{r['id']:<10} {r['length']:>4}  TM best {r['tm_best']:.3f}  model1 {r['tm_model1']:.3f}"
              f"  lDDT {r['lddt_model1']:.3f}  | A-form TM {r['aform_tm']:.3f} lDDT {r['aform_lddt']:.3f}",
              flush=True)  # fmt: skip
    keys = ["tm_best", "tm_model1", "lddt_model1", "aform_tm", "aform_lddt"]
    md = [
        f"C1′ scores on {len(rows)} validation targets ({engine.model_version}, {a.samples} samples,"
        f" steps {a.steps or engine.config.edm.steps}, seed {a.seed}, init from A-form prior at σ ="
        f" {engine.init_sigma} Å); INF n/a (C1′-only references).",
        "",
        "| bin | n | TM best-of-5 | TM model 1 | lDDT model 1 | A-form TM | A-form lDDT |",
        "|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for name, lo, hi in [("all", 0, 10**9), *BINS]:
        sel = [r for r in rows if lo <= r["length"] < hi]
        if not sel:
            md.append(f"| {name} | 0 | – | – | – | – | – |")
            continue
        m = {k: float(np.mean([r[k] for r in sel])) for k in keys}
        summary[name] = {"n": len(sel), **m}
        md.append(f"| {name} | {len(sel)} | " + " | ".join(f"{m[k]:.3f}" for k in keys) + " |")
    wins = sum(r["tm_best"] > r["aform_tm"] for r in rows)
    md += ["", f"Engine best-of-{a.samples} beats A-form on {wins}/{len(rows)} targets;"
           f" wall time {time.time() - t0:.0f} s."]  # fmt: skip
    text = "\n".join(md)
    print()
    print(text)
    out = {
        "rows": rows,
        "summary": summary,
        "markdown": text,
        "model_version": engine.model_version,
    }
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
