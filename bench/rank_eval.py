"""Offline comparison of model orderings on :mod:`bench.rank_signals`' dump.

    python -m bench.rank_signals eval DIR [--json out.json]

Per section (validation, leave-family-out CV) and ordering: mean model-1 C1′ TM, its gap to
best-of-S, mean model-1 lDDT and the mean within-target Spearman of the signal with TM. A
combination's weight is chosen on CV only: for a CV target on the other folds (folds never
split a sequence family), for a validation target on every CV target. Then the calibration of
the confidence: per-chain |mean pLDDT/100 − lDDT| and the per-residue Pearson of pLDDT with
lDDT, for the network's pLDDT and blends with the ensemble's per-residue agreement.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.accuracy import tm_lddt
from bench.cgscore_eval import spearman
from rnapredict.io.atomic import atomic_write_text
from rnapredict.pipeline.rank import Confidence, RankConfig, agreement, blend, ranking_score
from rnapredict.score.lddt import lddt

#: Candidate weights of the second signal of a z-sum combination (chosen on CV).
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 100.0)


def pair_matrices(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of samples [S, L, 3]: [S, S] TM-scores (with the superposition search; symmetric: one
    search per pair) and [S, S] lDDT of a to b (diagonal 1)."""
    s = len(coords)
    tm, ld = np.eye(s), np.eye(s)
    for a in range(s):
        for b in range(s):
            if a != b:
                ld[a, b] = lddt(coords[a], coords[b]).score
                if a < b:
                    tm[a, b] = tm[b, a] = tm_lddt(coords[a], coords[b])[0]
    return tm, ld


def off_diagonal_mean(m: np.ndarray) -> np.ndarray:
    """[S] mean of each row of a square [S, S] matrix without its diagonal (0 when S = 1)."""
    s = len(m)
    return (m.sum(1) - np.diag(m)) / max(s - 1, 1)


def zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-12 else np.zeros_like(x)


def prepare(t: dict) -> dict:
    """Truth and signals [S] of one target's samples."""
    x, nat = t["coords"], t["native"]
    truth = np.array([tm_lddt(m, nat) for m in x])
    tm5, ld5 = pair_matrices(x)
    cons, agree = agreement(x)
    pool_ld = np.array([[lddt(m, c).score for c in t["pool"]] for m in x])
    owner = t["owner"]
    res = np.array([lddt(m, nat).per_residue for m in x])  # [S, L] per-residue lDDT to native
    sig = {
        "ranking_score (today)": ranking_score_np(t["ptm"], t["plddt"]),
        "pTM": t["ptm"],
        "mean pLDDT": t["plddt"].mean(1),
        "learned score (cgscore)": t["cgscore"],
        "consensus TM (5 models)": off_diagonal_mean(tm5),
        "consensus lDDT (5 models)": off_diagonal_mean(ld5),
        "consensus TM, three fits (5 models)": cons,
        "consensus lDDT (candidate pool)": pool_ld.mean(1),
        "−ΔG of its structure": -t["cand_dg"][owner],
        "MFE candidate first": (owner == 0).astype(float),
    }
    return {
        "id": str(t["id"]),
        "fold": int(t["fold"]),
        "length": len(nat),
        "tm": truth[:, 0],
        "lddt": truth[:, 1],
        "sig": sig,
        "plddt": t["plddt"],
        "ptm": t["ptm"],
        "res_lddt": res,
        "agree": agree,
        "cons_tm": cons,
    }


def prepared(root: Path, section: str) -> list[dict]:
    """:func:`prepare` of every dumped target of ``section``, cached in ``root/prepared``."""
    out = []
    cache = root / "prepared" / section
    cache.mkdir(parents=True, exist_ok=True)
    for p in sorted((root / section).glob("*.npz")):
        if p.name.endswith(".tmp.npz"):
            continue
        c = cache / f"{p.stem}.pkl"
        if c.exists() and c.stat().st_mtime >= p.stat().st_mtime:
            out.append(pickle.loads(c.read_bytes()))
            continue
        z = np.load(p, allow_pickle=False)
        out.append(prepare({k: z[k] for k in z.files}))
        c.write_bytes(pickle.dumps(out[-1]))
    return out


def ranking_score_np(ptm: np.ndarray, plddt: np.ndarray) -> np.ndarray:
    import torch

    return ranking_score(torch.from_numpy(ptm), torch.from_numpy(plddt)).numpy()


