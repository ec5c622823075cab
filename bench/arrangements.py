"""The score's blind spot (issue 24): ranking 3D arrangements of ONE secondary structure.

    python -m bench.arrangements build --out /work/arr_cache [--section validation|cv]
        [--sampled 48] [--searched 16] [--min-length 50] [--max-length 400] [--limit N]
    python -m bench.arrangements eval --out /work/arr_cache [--pools /work/cgscore_cache]
        [--json out.json]

``build`` (resumable, one .npz per target): for each validation target (shipped motif library)
and CV target (train chains in family folds, :func:`bench.cgscore_data.target_jobs`; the library
built without the target's fold), the MFE structure's arrangements
(:func:`rnapredict.train.cgscore.arrangement_pool`: ``--sampled`` plain assemblies with random
per-loop library choices, ``--searched`` annealing states with coaxial-stacking variants),
each labelled by C1′ TM-score to the native.

``eval`` reports per section, mean over targets:

- within-structure Spearman of a score's per-candidate part (:meth:`CgScore.geometry`, what
  ``prior.search`` anneals on) with TM; TM of the best-by-score arrangement, of the first
  search state, of a random one (mean), and the oracle (best TM);
- scores: the shipped one (validation only: it was fitted on CV targets) and scores refitted
  leave-family-out (validation: on every CV target; CV: on the other folds' targets) by each
  of :data:`RECIPES`: session 7's (plain-pool decoys only, ``--pools``:
  ``bench.cgscore_data``'s cache, targets re-dealt to this cache's folds by id; z-scored TM,
  ridge 10) and the shipped builder's (plain pools + arrangements, normal scores of the TM
  ranks, ridge 1), the latter also with the contact features (:mod:`rnapredict.prior.contacts`);
- the plain-pool Spearman (raw candidates, full score) of the same refits, so a gain on
  arrangements is not bought with a loss across structures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.cgscore_data import cv_library, save_npz, target_jobs
from bench.cgscore_eval import load, spearman
from rnapredict.data import default_data_dir
from rnapredict.data.sscache import SSCache
from rnapredict.prior.cgscore import CgFeatureConfig, default_cgscore, features
from rnapredict.train.cgscore import DEFAULT_FIT, arrangement_pool, fit_weights, tm_to


def build(a: argparse.Namespace) -> None:
    jobs, excl = target_jobs(a.data, SSCache(a.ss_cache), a.section, a.folds, a.min_length,
                             a.max_length, a.out)  # fmt: skip
    libs: dict[int, object] = {}
    for section, t, fam, fold in jobs[: a.limit]:
        path = a.out / section / f"{t.id}.npz"
        if path.exists():
            continue
        t0 = time.perf_counter()
        library = cv_library(a.data, fold, excl, libs)
        pool = arrangement_pool(t.seq, t.ss, t.id, library, a.sampled, a.searched, a.seed)
        x = np.stack([c.coords for c in pool]).astype(np.float32)
        tm = tm_to(x, t.c1)
        searched = np.array([c.info["ss_source"] == "vienna-search" for c in pool])
        save_npz(path, {
            "id": t.id, "seq": t.seq, "ss": t.ss, "coords": x, "tm": tm, "searched": searched,
            "family": fam, "fold": fold, "native": t.c1.astype(np.float32),
        })  # fmt: skip
        print(
            f"[{section}] {t.id:<10} L={len(t.seq):>4} n={len(x):>3} TM {tm.min():.3f}–"
            f"{tm.max():.3f} {time.perf_counter() - t0:.1f}s",
            flush=True,
        )


def _features(seq: str, coords: np.ndarray, ss: list[str], cfg: CgFeatureConfig) -> np.ndarray:
    return features(seq, np.asarray(coords, np.float64), ss, cfg)


def geometry_part(f: np.ndarray, w: np.ndarray) -> np.ndarray:
    """[S] the per-candidate part of the score (:meth:`CgScore.geometry`) from full features."""
    return f[:, :-3] @ w[:-3] + f[:, -1] * w[-1]


def summarise(arr: list[dict], scores: list[np.ndarray]) -> dict:
    """Mean within-structure Spearman and TM of best-by-score / first search state / random /
    oracle over ``arr`` targets with per-target ``scores``."""
    rho, pick, first, rand, best = [], [], [], [], []
    for t, s in zip(arr, scores, strict=True):
        tm = t["tm"]
        rho.append(spearman(s, tm))
        pick.append(tm[int(np.argmax(s))])
        srch = np.flatnonzero(t["searched"])
        first.append(tm[srch[0]] if len(srch) else tm[0])
        rand.append(tm.mean())
        best.append(tm.max())
    return {
        "spearman": float(np.mean(rho)), "best_by_score": float(np.mean(pick)),
        "search_first": float(np.mean(first)), "random": float(np.mean(rand)),
        "oracle": float(np.mean(best)),
    }  # fmt: skip


def refit_figures(arr: list[dict], pools: list[dict], fits: dict, leave_fold: bool) -> dict:
    """:func:`summarise` of refitted weights (``fits``: per left-out fold, −1: all CV) on the
    arrangements, plus the plain-pool Spearman of the full score (``pool_spearman``)."""

    def w(t: dict) -> np.ndarray:
        return fits[int(t["fold"]) if leave_fold else -1]

    r = summarise(arr, [geometry_part(t["f"], w(t)) for t in arr])
    r["pool_spearman"] = float(np.mean([spearman(t["f"] @ w(t), t["tm_raw"]) for t in pools]))
    return r


#: (label, decoys fitted on, within-target label, ridge, contact features) of the refits.
RECIPES = (
    ("session 7 recipe: plain pools, z(TM), ridge 10", False, "z", 10.0, False),
    ("shipped recipe: pools + arrangements, rank, ridge 1", True, "rank", 1.0, False),
    ("shipped recipe + contact features", True, "rank", 1.0, True),
)


def evaluate(a: argparse.Namespace) -> dict:
    arr = {s: load(a.out, s) for s in ("validation", "cv")}
    folds = json.loads((a.out / "cv_folds.json").read_text())
    pools = {s: load(a.pools, s) for s in ("validation", "cv")}
    for t in pools["cv"]:
        t["fold"] = folds[str(t["id"])][1]  # this cache's family folds
    full = CgFeatureConfig(contacts=True)  # today's columns are these without the contacts
    at = len(full.sep_edges) * full.n_bins + full.coord_max + 1 + full.n_packing
    drop = np.arange(at, at + full.n_contacts)
    for sec in arr:
        for t in arr[sec]:
            t["f+"] = _features(str(t["seq"]), t["coords"], [str(t["ss"])] * len(t["tm"]), full)
        for t in pools[sec]:
            t["f+"] = _features(str(t["seq"]), t["raw"], [str(s) for s in t["ss"]], full)
    out: dict = {}
    shipped = default_cgscore()
    for label, mixed, target, lam, contacts in RECIPES:
        for t in (t for sec in arr for t in (*arr[sec], *pools[sec])):
            t["f"] = t["f+"] if contacts else np.delete(t["f+"], drop, axis=1)
        if shipped is not None and shipped.config == CgFeatureConfig(contacts=contacts):
            w = shipped.weights
            val = arr["validation"]
            out.setdefault(
                "validation: shipped score", summarise(val, [geometry_part(t["f"], w) for t in val])
            )
        fits = {}
        for f in [-1, *sorted({int(t["fold"]) for t in arr["cv"]})]:
            sets = [(t["f"], t["tm_raw"]) for t in pools["cv"] if int(t["fold"]) != f]
            if mixed:
                sets += [(t["f"], t["tm"]) for t in arr["cv"] if int(t["fold"]) != f]
            fits[f] = fit_weights(sets, lam, target)
        for sec in ("validation", "cv"):
            out[f"{sec}: {label}"] = refit_figures(arr[sec], pools[sec], fits, sec == "cv")
    for k, r in out.items():
        extra = f" pools ρ {r['pool_spearman']:+.3f}" if "pool_spearman" in r else ""
        print(
            f"{k:<70} ρ {r['spearman']:+.3f} pick {r['best_by_score']:.3f} search-1st "
            f"{r['search_first']:.3f} random {r['random']:.3f} oracle {r['oracle']:.3f}{extra}"
        )
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("cmd", choices=("build", "eval"))
    p.add_argument("--out", type=Path, default=Path("/work/arr_cache"))
    p.add_argument("--data", type=Path, default=default_data_dir())
    p.add_argument("--section", choices=("validation", "cv"), action="append")
    p.add_argument("--min-length", type=int, default=50)
    p.add_argument("--max-length", type=int, default=400)
    p.add_argument("--sampled", type=int, default=DEFAULT_FIT.sampled)
    p.add_argument("--searched", type=int, default=DEFAULT_FIT.searched)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--ss-cache", type=Path, default=Path("/work/meas/ss_cache.json"))
    p.add_argument("--pools", type=Path, default=Path("/work/cgscore_cache"))
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    build(a) if a.cmd == "build" else evaluate(a)


if __name__ == "__main__":
    main()
