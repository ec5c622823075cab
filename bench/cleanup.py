"""All-atom clean-up of ``fold`` models: clashes, backbone links, base pairs, C1′ accuracy.

Targets: the records of ``examples/hairpins.fa`` (structure line or ViennaRNA MFE, as
``fold`` does) and 20 validation chains of 20–200 nt (evenly spread over the split's
20–200 nt chains sorted by id; MFE structure, as at inference). Each target is folded once
(engine, 5 models); the same C1′ traces are then turned into all-atom models without and
with the clean-up, and the table compares them:

- clash: clashscore (``rnapredict score``'s, per 1,000 heavy atoms), mean over the 5 models;
- link%: O3′(i)–P(i+1) within 1.5–1.7 Å, % of consecutive residues (C1′ ≤ 10.5 Å apart);
- <0.8: atom pairs closer than 0.8 Å (non-bonded);
- INF: of the model's annotated canonical pairs vs the input structure, mean over models;
- TM: C1′ TM-score vs the native (validation only, model 1);
- dC1: C1′ RMS movement by the clean-up (Å); t: CPU seconds (1 thread) to build the 5
  models with the clean-up.

``--cause`` adds a breakdown of the raw models' clashes by kind (base–base in stems/loops,
backbone–base, backbone–backbone, neighbours across a link).

    python -m bench.cleanup [--cause] [--limit N] [--cache ens.pkl]
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from rnapredict.data import default_data_dir
from rnapredict.features.secondary import partner_array, predict_ss
from rnapredict.io.structure import RnaStructure
from rnapredict.pipeline.allatom import c1_models
from rnapredict.score import clash as clash_mod
from rnapredict.score.basepairs import structure_dot_bracket

REPO = Path(__file__).resolve().parents[1]

DATA = default_data_dir()
_BACKBONE = {"P", "OP1", "OP2", "O5'", "C5'", "C4'", "O4'", "C3'", "O3'", "C2'", "O2'", "C1'"}


def targets(limit: int | None) -> list[dict]:
    """Examples + 20 validation chains: dicts with id, seq, ss, native (None or [L, 3])."""
    from rnapredict.io.fasta import iter_fasta
    from rnapredict.io.textio import iter_lines
    from rnapredict.train.data import load_chains

    out = []
    for e in iter_fasta(iter_lines(REPO / "examples" / "hairpins.fa"), "hairpins.fa"):
        seq = e.sequence.upper().replace("T", "U")
        ss = e.structure or predict_ss(seq)
        out.append({"id": e.id, "seq": seq, "ss": ss, "native": None})
    chains = load_chains(DATA, "validation", Path("/tmp") / "rnapredict_ss_cache.json")
    sel = [c for c in chains if 20 <= len(c.seq) <= 200]
    pick = sorted({round(k * (len(sel) - 1) / 19) for k in range(20)})
    for k in pick:
        c = sel[k]
        out.append({"id": c.id, "seq": c.seq, "ss": c.ss, "native": c.coords.astype(float)})
    return out[:limit] if limit else out


def fold_traces(tgts: list[dict]) -> None:
    """Adds ``c1`` [5, L, 3] and ``plddt`` [5, L] to each target (engine, seed 0)."""
    from rnapredict.engine import load_engine
    from rnapredict.io.records import Record
    from rnapredict.pipeline.api import FoldOptions

    engine = load_engine(None)
    for t in tgts:
        pred = engine.predict(
            Record(t["id"], t["seq"], ss=t["ss"]), FoldOptions(n_samples=5, cleanup=False)
        )
        t["c1"], t["plddt"] = pred.extra["c1"], pred.plddt


def clash_pairs(model: RnaStructure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All clashing pairs of ``clashscore`` (:func:`rnapredict.score.clash.clashing_pairs`,
    same criteria): pairs [K, 2], d [K], close [K] (pairs < 0.8 Å apart)."""
    pairs, d, _ = clash_mod.clashing_pairs(model, clash_mod.ClashConfig())
    return pairs, d, d < 0.8


def cause(model: RnaStructure, partner: np.ndarray) -> Counter:
    """Clashes of one model by kind."""
    pairs, _, _ = clash_pairs(model)
    out: Counter = Counter()
    res, names = model.atom_res, model.atom_names
    for a, b in pairs:
        i, j = sorted((int(res[a]), int(res[b])))
        ka = "bb" if names[a] in _BACKBONE else "base"
        kb = "bb" if names[b] in _BACKBONE else "base"
        if i == j:
            kind = "intra-residue"
        elif j == i + 1 and ka == kb == "bb":
            kind = "link neighbours (backbone)"
        elif ka == kb == "base":
            pi, pj = partner[i] >= 0, partner[j] >= 0
            if partner[i] == j:
                kind = "base-base, pair partners"
            elif pi and pj and j - i == 1:
                kind = "base-base, stacked in a stem"
            elif pi and pj:
                kind = "base-base, other stem residues"
            else:
                kind = "base-base, loop residue involved"
        elif ka == kb == "bb":
            kind = "backbone-backbone"
        else:
            kind = "backbone-base"
        out[kind] += 1
    return out


def link_ok(model: RnaStructure) -> tuple[int, int]:
    """(links with O3′–P in 1.5–1.7 Å, links) over consecutive residues with C1′ ≤ 10.5 Å."""
    o3, _ = model.atom_coords("O3'")
    p, _ = model.atom_coords("P")
    c1, _ = model.atom_coords("C1'")
    gap = np.linalg.norm(c1[1:] - c1[:-1], axis=1)
    d = np.linalg.norm(o3[:-1] - p[1:], axis=1)[gap <= 10.5]
    return int(((d >= 1.5) & (d <= 1.7)).sum()), len(d)