def pick(score: np.ndarray) -> int:
    """Model 1: the best score, the first sample on ties (stable, as the pipeline)."""
    return int(np.argsort(-score, kind="stable")[0])


def figures(targets: list[dict], score: Callable[[dict], np.ndarray]) -> dict:
    m1 = [t["tm"][pick(score(t))] for t in targets]
    ld = [t["lddt"][pick(score(t))] for t in targets]
    best = [t["tm"].max() for t in targets]
    rho = [spearman(score(t), t["tm"]) for t in targets]
    return {
        "tm_model1": float(np.mean(m1)),
        "gap": float(np.mean(best) - np.mean(m1)),
        "lddt_model1": float(np.mean(ld)),
        "spearman": float(np.mean(rho)),
    }


def zsum(a: str, b: str, w: float) -> Callable[[dict], np.ndarray]:
    return lambda t: zscore(t["sig"][a]) + w * zscore(t["sig"][b])


def linear(a: str, b: str, w: float) -> Callable[[dict], np.ndarray]:
    return lambda t: t["sig"][a] + w * t["sig"][b]


Combine = Callable[[str, str, float], Callable[[dict], np.ndarray]]


def choose_weight(train: list[dict], a: str, b: str, how: Combine) -> float:
    """The weight of ``b`` with the best mean model-1 TM on ``train`` (smallest on ties)."""
    return max(WEIGHTS, key=lambda w: (figures(train, how(a, b, w))["tm_model1"], -w))


def combined(
    cv: list[dict], targets: list[dict], a: str, b: str, leave_fold: bool, how: Combine = zsum
) -> dict:
    """Figures of ``how(a, b, w)``, w chosen on CV (leave-fold-out for CV targets)."""
    chosen = {}
    for f in sorted({t["fold"] for t in targets}) if leave_fold else [-1]:
        train = [t for t in cv if t["fold"] != f] if leave_fold else cv
        chosen[f] = choose_weight(train, a, b, how)

    def score(t: dict) -> np.ndarray:
        return how(a, b, chosen[t["fold"] if leave_fold else -1])(t)

    out = figures(targets, score)
    out["weights"] = {str(k): v for k, v in chosen.items()}
    return out


def rank_average(a: str, b: str) -> Callable[[dict], np.ndarray]:
    from scipy.stats import rankdata

    return lambda t: rankdata(t["sig"][a]) + rankdata(t["sig"][b])


PAIRS = [
    ("ranking_score (today)", "consensus TM (5 models)"),
    ("mean pLDDT", "consensus TM (5 models)"),
    ("ranking_score (today)", "consensus lDDT (5 models)"),
    ("ranking_score (today)", "consensus TM, three fits (5 models)"),
    ("pTM", "consensus TM (5 models)"),
    ("ranking_score (today)", "consensus lDDT (candidate pool)"),
    ("ranking_score (today)", "−ΔG of its structure"),
    ("ranking_score (today)", "learned score (cgscore)"),
    ("consensus TM (5 models)", "−ΔG of its structure"),
]


#: Signals of the multi-signal ranker (:func:`learned_rank`), z-scored within the target.
RANKER = (
    "pTM",
    "mean pLDDT",
    "consensus TM (5 models)",
    "consensus lDDT (candidate pool)",
    "−ΔG of its structure",
    "learned score (cgscore)",
)


