"""Backbone continuity of folded models: broken O3′–P links and C1′ steps out of range.

    OMP_NUM_THREADS=1 python -m bench.backbone [--sets examples examples-notemplates random400
        validation random] [--random-lengths 100 1000 ...] [-n 5] [--validation-max 20]

Folds each input with the released weights (``Engine.predict``, as ``fold`` does, default
clean-up) and counts per set: models, models with a broken link (O3′(i)–P(i+1) more than
``ModelCheck.bond_tolerance`` off ideal, or consecutive C1′ farther apart than
``check.C1_STEP_MAX``), broken links, collapsed C1′ steps (< ``check.C1_STEP_MIN``), models
:func:`rnapredict.geometry.check.model_problem` rejects, and the worst O3′–P / C1′ step.
Sets: ``examples`` (examples/hairpins.fa), ``examples-notemplates`` (same, ``--templates none``),
``random400`` (the issue's 400-nt record: ``random.seed(3)``), ``validation`` (validation
chains of ../shared/data/c1, up to ``--validation-max``, with and without templates) and
``random`` (``random.seed(L)`` records of ``--random-lengths``).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from rnapredict.data import default_data_dir
from rnapredict.data.c1 import c1_rows
from rnapredict.engine import load_engine
from rnapredict.geometry import check
from rnapredict.io.inputs import iter_records
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions

REPO = Path(__file__).resolve().parents[1]
DATA = default_data_dir()


def link_stats(m) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - RnaStructure
    """O3′(i)–P(i+1) [L-1] (nan where an atom is absent) and C1′ steps [L-1] (Å)."""
    starts = m.residue_starts()
    pos = {}
    for i in range(m.n_residues):
        for a in range(starts[i], starts[i + 1]):
            pos[(i, m.atom_names[a])] = m.coords[a]
    n = m.n_residues
    o3p = np.array(
        [
            np.linalg.norm(pos[(i, "O3'")] - pos[(i + 1, "P")])
            if (i, "O3'") in pos and (i + 1, "P") in pos
            else np.nan
            for i in range(n - 1)
        ]
    )
    c1 = np.array([pos[(i, "C1'")] for i in range(n)])
    return o3p, np.linalg.norm(np.diff(c1, axis=0), axis=1)


def random_record(seed: int, length: int) -> Record:
    random.seed(seed)
    return Record(f"random{length}_s{seed}", "".join(random.choice("ACGU") for _ in range(length)))


def validation_records(limit: int) -> list[Record]:
    if not (DATA / "c1" / "sequences.csv").exists():
        return []
    rows = c1_rows(DATA, "validation")
    return [Record(r["target_id"], r["sequence"]) for r in rows[:limit]]


def run_set(engine, name: str, records: list[Record], options: FoldOptions) -> dict:  # noqa: ANN001
    tol = check.ModelCheck().bond_tolerance
    ideal_o3p = check.O3P_IDEAL
    acc = dict(models=0, broken_models=0, broken=0, collapsed=0, rejected=0, notes=0, replaced=0)
    worst_o3p, worst_step, worst_where = 0.0, 0.0, ""
    t0 = time.perf_counter()
    for rec in records:
        pred = engine.predict(rec, options)
        acc["notes"] += sum(1 for p in pred.model_prior if p.get("geometry"))
        acc["replaced"] += sum(1 for i in pred.sample_index if i >= options.n_samples)
        for k, m in enumerate(pred.models, 1):
            o3p, step = link_stats(m)
            bad = (np.abs(np.nan_to_num(o3p, nan=ideal_o3p) - ideal_o3p) > tol) | (
                step > check.C1_STEP_MAX
            )
            acc["models"] += 1
            acc["broken"] += int(bad.sum())
            acc["broken_models"] += int(bad.any())
            acc["collapsed"] += int((step < check.C1_STEP_MIN).sum())
            acc["rejected"] += int(check.model_problem(m) is not None)
            if len(o3p) and np.nanmax(o3p) > worst_o3p:
                i = int(np.nanargmax(o3p))
                worst_o3p = float(o3p[i])
                worst_where = f"{rec.id} model_{k} O3'{i + 1}-P{i + 2}"
            if len(step):
                worst_step = max(worst_step, float(step.max()))
    acc.update(
        worst_o3p=round(worst_o3p, 2),
        worst_at=worst_where,
        worst_c1_step=round(worst_step, 2),
        time_s=round(time.perf_counter() - t0, 1),
    )
    return {"set": name, **acc}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--sets", nargs="+", default=["examples", "examples-notemplates", "random400", "validation"]
    )
    p.add_argument("--random-lengths", type=int, nargs="+", default=[100, 1000])
    p.add_argument("-n", "--samples", type=int, default=5)
    p.add_argument("--validation-max", type=int, default=20)
    args = p.parse_args(argv)
    engine = load_engine()
    base = FoldOptions(n_samples=args.samples, seed=0)
    none = FoldOptions(n_samples=args.samples, seed=0, templates="none")
    examples = list(iter_records([REPO / "examples" / "hairpins.fa"]))
    jobs = {
        "examples": [("examples", examples, base)],
        "examples-notemplates": [("examples --templates none", examples, none)],
        "random400": [("random 400 nt (seed 3)", [random_record(3, 400)], base)],
        "validation": [
            ("validation", validation_records(args.validation_max), base),
            ("validation --templates none", validation_records(args.validation_max), none),
        ],
        "random": [(f"random {n} nt", [random_record(n, n)], base) for n in args.random_lengths],
    }
    cols = ("models", "broken_models", "broken", "collapsed", "rejected", "notes", "replaced")
    print("set\t" + "\t".join(cols) + "\tworst_o3p\tworst_c1_step\ttime_s\tworst_at", flush=True)
    for s in args.sets:
        for name, records, options in jobs[s]:
            r = run_set(engine, name, records, options)
            print(
                f"{name}\t"
                + "\t".join(str(r[c]) for c in cols)
                + f"\t{r['worst_o3p']}\t{r['worst_c1_step']}\t{r['time_s']}\t{r['worst_at']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