def inf_vs_input(model: RnaStructure, ss: str) -> float:
    """INF of the model's canonical pairs (annotated in 3D) against the input structure."""
    from rnapredict.score.inf import inf_score

    def pairs(db: str) -> set:
        p = partner_array(db)
        return {(i, int(j), "cWW") for i, j in enumerate(p) if j > i}

    got, ref = pairs(structure_dot_bracket(model)), pairs(ss)
    v = inf_score(got, ref)
    return 1.0 if np.isnan(v) else v


def tm_c1(model: RnaStructure, native: np.ndarray, seq: str) -> float:
    from rnapredict.score.api import ScoreOptions, score_structures

    ref = RnaStructure.from_residues(seq, [{"C1'": p} for p in native])
    opts = ScoreOptions(atom="C1'", align="index", interactions=False, clashes=False)
    return float(score_structures(model, ref, opts).tm.tm_ref)


def evaluate(t: dict, cleanup: bool) -> dict:
    t0 = time.process_time()  # CPU seconds (one thread): wall time on a shared machine varies
    ss = [t["ss"]] * len(t["c1"])
    models, _, _ = c1_models(t["seq"], t["c1"], ss, t["plddt"], cleanup=cleanup)
    sec = time.process_time() - t0
    clashes, close, ok, total, inf = [], 0, 0, 0, []
    for m in models:
        clashes.append(clash_mod.clashscore(m).score)
        _, _, c = clash_pairs(m)
        close += int(c.sum())
        a, b = link_ok(m)
        ok, total = ok + a, total + b
        inf.append(inf_vs_input(m, t["ss"]))
    c1 = np.stack([m.atom_coords("C1'")[0] for m in models])
    row = {
        "clash": float(np.mean(clashes)),
        "clashes": clashes,
        "link": 100.0 * ok / max(total, 1),
        "links": (ok, total),
        "close": close,
        "inf": float(np.mean(inf)),
        "dc1": float(np.sqrt(np.mean(np.sum((c1 - t["c1"]) ** 2, -1)))),
        "sec": sec,
        "tm": tm_c1(models[0], t["native"], t["seq"]) if t["native"] is not None else None,
        "models": models,
    }
    return row


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--cache", type=Path, default=None, help="pickle of folded traces")
    p.add_argument("--cause", action="store_true")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if a.cache and a.cache.exists():
        tgts = pickle.loads(a.cache.read_bytes())[: a.limit or None]
    else:
        tgts = targets(a.limit)
        fold_traces(tgts)
        if a.cache:
            a.cache.write_bytes(pickle.dumps(tgts))
    head = f"{'id':<10}{'L':>4} | {'clash':>6}{'link%':>6}{'<0.8':>5}{'INF':>5}{'TM':>6}"
    print(head + f" | {'clash':>6}{'link%':>6}{'<0.8':>5}{'INF':>5}{'TM':>6}{'dC1':>5}{'t/s':>5}")
    print(f"{'':<15}| raw models{'':<19}| cleaned")
    raw_all, new_all, causes = [], [], Counter()
    for t in tgts:
        raw, new = evaluate(t, False), evaluate(t, True)
        raw_all.append(raw)
        new_all.append(new)
        if a.cause:
            for m in raw["models"]:
                causes += cause(m, partner_array(t["ss"]))

        def cells(r: dict) -> str:
            tm = f"{r['tm']:.3f}" if r["tm"] is not None else "-"
            return f"{r['clash']:>6.1f}{r['link']:>6.1f}{r['close']:>5d}{r['inf']:>5.2f}{tm:>6}"

        print(f"{t['id'][:10]:<10}{len(t['seq']):>4} | {cells(raw)} | {cells(new)}"
              f"{new['dc1']:>5.2f}{new['sec']:>5.2f}", flush=True)  # fmt: skip
    for name, rows in (("raw", raw_all), ("cleaned", new_all)):
        cs = np.concatenate([r["clashes"] for r in rows])
        ok = sum(r["links"][0] for r in rows)
        tot = sum(r["links"][1] for r in rows)
        tms = [r["tm"] for r in rows if r["tm"] is not None]
        print(
            f"{name:>8}: clashscore median {np.median(cs):.1f} p90 {np.percentile(cs, 90):.1f}"
            f" | links ok {100 * ok / tot:.2f}% | <0.8 Å pairs {sum(r['close'] for r in rows)}"
            f" | INF mean {np.mean([r['inf'] for r in rows]):.3f}"
            f" min {np.min([r['inf'] for r in rows]):.2f}"
            f" | TM mean {np.mean(tms):.4f}"
        )
    nt = sum(len(t["seq"]) for t in tgts)
    print(f"clean-up time: {sum(r['sec'] for r in new_all) - sum(r['sec'] for r in raw_all):.2f}"
          f" s over {nt} nt x 5 models"
          f" = {100 * (sum(r['sec'] for r in new_all) - sum(r['sec'] for r in raw_all)) / nt:.2f}"
          " s per 100 nt")  # fmt: skip
    if a.cause:
        total = sum(causes.values())
        print(f"\nraw clashes by kind ({total} in {5 * len(tgts)} models):")
        for k, v in causes.most_common():
            print(f"  {k:<34}{v:>6} {100 * v / total:5.1f}%")


if __name__ == "__main__":
    main()