def ranker_rows(t: dict, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    x = np.stack([zscore(t["sig"][n]) for n in names], 1)
    return x, t["tm"] - t["tm"].mean()


def learned_rank(
    cv: list[dict], targets: list[dict], leave_fold: bool, names: tuple[str, ...] = RANKER
) -> dict:
    """Least-squares weights of within-target z-scored signals on TM − the target's mean TM
    (ridge 1), fitted on CV (other folds for a CV target)."""
    fits = {}
    for f in sorted({t["fold"] for t in targets}) if leave_fold else [-1]:
        rows = [ranker_rows(t, names) for t in cv if not leave_fold or t["fold"] != f]
        x = np.concatenate([r[0] for r in rows])
        y = np.concatenate([r[1] for r in rows])
        fits[f] = np.linalg.solve(x.T @ x + np.eye(len(names)), x.T @ y)
    out = figures(
        targets, lambda t: ranker_rows(t, names)[0] @ fits[t["fold"] if leave_fold else -1]
    )
    out["weights"] = {str(k): round(float(v[0] / np.abs(v).sum()), 2) for k, v in fits.items()}
    out["fit"] = {str(k): [round(float(x), 4) for x in v] for k, v in fits.items()}
    return out


def orderings(cv: list[dict], targets: list[dict], leave_fold: bool, fits: dict[int, dict]) -> dict:
    out = {}
    names = list(targets[0]["sig"])
    for name in names:
        if all(name in t["sig"] for t in targets):
            out[name] = figures(targets, lambda t, n=name: t["sig"][n])
    for a, b in PAIRS:
        if all(a in t["sig"] and b in t["sig"] for t in cv + targets):
            out[f"rank average: {a} + {b}"] = figures(targets, rank_average(a, b))
            out[f"z-sum: {a} + w·{b}"] = combined(cv, targets, a, b, leave_fold)
            out[f"linear: {a} + w·{b}"] = combined(cv, targets, a, b, leave_fold, linear)
    out["least squares over " + ", ".join(RANKER)] = learned_rank(cv, targets, leave_fold)
    three = ("pTM", "mean pLDDT", "consensus TM (5 models)")
    out["least squares over " + ", ".join(three)] = learned_rank(cv, targets, leave_fold, three)
    two = ("mean pLDDT", "consensus TM (5 models)")
    out["least squares over " + ", ".join(two)] = learned_rank(cv, targets, leave_fold, two)
    out["ranking score of the blended confidence (shipped form, CV fit)"] = figures(
        targets, lambda t: blended(t, fits[fold_of(t, leave_fold)]["rank"]).score
    )
    out["oracle (best-of-5)"] = figures(targets, lambda t: t["tm"])
    out["random pick (mean)"] = {
        "tm_model1": float(np.mean([t["tm"].mean() for t in targets])),
        "gap": float(np.mean([t["tm"].max() - t["tm"].mean() for t in targets])),
    }
    return out


def table(title: str, rows: dict) -> list[str]:
    md = [f"### {title}", "", "| ordering | TM model 1 | gap to best | lDDT model 1 | Spearman | w (CV) |",
          "|---|---|---|---|---|---|"]  # fmt: skip
    for name, r in rows.items():
        w = ", ".join(f"{v:g}" for v in r.get("weights", {}).values())
        md.append(
            f"| {name} | {r['tm_model1']:.3f} | {r['gap']:+.3f} |"
            f" {r.get('lddt_model1', float('nan')):.3f} | {r.get('spearman', float('nan')):.3f} | {w} |"
        )
    return md


def blend_rows(t: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-residue design [N, 3] (pLDDT/100, agreement, 1), target [N] lDDT and the sample of
    each row, over the residues of every sample with a per-residue lDDT."""
    p, g, y = t["plddt"] / 100.0, t["agree"], t["res_lddt"]
    ok = np.isfinite(y) & np.isfinite(g)
    x = np.stack([p[ok], g[ok], np.ones(ok.sum())], 1)
    return x, y[ok], np.nonzero(ok)[0]


def fit_linear(rows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    x = np.concatenate([r[0] for r in rows])
    y = np.concatenate([r[1] for r in rows])
    return np.linalg.lstsq(x, y, rcond=None)[0]


def blend_fits(cv: list[dict], targets: list[dict], leave_fold: bool) -> dict[int, dict]:
    """Least-squares blends per held-out fold (-1: fitted on every CV target): ``rank`` the
    :class:`RankConfig` (pLDDT/100 and agreement on per-residue lDDT; pTM and consensus on TM),
    ``plddt_only`` (a, c) of pLDDT/100 alone."""
    fits = {}
    for f in sorted({t["fold"] for t in targets}) if leave_fold else [-1]:
        train = [t for t in cv if t["fold"] != f] if leave_fold else cv
        rows = [blend_rows(t)[:2] for t in train]
        w_plddt = fit_linear(rows)
        w_ptm = fit_linear(
            [
                (np.stack([t["ptm"], t["cons_tm"], np.ones(len(t["ptm"]))], 1), t["tm"])
                for t in train
            ]
        )
        fits[f] = {
            "rank": RankConfig(
                tuple(round(float(v), 3) for v in w_plddt), tuple(round(float(v), 3) for v in w_ptm)
            ),
            "plddt_only": fit_linear([(x[:, [0, 2]], y) for x, y in rows]),
        }
    return fits


def fold_of(t: dict, leave_fold: bool) -> int:
    return t["fold"] if leave_fold else -1


def blended(t: dict, config: RankConfig) -> Confidence:
    return blend(t["plddt"], t["ptm"], t["cons_tm"], t["agree"], config)


def calibration(targets: list[dict], fits: dict[int, dict], leave_fold: bool) -> dict:
    """Per-chain |mean pLDDT/100 − lDDT| (all samples; model 1 of the variant's own ranking
    score), per-residue Pearson of pLDDT with lDDT, and |pTM − TM|, for the network's
    confidence and blends with the ensemble's agreement (``fits``: :func:`blend_fits`)."""

    def refit(t: dict, w: dict) -> tuple[np.ndarray, np.ndarray]:
        a, c = w["plddt_only"]
        return np.clip(a * t["plddt"] / 100.0 + c, 0, 1), t["ptm"]

    def mixed(t: dict, w: dict) -> tuple[np.ndarray, np.ndarray]:
        conf = blended(t, w["rank"])
        return conf.plddt / 100.0, conf.ptm

    variants: dict[str, Callable[[dict, dict], tuple[np.ndarray, np.ndarray]]] = {
        "network pLDDT, pTM": lambda t, w: (t["plddt"] / 100.0, t["ptm"]),
        "agreement alone (lDDT to the other models), consensus TM": lambda t, w: (
            t["agree"],
            t["cons_tm"],
        ),
        "linear refit of pLDDT alone (CV)": refit,
        "blend (CV fit): pLDDT + agreement, pTM + consensus TM (shipped form)": mixed,
    }
    out = {}
    for name, fn in variants.items():
        chain, chain1, ptm_err, ptm1, res_p, res_y = [], [], [], [], [], []
        for t in targets:
            p, ptm = fn(t, fits[fold_of(t, leave_fold)])
            first = pick(0.8 * ptm + 0.2 * p.mean(1))
            err = np.abs(p.mean(1) - t["lddt"])
            chain.append(err.mean())
            chain1.append(err[first])
            e2 = np.abs(ptm - t["tm"])
            ptm_err.append(e2.mean())
            ptm1.append(e2[first])
            ok = np.isfinite(t["res_lddt"])
            res_p.append(p[ok])
            res_y.append(t["res_lddt"][ok])
        out[name] = {
            "chain_abs_err": float(np.mean(chain)),
            "chain_abs_err_model1": float(np.mean(chain1)),
            "residue_pearson": float(
                np.corrcoef(np.concatenate(res_p), np.concatenate(res_y))[0, 1]
            ),
            "ptm_abs_err": float(np.mean(ptm_err)),
            "ptm_abs_err_model1": float(np.mean(ptm1)),
        }
    out["fits"] = {
        str(k): {"plddt_blend": v["rank"].plddt_blend, "ptm_blend": v["rank"].ptm_blend}
        for k, v in fits.items()
    }
    return out


def calibration_table(title: str, rows: dict) -> list[str]:
    md = [f"### {title}", "", "| confidence | per-chain abs(pLDDT/100 − lDDT) (all / model 1) |"
          " per-residue Pearson | abs(pTM − TM) (all / model 1) |", "|---|---|---|---|"]  # fmt: skip
    for name, r in rows.items():
        if name == "fits":
            continue
        md.append(
            f"| {name} | {r['chain_abs_err']:.3f} / {r['chain_abs_err_model1']:.3f} |"
            f" {r['residue_pearson']:.3f} | {r['ptm_abs_err']:.3f} / {r['ptm_abs_err_model1']:.3f} |"
        )
    return md


def main(root: Path, json_out: Path | None) -> dict:
    cv = prepared(root, "cv")
    val = prepared(root, "validation")
    fits = {"validation": blend_fits(cv, val, False), "cv": blend_fits(cv, cv, True)}
    out = {
        "validation": orderings(cv, val, False, fits["validation"]),
        "cv": orderings(cv, cv, True, fits["cv"]),
    }
    md = table(f"validation ({len(val)} targets; weights chosen on CV)", out["validation"])
    md += [""] + table(f"cv ({len(cv)} targets; weights chosen on the other folds)", out["cv"])
    out["calibration"] = {
        "validation": calibration(val, fits["validation"], False),
        "cv": calibration(cv, fits["cv"], True),
    }
    md += [""] + calibration_table(
        "confidence calibration, validation", out["calibration"]["validation"]
    )
    md += [""] + calibration_table(
        "confidence calibration, cv (leave-fold-out)", out["calibration"]["cv"]
    )
    text = "\n".join(md)
    print(text)
    out["markdown"] = text
    if json_out:
        atomic_write_text(json_out, json.dumps(out, indent=1), overwrite=True)
    return out
