"""Motif-library assembly alone (no diffusion) vs the A-form rule, C1′ TM-score.

    python -m bench.assembly [-k 5] [--sets val,lfo] [--limit N] [--timing] [--json out.json]

Targets (../shared/data, c1 + allatom, ≥ 50 nt), each given its **native** secondary
structure (isolates the arrangement of helices from SS errors; see
:mod:`rnapredict.prior.natives` for where each comes from) and the ViennaRNA **MFE**:

- ``val``: validation chains, library mined from all train chains;
- ``lfo``: train chains, leave-family-out — the library is mined without every train chain
  of the target's sequence family (shared 8-mers ≥ 30 % of the shorter chain's, single
  linkage). This is the honest figure; a library containing the target is not.

Scores: ``rnapredict.score`` TM (C1′, index alignment, normalised by the native's length) of
candidate 1 (first-of-k) and the best of k, and of ``aform_c1``. Per length bin and overall.
``--timing``: seconds per candidate for random sequences (MFE structure) of 50 … 4,000 nt.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch

import rnapredict.prior.assembly as asm
from rnapredict.data.families import families as family_sets
from rnapredict.features.secondary import predict_ss
from rnapredict.geometry.aform import aform_c1
from rnapredict.io.structure import RnaStructure
from rnapredict.prior.assembly import assemble
from rnapredict.prior.instances import LibraryConfig
from rnapredict.prior.library import from_chains
from rnapredict.prior.natives import NativeChain, load_native_chains
from rnapredict.score.api import ScoreOptions, score_structures

REPO = Path(__file__).resolve().parents[1]

BINS = [("50-100", 50, 100), ("100-200", 100, 200), ("200+", 200, 10**9)]
OPTS = ScoreOptions(atom="C1'", align="index", interactions=False, clashes=False)


def c1_structure(seq: str, xyz: np.ndarray) -> RnaStructure:
    """A C1′-only structure from a coordinate array [L, 3] (Å)."""
    return RnaStructure.from_residues(seq, [{"C1'": p} for p in xyz])


def tm(xyz: np.ndarray, ref: RnaStructure) -> float:
    return float(score_structures(c1_structure(ref.seq, xyz), ref, OPTS).tm.tm_ref)


def families(chains: list[NativeChain]) -> dict[str, set[str]]:
    """Chain id → ids of its sequence family (:func:`rnapredict.data.families.families`)."""
    fam = family_sets([c.id for c in chains], [c.seq for c in chains])
    return {cid: set(members) for cid, members in fam.items()}


def run_target(ch: NativeChain, lib, k: int, seed: int, mfe: str) -> dict:
    ref = c1_structure(ch.seq, ch.coords)
    row: dict = {"id": ch.id, "length": len(ch.seq), "ss_source": ch.ss_source}
    for mode, ss in (("native", ch.ss), ("mfe", mfe)):
        t0 = time.perf_counter()
        cands = assemble(ch.seq, ss, torch.Generator().manual_seed(seed), k, lib)
        dt = (time.perf_counter() - t0) / len(cands)
        scores = [tm(c.coords, ref) for c in cands]
        row[f"{mode}_first"], row[f"{mode}_best"] = scores[0], max(scores)
        row[f"{mode}_aform"] = tm(aform_c1(ch.seq, ss), ref)
        row[f"{mode}_sec"] = dt
        row[f"{mode}_fallback"] = cands[0].info.get("n_fallback", 0)
        row[f"{mode}_maxstep"] = max(
            float(np.linalg.norm(np.diff(c.coords, axis=0), axis=-1).max()) for c in cands
        )
    return row


KEYS = ["native_first", "native_best", "native_aform", "mfe_first", "mfe_best", "mfe_aform"]


def table(name: str, rows: list[dict], k: int) -> str:
    md = [
        f"**{name}** — C1′ TM (index alignment), assembly first-of-{k} / best-of-{k} vs A-form",
        "",
        "| bin | n | native: first | best | A-form | MFE: first | best | A-form |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for b, lo, hi in [("all", 0, 10**9), *BINS]:
        sel = [r for r in rows if lo <= r["length"] < hi]
        if sel:
            m = [np.mean([r[key] for r in sel]) for key in KEYS]
            md.append(f"| {b} | {len(sel)} | " + " | ".join(f"{v:.3f}" for v in m) + " |")
    return "\n".join(md)


def timing(seed: int) -> str:
    rng = np.random.default_rng(seed)
    md = ["| length | s per candidate (k=5) |", "|---|---|"]
    for n in (50, 100, 500, 1000, 4000):
        seq = "".join(rng.choice(list("ACGU"), n))
        ss = predict_ss(seq)
        assemble(seq, ss, torch.Generator().manual_seed(0), 1)  # warm caches
        t0 = time.perf_counter()
        cands = assemble(seq, ss, torch.Generator().manual_seed(seed), 5)
        md.append(f"| {n} | {(time.perf_counter() - t0) / len(cands):.3f} |")
    return "\n".join(md)


def parser(doc: str | None) -> argparse.ArgumentParser:
    """Options shared by the assembly benches: --data, -k, --seed, --sets (val,lfo)."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sets", default="val,lfo")
    return p


def main(argv: list[str] | None = None) -> dict:
    p = parser(__doc__)
    p.add_argument("--min-len", type=int, default=50)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--timing", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--match", default="", help="LibraryConfig overrides, e.g. seq_weight=4")
    a = p.parse_args(argv)
    if a.match:
        kw = {k: type(getattr(LibraryConfig(), k))(v) for k, v in
              (item.split("=") for item in a.match.split(","))}  # fmt: skip
        asm.DEFAULT_CONFIG = dataclasses.replace(asm.DEFAULT_CONFIG, match=LibraryConfig(**kw))
    t_start = time.time()
    chains = load_native_chains(a.data, ("train", "validation"))
    train = [c for c in chains if c.split == "train"]
    full = from_chains(train)
    out: dict = {"library_instances": len(full)}
    texts = []
    for name in a.sets.split(","):
        split = "validation" if name == "val" else "train"
        targets = [c for c in chains if c.split == split and len(c.seq) >= a.min_len]
        targets = targets[: a.limit] if a.limit else targets
        fam = families(train) if name == "lfo" else {}
        rows = []
        for ch in targets:
            lib = full.without(fam[ch.id]) if name == "lfo" else full
            r = run_target(ch, lib, a.k, a.seed, predict_ss(ch.seq))
            rows.append(r)
            print(f"{name} {r['id']:<8} {r['length']:>4} {r['ss_source']:<9}"
                  + " ".join(f"{key} {r[key]:.3f}" for key in KEYS), flush=True)  # fmt: skip
        out[name] = rows
        texts.append(table(f"{name} ({len(rows)} chains)", rows, a.k))
    if a.timing:
        texts.append(timing(a.seed))
    for name in a.sets.split(","):
        steps = [r[f"{m}_maxstep"] for r in out[name] for m in ("native", "mfe")]
        if steps:
            texts.append(
                f"{name}: longest consecutive C1′ step in any candidate {max(steps):.1f} Å"
            )
    texts.append(f"wall time {time.time() - t_start:.0f} s")
    print("\n\n".join(texts))
    out["markdown"] = "\n\n".join(texts)
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
