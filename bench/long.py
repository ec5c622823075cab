"""Long chains (≥ 150 nt): where the assembly candidates lose TM — domains, packing or SS.

    OMP_NUM_THREADS=1 python -m bench.long [--min-len 150] [--max-len 500] [-n 5]
        [--ss-cache FILE] [--json out.json] [--limit N]

Targets: train chains of ``--min-len … --max-len`` nt (c1 + allatom, native secondary
structure from :mod:`rnapredict.prior.natives`), leave-family-out: the motif library of each
target is mined without its sequence family (as :mod:`bench.assembly`'s ``lfo``). Candidates:
what ``rnapredict fold`` starts diffusion from (:func:`assembly_candidates` on the ViennaRNA
MFE, ``-n`` of them; no diffusion). Per target, over the candidates (best of n and model 1):

- ``tm``: C1′ TM-score (index alignment);
- ``rg``: radius of gyration of the candidate / the native's;
- ``dom``: per-domain TM — each domain of the **native** structure (the rigid domains
  :func:`rnapredict.prior.domains.rigid_domains` finds) superposed alone, TM by its own
  length, averaged weighted by length: are the domains right locally?
- ``oracle``: TM of the candidate with each of **its own** (MFE) domains moved rigidly onto
  the native pose of those residues and the rest superposed as one body: what a perfect
  packing of the domains the packer moves would give;
- ``ss``: fraction of native base pairs in the MFE, and of native stems with at least half
  their pairs in it;
- ``native_ss``: best-of-n TM of the assembly on the native structure (``assemble``, k = n).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from bench.assembly import REPO, families
from rnapredict.data.sscache import SSCache
from rnapredict.io.secondary import pair_list, parse_dot_bracket
from rnapredict.prior.assembly import assemble, assembly_candidates
from rnapredict.prior.domains import rigid_domains
from rnapredict.prior.helixgraph import helix_graph
from rnapredict.prior.library import from_chains
from rnapredict.prior.natives import load_native_chains
from rnapredict.prior.select import radius_of_gyration
from rnapredict.score.superpose import apply, kabsch
from rnapredict.score.tmscore import tm_fixed_alignment


def tm(model: np.ndarray, ref: np.ndarray) -> float:
    """TM-score (by reference length) of ``model`` [L, 3] on ``ref`` [L, 3], index-matched."""
    k = np.arange(len(ref))
    return float(tm_fixed_alignment(model, ref, np.stack([k, k], 1)).tm_ref)


def domain_tm(model: np.ndarray, ref: np.ndarray, doms: list[tuple[int, int]]) -> float:
    """Length-weighted mean TM of each domain ``(i, j)`` superposed alone (NaN: none)."""
    if not doms:
        return float("nan")
    scores = [tm(model[i : j + 1], ref[i : j + 1]) for i, j in doms]
    sizes = [j - i + 1 for i, j in doms]
    return float(np.average(scores, weights=sizes))


def oracle_packing(model: np.ndarray, ref: np.ndarray, doms: list[tuple[int, int]]) -> np.ndarray:
    """``model`` [L, 3] with each domain ``(i, j)`` rigidly superposed on its native pose and
    the residues outside every domain superposed on theirs as one body."""
    out = model.copy()
    rest = np.ones(len(model), dtype=bool)
    for i, j in doms:
        r, t = kabsch(model[i : j + 1], ref[i : j + 1])
        out[i : j + 1] = apply(model[i : j + 1], r, t)
        rest[i : j + 1] = False
    if rest.sum() >= 3:
        r, t = kabsch(model[rest], ref[rest])
        out[rest] = apply(model[rest], r, t)
    return out


def ss_recovery(native: str, predicted: str) -> tuple[float, float]:
    """Fractions of native base pairs and native stems (≥ half their pairs) in ``predicted``."""
    want = set(pair_list(parse_dot_bracket(native)))
    have = set(pair_list(parse_dot_bracket(predicted)))
    if not want:
        return float("nan"), float("nan")
    stems = helix_graph(native).stems
    rec = [
        sum((int(a), int(b)) in have for a, b in zip(s.strand1(), s.strand2(), strict=True))
        >= s.n / 2
        for s in stems
    ]
    return len(want & have) / len(want), float(np.mean(rec)) if rec else float("nan")


def run_target(ch, lib, mfe: str, n: int, seed: int) -> dict:
    ref = np.asarray(ch.coords, dtype=np.float64)
    cands = assembly_candidates(
        ch.seq, mfe, "vienna", n, torch.Generator().manual_seed(seed), library=lib
    )
    native_doms = rigid_domains(helix_graph(ch.ss))
    per = []
    for c in cands:
        x = np.asarray(c.coords, dtype=np.float64)
        own = rigid_domains(helix_graph(c.ss))
        per.append(
            {
                "tm": tm(x, ref),
                "rg": radius_of_gyration(x) / radius_of_gyration(ref),
                "dom": domain_tm(x, ref, native_doms),
                "oracle": tm(oracle_packing(x, ref, own), ref),
                "n_dom": len(own),
            }
        )
    best = max(range(len(per)), key=lambda i: per[i]["tm"])
    bp, stems = ss_recovery(ch.ss, mfe)
    nat = assemble(ch.seq, ch.ss, torch.Generator().manual_seed(seed), n, lib)
    return {
        "id": ch.id,
        "length": len(ch.seq),
        "best": per[best],
        "model1": per[0],
        "oracle_best": max(p["oracle"] for p in per),
        "dom_best": max(p["dom"] for p in per),
        "native_rg": radius_of_gyration(ref),
        "native_domains": len(native_doms),
        "bp_recovered": bp,
        "stems_recovered": stems,
        "native_ss_best": max(tm(np.asarray(c.coords), ref) for c in nat),
    }


COLS = [
    ("tm best", lambda r: r["best"]["tm"]),
    ("tm m1", lambda r: r["model1"]["tm"]),
    ("Rg/native (best)", lambda r: r["best"]["rg"]),
    ("dom TM (best cand)", lambda r: r["best"]["dom"]),
    ("dom TM max", lambda r: r["dom_best"]),
    ("oracle pack (best cand)", lambda r: r["best"]["oracle"]),
    ("oracle pack max", lambda r: r["oracle_best"]),
    ("native-SS assembly best", lambda r: r["native_ss_best"]),
    ("bp recovered", lambda r: r["bp_recovered"]),
    ("stems recovered", lambda r: r["stems_recovered"]),
]


def table(rows: list[dict]) -> str:
    md = [
        "| id | L | " + " | ".join(c for c, _ in COLS) + " |",
        "|---|---|" + "---|" * len(COLS),
    ]
    for r in rows:
        md.append(
            f"| {r['id']} | {r['length']} | " + " | ".join(f"{f(r):.3f}" for _, f in COLS) + " |"
        )
    md.append(
        f"| **mean** | {len(rows)} | "
        + " | ".join(f"{np.nanmean([f(r) for r in rows]):.3f}" for _, f in COLS)
        + " |"
    )
    return "\n".join(md)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--min-len", type=int, default=150)
    p.add_argument("--max-len", type=int, default=500)
    p.add_argument("-n", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--ss-cache", type=Path, default=REPO / "runs" / "ss_cache.json")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    t0 = time.time()
    train = load_native_chains(a.data, ("train",))
    full = from_chains(train)
    fam = families(train)
    ss = SSCache(a.ss_cache)
    targets = [c for c in train if a.min_len <= len(c.seq) <= a.max_len][: a.limit]
    rows = []
    for ch in targets:
        r = run_target(ch, full.without(fam[ch.id]), ss(ch.seq), a.n, a.seed)
        rows.append(r)
        print(
            f"{r['id']:<10} {r['length']:>4} " + " ".join(f"{f(r):.3f}" for _, f in COLS),
            flush=True,
        )
    ss.save()
    text = (
        f"## long chains, leave-family-out: {len(rows)} targets, wall {time.time() - t0:.0f} s\n\n"
    )
    text += table(rows)
    print(text)
    out = {"rows": rows, "markdown": text}
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
