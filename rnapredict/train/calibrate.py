"""Fit the pLDDT calibration on validation predictions and (optionally) store it.

    python -m rnapredict.train.calibrate --weights weights [--limit N] [--write]

Runs the engine exactly as ``rnapredict fold`` does (default prior, 5 samples, seed 0) on the
validation split (c1 + allatom), compares each model's raw per-residue pLDDT with its real
per-residue C1′ lDDT (15 Å, the head's training target), and fits a monotone map
(:func:`rnapredict.engine.calibration.fit_isotonic`). Honest figures come from 2-fold
cross-fitting over chains (fit on one half, measure on the other); ``--write`` stores the map
fitted on all chains in ``manifest.json`` (``inference.plddt_calibration``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rnapredict.engine.calibration import PlddtCalibration, fit_isotonic
from rnapredict.score.lddt import lddt
from rnapredict.train.__main__ import DEFAULT_DATA

BINS = (0, 30, 50, 70, 90, 101)


def collect(weights: Path | None, data: Path, limit: int | None, seed: int) -> list[dict]:
    """Per chain: raw pLDDT [S, L] of the ranked models and real per-residue lDDT [S, L]."""
    from rnapredict.engine import load_engine
    from rnapredict.io.records import Record
    from rnapredict.pipeline.api import FoldOptions
    from rnapredict.train.data import load_chains

    engine = load_engine(weights)
    engine.calibration = None  # fit on the head's raw output
    chains = load_chains(data, "validation", None, ("c1", "allatom"))[:limit]
    rows = []
    for ch in chains:
        pred = engine.predict(Record(ch.id, ch.seq), FoldOptions(seed=seed))  # as fold: no --ss
        c1 = pred.extra["c1"]
        real = np.stack([lddt(m, ch.coords).per_residue for m in c1])
        rows.append({"id": ch.id, "plddt": pred.plddt, "lddt": real * 100.0})
    return rows


def chain_error(rows: list[dict], cal: PlddtCalibration | None) -> float:
    """Mean over chains of |mean pLDDT/100 − lDDT| of model 1."""
    errs = []
    for r in rows:
        p = r["plddt"][0]
        if cal is not None:
            p = np.interp(p, cal.x, cal.y)
        real = r["lddt"][0]
        ok = np.isfinite(real)
        errs.append(abs(p[ok].mean() - real[ok].mean()) / 100.0)
    return float(np.mean(errs))


def reliability(
    rows: list[dict], cal: PlddtCalibration | None
) -> list[tuple[str, int, float, float]]:
    """(bin, residues, mean pLDDT, mean real lDDT×100) over all models' residues."""
    p = np.concatenate([r["plddt"].ravel() for r in rows])
    t = np.concatenate([r["lddt"].ravel() for r in rows])
    ok = np.isfinite(t)
    p, t = p[ok], t[ok]
    q = np.interp(p, cal.x, cal.y) if cal is not None else p
    out = []
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        sel = (q >= lo) & (q < hi)
        if sel.any():
            out.append(
                (f"{lo}–{min(hi, 100)}", int(sel.sum()), float(q[sel].mean()), float(t[sel].mean()))
            )
    return out


def crossfitted(halves: list[list[dict]]) -> list[dict]:
    """Rows of both halves with pLDDT mapped by the fit of the other half."""
    out = []
    for k in range(2):
        cal = fit(halves[1 - k])
        out += [{**r, "plddt": np.interp(r["plddt"], cal.x, cal.y)} for r in halves[k]]
    return out


def fit(rows: list[dict]) -> PlddtCalibration:
    raw = np.concatenate([r["plddt"].ravel() for r in rows])
    real = np.concatenate([r["lddt"].ravel() for r in rows])
    return fit_isotonic(raw, real)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m rnapredict.train.calibrate", description=__doc__)
    p.add_argument("--weights", type=Path, default=None)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--write", action="store_true", help="store the fit in manifest.json")
    a = p.parse_args(argv)
    rows = collect(a.weights, a.data, a.limit, a.seed)
    halves = [rows[0::2], rows[1::2]]
    cross = chain_error(crossfitted(halves), None)
    full = fit(rows)
    report = {
        "n_chains": len(rows),
        "error_raw": chain_error(rows, None),
        "error_crossfit": cross,
        "error_fit_all": chain_error(rows, full),
        "reliability_raw": reliability(rows, None),
        "reliability_crossfit": reliability(crossfitted(halves), None),
        "calibration": full.to_dict(),
    }
    print(f"{len(rows)} validation chains; mean |pLDDT/100 − lDDT| (model 1): raw"
          f" {report['error_raw']:.3f}, 2-fold cross-fitted {report['error_crossfit']:.3f},"
          f" fitted on all {report['error_fit_all']:.3f}")  # fmt: skip
    print("| pLDDT bin | residues | mean pLDDT | real lDDT×100 |  (raw)")
    for b in report["reliability_raw"]:
        print(f"| {b[0]} | {b[1]} | {b[2]:.1f} | {b[3]:.1f} |")
    print("| pLDDT bin | residues | mean pLDDT | real lDDT×100 |  (calibrated, cross-fitted)")
    for b in report["reliability_crossfit"]:
        print(f"| {b[0]} | {b[1]} | {b[2]:.1f} | {b[3]:.1f} |")
    if a.write:
        from rnapredict.assets import MANIFEST, default_weights_dir, read_manifest, update_manifest

        wdir = Path(a.weights or default_weights_dir())
        inference = {
            **read_manifest(wdir).get("inference", {}),
            "plddt_calibration": full.to_dict(),
        }
        update_manifest(wdir, inference=inference)
        print(f"wrote inference.plddt_calibration to {wdir / MANIFEST}")
    return report


if __name__ == "__main__":
    main()
