"""Leave-family-out evaluation of the coarse-grained score on the cached candidate sets.

    python -m bench.cgscore_eval --cache /work/cgscore_cache [--ridge 1,10,100] [--target rank|z]
        [--json out.json] [--no-packing]

Reads ``bench/cgscore_data.py``'s cache (per target: the 32-candidate pool, each raw and
refined once, with C1′ TM to the native). The score (:mod:`rnapredict.prior.cgscore`) is refitted
here with :mod:`rnapredict.train.cgscore`'s fit (its label and ridge by default), on the raw
plain-pool candidates of train chains only (the builder also adds arrangement decoys; their
effect is measured by ``bench/arrangements.py``): for a CV target on the other folds' CV targets (folds never split a
:func:`rnapredict.data.families.families` family), for a validation target on every CV
target. Reports per section:

- mean over targets of the within-target Spearman of each score with TM: the learned score on
  raw candidates (selection; also its per-candidate part alone, what ``prior.search`` anneals
  on) and on refined models (ranking), beside the session-5 ("today") compactness (raw)
  and confidence ``ranking_score`` (refined);
- selection: model-1 and best-of-5 TM of the refined models when choosing 5 of the pool —
  today (compactness order over today's 20-candidate pool, ranked by ``ranking_score``) vs the
  shipped path (learned order over the 32-candidate pool, ranked by
  :func:`rnapredict.prior.cgscore.model_ranking`'s z(score) + z(ranking_score) over the 5).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from rnapredict.geometry.candidate import Candidate
from rnapredict.prior.cgscore import CgFeatureConfig, features
from rnapredict.prior.select import DEFAULT_SELECT, compactness_penalty, select_candidates
from rnapredict.train.cgscore import DEFAULT_FIT, fit_weights, zscore

#: Feature columns of the three scalar features (consensus, −ΔG of the structure, −compactness).
SCALARS = {"consensus": -3, "ss_energy": -2, "compact": -1}


def load(cache: Path, section: str) -> list[dict]:
    out = []
    for p in sorted((cache / section).glob("*.npz")):
        if not p.name.endswith(".tmp.npz"):
            z = np.load(p, allow_pickle=False)
            out.append({k: z[k] for k in z.files})
    return out


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def mean_rho(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    return float(np.mean([spearman(x, y) for x, y in pairs]))


def evaluate(
    targets: list[dict], fits: dict[int, np.ndarray], leave_fold: bool, cfg: CgFeatureConfig
) -> dict:
    """Spearman and selection figures of one section (``fits``: weights per left-out fold)."""
    rho: dict[str, list] = {}
    sel: dict[str, list[tuple[float, float]]] = {}
    for t in targets:
        w = fits[int(t["fold"]) if leave_fold else -1]
        seq, ss = str(t["seq"]), [str(s) for s in t["ss"]]
        raw, ref = t["raw"].astype(np.float64), t["refined"].astype(np.float64)
        f_raw, f_ref = t["f_raw"], t["f_ref"]
        rs, tm_raw, tm_ref = t["ranking_score"], t["tm_raw"], t["tm_refined"]
        rho.setdefault("raw: learned", []).append((f_raw @ w, tm_raw))
        geo = f_raw[:, :-3] @ w[:-3] + f_raw[:, -1] * w[-1]
        rho.setdefault("raw: learned, per-candidate part (search)", []).append((geo, tm_raw))
        rho.setdefault("raw: compactness (today)", []).append(
            (-np.array([compactness_penalty(x) for x in raw]), tm_raw)
        )
        for name, col in SCALARS.items():
            rho.setdefault(f"raw: {name} alone", []).append((f_raw[:, col], tm_raw))
        rho.setdefault("refined: learned", []).append((f_ref @ w, tm_ref))
        rho.setdefault("refined: ranking_score (today)", []).append((rs, tm_ref))
        rho.setdefault("refined: z(learned)+z(ranking_score)", []).append(
            (zscore(f_ref @ w) + zscore(rs), tm_ref)
        )
        n_today = int(t["n_today"])
        pool = [Candidate(s, x, "assembly") for s, x in zip(ss, raw, strict=True)]
        pos = {id(c): i for i, c in enumerate(pool)}
        today = [pos[id(c)] for c in select_candidates(pool[:n_today], 5, DEFAULT_SELECT)]
        first = max(today, key=lambda i: rs[i])
        sel.setdefault("today (compactness, 20-pool; ranking_score)", []).append(
            (tm_ref[first], tm_ref[today].max())
        )
        sel.setdefault("today's 5, random model 1", []).append(
            (tm_ref[today].mean(), tm_ref[today].max())
        )
        for label, n_pool in (("32-pool", len(pool)), ("20-pool", n_today)):
            chosen = [
                pos[id(c)]
                for c in select_candidates(pool[:n_pool], 5, DEFAULT_SELECT, f_raw[:n_pool] @ w)
            ]
            five = features(seq, ref[chosen], [ss[i] for i in chosen], cfg) @ w
            for rank, key in (
                ("z(learned)+z(ranking_score)", zscore(five) + zscore(rs[chosen])),
                ("ranking_score", rs[chosen]),
                ("learned", five),
            ):
                first = chosen[int(np.argmax(key))]
                sel.setdefault(f"learned, {label}; {rank}", []).append(
                    (tm_ref[first], tm_ref[chosen].max())
                )
        sel.setdefault("oracle: best of the 32 refined", []).append((tm_ref.max(), tm_ref.max()))
    return {
        "n": len(targets),
        "spearman": {k: mean_rho(v) for k, v in rho.items()},
        "selection": {
            k: [float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v]))]
            for k, v in sel.items()
        },
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--cache", type=Path, default=Path("/work/cgscore_cache"))
    p.add_argument(
        "--ridge", default=f"{DEFAULT_FIT.ridge:g}", help="comma-separated ridge weights to report"
    )
    p.add_argument("--target", choices=("rank", "z"), default=DEFAULT_FIT.target)
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--no-packing", action="store_true", help="features without helix packing")
    a = p.parse_args(argv)
    cfg = CgFeatureConfig(packing=not a.no_packing)
    sections = {"validation": load(a.cache, "validation"), "cv": load(a.cache, "cv")}
    for ts in sections.values():
        for t in ts:
            ss = [str(s) for s in t["ss"]]
            t["f_raw"] = features(str(t["seq"]), t["raw"].astype(np.float64), ss, cfg)
            t["f_ref"] = features(str(t["seq"]), t["refined"].astype(np.float64), ss, cfg)
    cv = sections["cv"]
    out: dict = {}
    for lam in (float(x) for x in a.ridge.split(",")):
        folds = sorted({int(t["fold"]) for t in cv})
        fits = {
            f: fit_weights(
                [(t["f_raw"], t["tm_raw"]) for t in cv if int(t["fold"]) != f], lam, a.target
            )
            for f in [-1, *folds]
        }
        for name, ts in sections.items():
            r = evaluate(ts, fits, name == "cv", cfg)
            out[f"{name} ridge {lam:g}"] = r
            print(f"== {name}: {r['n']} targets, ridge {lam:g}")
            print("  within-target Spearman with TM (mean over targets):")
            for k, v in r["spearman"].items():
                print(f"    {k:<40} {v:+.3f}")
            print("  selection, refined models (model 1 TM / best-of-5 TM):")
            for k, (m1, b5) in r["selection"].items():
                print(f"    {k:<62} {m1:.3f} / {b5:.3f}")
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
