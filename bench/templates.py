"""Templates: search speed and validation accuracy with vs without templates.

    python -m bench.templates speed [--chains 10000] [--length 200]
    python -m bench.templates candidates [--library weights/templates.npz]
    python -m bench.templates fold [-n 5] [--steps N] [--json out.json]
    python -m bench.templates summary --json out.json

``speed``: one query against a synthetic library (random sequences, plus mutated copies of the
query so the exact alignment has real work), prefilter + alignment wall time per query.
``candidates``: for each of the 74 validation chains (c1 43 + allatom 31) the best template hit
(train-only library, cutoff 2020-01-01, never the chain itself) and the C1′ TM-score of the raw
template candidate vs the A-form prior — no model involved.
``fold``: the engine, best-of-n C1′ TM-score (index alignment) with templates vs
``--templates none``, per chain, with the template's identity/coverage.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from rnapredict.features.secondary import predict_ss
from rnapredict.score.tmscore import tm_fixed_alignment
from rnapredict.templates.candidate import template_candidate
from rnapredict.templates.dataset import allatom_chains, c1_chains
from rnapredict.templates.library import TemplateChain, TemplateLibrary, load_library
from rnapredict.templates.search import SearchConfig, search

REPO = Path(__file__).resolve().parents[1]

CUTOFF = "2020-01-01"
DATA = REPO.parent / "shared" / "data"


def tm(model: np.ndarray, ref: np.ndarray) -> float:
    """C1′ TM-score normalised by the reference, residues matched by index (finite rows)."""
    ok = np.flatnonzero(np.isfinite(ref).all(1) & np.isfinite(model).all(1))
    return float(tm_fixed_alignment(model, ref, np.stack([ok, ok], 1), len_ref=len(ref)).tm_ref)


def validation_chains(data: Path, cache: Path) -> list[tuple[str, str, str, np.ndarray]]:
    """(id, seq, MFE ss, C1′ [L, 3]) of the 74 validation chains (ViennaRNA MFE, cached)."""
    ss_cache = json.loads(cache.read_text()) if cache.exists() else {}
    out = []
    for tc in c1_chains(data, "validation") + allatom_chains(data, "validation"):
        if tc.seq not in ss_cache:
            ss_cache[tc.seq] = predict_ss(tc.seq)
        out.append((tc.id, tc.seq, ss_cache[tc.seq], tc.c1.astype(np.float64)))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(ss_cache, sort_keys=True))
    return out


def speed(a: argparse.Namespace) -> None:
    rng = np.random.default_rng(0)
    alphabet = np.array(list("ACGU"))
    query = "".join(rng.choice(alphabet, a.length))
    chains = []
    for i in range(a.chains):
        if i % 100 == 0:  # 1 % relatives: the query with 15 % point mutations
            s = np.array(list(query))
            mut = rng.random(len(s)) < 0.15
            s[mut] = rng.choice(alphabet, mut.sum())
            seq = "".join(s)
        else:
            seq = "".join(rng.choice(alphabet, int(rng.integers(20, 400))))
        chains.append(TemplateChain(f"S{i:05d}", "A", seq, "2000-01-01", np.zeros((len(seq), 3))))
    lib = TemplateLibrary.from_chains(chains)
    t0 = time.perf_counter()
    search(lib, query)  # builds the k-mer index once
    t_index = time.perf_counter() - t0
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        hits = search(lib, query)
        times.append(time.perf_counter() - t0)
    print(
        f"| library chains | residues | query nt | index build s | search s (median of {a.repeats}) | hits |"
    )
    print("|---|---|---|---|---|---|")
    print(f"| {len(lib)} | {len(lib.seq)} | {a.length} | {t_index - np.median(times):.2f} "
          f"| {np.median(times):.3f} | {len(hits)} |")  # fmt: skip
    path = Path("/tmp") / "bench_templates_lib.npz"
    lib.save(path, overwrite=True)
    from rnapredict.templates.library import load_library  # just written: not yet cached

    t0 = time.perf_counter()
    load_library(path)
    print(f"\nload of a {a.chains}-chain library: {time.perf_counter() - t0:.3f} s")
    shipped = REPO / "weights" / "templates.npz"
    if shipped.exists():
        t0 = time.perf_counter()
        load_library(shipped)
        print(f"load of the shipped library: {time.perf_counter() - t0:.3f} s")


def candidates(a: argparse.Namespace) -> list[dict]:
    from rnapredict.geometry.candidate import aform_candidate

    lib = load_library(a.library)
    rows = []
    for cid, seq, ss, ref in validation_chains(a.data, a.ss_cache):
        hits = search(lib, seq, cid, CUTOFF, SearchConfig(max_evalue=a.max_evalue))
        base = tm(aform_candidate(seq, ss).coords, ref)
        row = {"id": cid, "length": len(seq), "aform_tm": base, "hit": None}
        if hits:
            h = hits[0]
            c = template_candidate(seq, ss, h, lib)
            row.update(hit=h.id, identity=h.identity, coverage=h.coverage, evalue=h.evalue,
                       cand_tm=tm(c.coords, ref))  # fmt: skip
        rows.append(row)
        extra = (
            f"{row['hit']:<8} id {row['identity']:.2f} cov {row['coverage']:.2f} "
            f"E {row['evalue']:.1e} TM {row['cand_tm']:.3f}"
            if hits
            else "-"
        )
        print(f"{cid:<8} {len(seq):>4}  A-form TM {base:.3f}  {extra}", flush=True)
    with_hit = [r for r in rows if r["hit"]]
    print(f"\n{len(with_hit)}/{len(rows)} chains with a hit; mean candidate TM "
          f"{np.mean([r['cand_tm'] for r in with_hit]):.3f} vs A-form "
          f"{np.mean([r['aform_tm'] for r in with_hit]):.3f}")  # fmt: skip
    return rows


def fold(a: argparse.Namespace) -> dict:
    from rnapredict.engine import load_engine
    from rnapredict.io.records import Record
    from rnapredict.pipeline.api import FoldOptions

    engine = load_engine(a.weights)
    lib_all = load_library(a.library)
    rows = []
    t0 = time.time()
    for cid, seq, _ss, ref in validation_chains(a.data, a.ss_cache):
        row: dict = {"id": cid, "length": len(seq), "relative": relative(lib_all, cid, seq)}
        for mode, lib in (("none", "none"), ("templates", str(a.library))):
            opts = FoldOptions(
                n_samples=a.samples, seed=a.seed, steps=a.steps, templates=lib,
                cutoff=CUTOFF,
            )  # fmt: skip
            pred = engine.predict(Record(cid, seq), opts)  # as `fold` does: ViennaRNA inside
            scores = [tm(c, ref) for c in pred.extra["c1"]]
            row[f"{mode}_best"], row[f"{mode}_m1"] = max(scores), scores[0]
            used = [p for p in pred.model_prior if p.get("source") == "template"]
            if mode == "templates" and used:
                top = max(used, key=lambda p: p["identity"] * p["coverage"])
                row.update(template=top["template"], identity=top["identity"],
                           coverage=top["coverage"])  # fmt: skip
        row["delta"] = row["templates_best"] - row["none_best"]
        rows.append(row)
        t = (
            f"{row['template']:<8} id {row['identity']:.2f} cov {row['coverage']:.2f}"
            if "template" in row
            else "-"
        )
        print(f"| {cid} | {len(seq)} | {row['none_best']:.3f} | {row['templates_best']:.3f} | "
              f"{row['delta']:+.3f} | {row['none_m1']:.3f} | {row['templates_m1']:.3f} | {t} |", flush=True)  # fmt: skip
    summary = summarize(rows)
    print(f"\n{engine.model_version}, n={a.samples}, steps {a.steps or 'default'}, seed {a.seed}, "
          f"cutoff {CUTOFF}, wall {time.time() - t0:.0f} s")  # fmt: skip
    out = {"rows": rows, "summary": summary}
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return out


def relative(lib: TemplateLibrary, cid: str, seq: str) -> str | None:
    """Best train-split relative at a loose bar (identity, coverage ≥ 0.6, E ≤ 100), or None."""
    hits = search(lib, seq, cid, CUTOFF, SearchConfig(max_evalue=100.0))
    return hits[0].id if hits else None


def summarize(rows: list[dict]) -> dict:
    """Print and return the group means (template used / loose relative / neither / all)."""
    groups = (
        ("template used", [r for r in rows if "template" in r]),
        ("relative (E <= 100)", [r for r in rows if r.get("relative")]),
        ("no relative", [r for r in rows if not r.get("relative")]),
        ("no template used", [r for r in rows if "template" not in r]),
        ("all", rows),
    )
    summary = {}
    for name, sel in groups:
        if sel:
            summary[name] = {
                "n": len(sel),
                **{k: float(np.mean([r[k] for r in sel])) for k in
                   ("none_best", "templates_best", "delta", "none_m1", "templates_m1")},
                "worst_delta": float(min(r["delta"] for r in sel)),
            }  # fmt: skip
    print(
        "\n| chains | n | best-of-n none | best-of-n templates | Δ mean | worst Δ | model 1 none | model 1 templates |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, s in summary.items():
        print(f"| {name} | {s['n']} | {s['none_best']:.3f} | {s['templates_best']:.3f} | {s['delta']:+.3f} "
              f"| {s['worst_delta']:+.3f} | {s['none_m1']:.3f} | {s['templates_m1']:.3f} |")  # fmt: skip
    return summary


def resummarize(a: argparse.Namespace) -> dict:
    """Summary of an earlier ``fold --json`` run (fills in ``relative`` where missing)."""
    out = json.loads(a.json.read_text())
    lib = load_library(a.library)
    seqs = {cid: seq for cid, seq, _, _ in validation_chains(a.data, a.ss_cache)}
    for r in out["rows"]:
        if "relative" not in r:
            r["relative"] = relative(lib, r["id"], seqs[r["id"]])
    print("| id | nt | relative (E <= 100) | template used | none | templates | Δ |")
    print("|---|---|---|---|---|---|---|")
    for r in out["rows"]:
        if r["relative"] or "template" in r:
            used = (
                f"{r['template']} id {r['identity']:.2f} cov {r['coverage']:.2f}"
                if "template" in r
                else "-"
            )
            print(f"| {r['id']} | {r['length']} | {r['relative'] or '-'} | {used} | "
                  f"{r['none_best']:.3f} | {r['templates_best']:.3f} | {r['delta']:+.3f} |")  # fmt: skip
    out["summary"] = summarize(out["rows"])
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("what", choices=["speed", "candidates", "fold", "summary"])
    p.add_argument("--chains", type=int, default=10000)
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--library", type=Path, default=REPO / "weights" / "templates.npz")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--ss-cache", type=Path, default=REPO / "runs" / "ss_cache_val_templates.json")
    p.add_argument("--weights", type=Path, default=None)
    p.add_argument("-n", "--samples", type=int, default=5)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--max-evalue", type=float, default=SearchConfig().max_evalue)
    a = p.parse_args(argv)
    {"speed": speed, "candidates": candidates, "fold": fold, "summary": resummarize}[a.what](a)


if __name__ == "__main__":
    main()
