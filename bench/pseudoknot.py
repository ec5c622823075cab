"""Pseudoknot placement from mined instances vs the pull alone, on chains with pseudoknots.

    python -m bench.pseudoknot [-k 5] [--sets val,lfo] [--json out.json]

Targets: chains of ``../shared/data`` whose native secondary structure has pseudoknotted
pairs, each assembled on its **native** structure (the question is the 3D of a given
pseudoknot, not finding it). ``val``: validation chains, library from all train chains;
``lfo``: train chains, library mined without the target's sequence family (as
:mod:`bench.assembly`). Per mode (``placed``: shipped behaviour; ``pull``: pseudoknot
instances removed, today's pull only): C1′ TM first / best of k, median C1′ distance of
pseudoknot partners (native ~10.5 Å), share of partners within 14 Å, steric contacts
(< 3.5 Å) and backbone steps > 12 Å left in candidate 1, pseudoknot stems placed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from bench.assembly import c1_structure, families, parser, tm
from rnapredict.prior.assembly import assemble
from rnapredict.prior.helixgraph import helix_graph
from rnapredict.prior.instances import MotifLibrary
from rnapredict.prior.library import from_chains
from rnapredict.prior.natives import NativeChain, load_native_chains
from rnapredict.prior.pkmotif import PkLibrary
from rnapredict.prior.steric import clash_pairs

KEYS = ["tm_first", "tm_best", "pk_median", "pk_within", "clashes", "long_steps", "placed"]


def no_pk(lib: MotifLibrary) -> MotifLibrary:
    """``lib`` without its pseudoknot instances."""
    return MotifLibrary(lib.instances, lib.geoms, lib.meta, PkLibrary([]))


def run_target(ch: NativeChain, lib: MotifLibrary, k: int, seed: int) -> dict:
    ref = c1_structure(ch.seq, ch.coords)
    pk = np.array(helix_graph(ch.ss).pk_pairs)
    row: dict = {"id": ch.id, "length": len(ch.seq), "pk_pairs": len(pk)}
    for mode, one in (("placed", lib), ("pull", no_pk(lib))):
        cands = assemble(ch.seq, ch.ss, torch.Generator().manual_seed(seed), k, one)
        x = cands[0].coords
        d = np.linalg.norm(x[pk[:, 0]] - x[pk[:, 1]], axis=-1)
        scores = [tm(c.coords, ref) for c in cands]
        row[mode] = {
            "tm_first": scores[0],
            "tm_best": max(scores),
            "pk_median": float(np.median(d)),
            "pk_within": float((d < 14.0).mean()),
            "clashes": len(clash_pairs(x)),
            "long_steps": int((np.linalg.norm(np.diff(x, axis=0), axis=-1) > 12.0).sum()),
            "placed": cands[0].info.get("n_pk_placed", 0),
        }
    return row


def table(name: str, rows: list[dict], k: int) -> str:
    md = [
        f"**{name}** ({len(rows)} chains with pseudoknots, native SS, k={k})",
        "",
        "| mode | " + " | ".join(KEYS) + " |",
        "|---|" + "---|" * len(KEYS),
    ]
    for mode in ("pull", "placed"):
        m = [np.mean([r[mode][key] for r in rows]) for key in KEYS]
        md.append(f"| {mode} | " + " | ".join(f"{v:.3f}" for v in m) + " |")
    return "\n".join(md)


def main(argv: list[str] | None = None) -> dict:
    p = parser(__doc__)
    p.add_argument("--max-len", type=int, default=400)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    t0 = time.time()
    chains = load_native_chains(a.data, ("train", "validation"))
    train = [c for c in chains if c.split == "train"]
    full = from_chains(train)
    out: dict = {"pk_instances": len(full.pk)}
    for name in a.sets.split(","):
        split = "validation" if name == "val" else "train"
        targets = [
            c for c in chains
            if c.split == split and helix_graph(c.ss).pk_pairs and len(c.seq) <= a.max_len
        ]  # fmt: skip
        fam = families(train) if name == "lfo" else {}
        rows = []
        for ch in targets:
            lib = full.without(fam[ch.id]) if name == "lfo" else full
            rows.append(run_target(ch, lib, a.k, a.seed))
        out[name] = rows
        print(table(name, rows, a.k), flush=True)
    out["seconds"] = round(time.time() - t0, 1)
    print(f"{out['seconds']} s")
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
