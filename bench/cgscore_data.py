"""Labelled candidate sets for the coarse-grained score (issue 24): many candidates per target,
each raw and refined, with its C1′ TM-score to the native. Resumable (one .npz per target).

    python -m bench.cgscore_data --out /work/cgscore_cache [--section validation|cv]
        [--min-length 50] [--structures 16] [--alternatives 2] [--folds 5] [--seed 0]
        [--no-refine] [--limit N]

Per target, the pool is what ``fold`` assembles (MFE + ViennaRNA samples, library alternatives),
only larger: ``--structures`` structures × ``--alternatives`` alternatives, not selected. The
first structures are exactly the session-5 pipeline's ("today" below: ``assembly_candidates``
with n = 5 sampled 2 × 5 = 10 structures from the same seed), so ``pool[:n_today]`` is that
pool and compactness ``select_candidates`` on it was its choice. Each candidate is refined once (1 diffusion sample, the release's σ).

Targets: ``validation`` (c1 + all-atom validation chains; shipped motif library) and ``cv``
(train chains ≥ 50 nt in K folds that never split a family of
:func:`rnapredict.data.families.family_ids`; the motif library of fold k is built without
fold k's families).
"""

from __future__ import annotations

import argparse
import json
import time
import zlib
from pathlib import Path

import numpy as np

from bench.targets import Target, cv_folds, train_targets, validation_targets
from rnapredict.data import default_data_dir
from rnapredict.data.families import family_ids
from rnapredict.data.sscache import SSCache
from rnapredict.pipeline.api import FoldOptions, record_generators
from rnapredict.train.cgscore import candidate_pool, tm_to

REPO = Path(__file__).resolve().parents[1]

#: Structures the session-5 assembly sampled for 5 models (``structures_per_model`` 2 × 5).
TODAY_STRUCTURES = 10


def pool_of(t: Target, a: argparse.Namespace, library: object | None) -> tuple[list, int]:
    """(candidates, how many of them are today's pool) for one target, seeded as ``fold``."""
    pool = candidate_pool(t.seq, t.ss, t.id, a.structures, a.alternatives, library, a.seed)
    today = candidate_pool(t.seq, t.ss, t.id, TODAY_STRUCTURES, a.alternatives, library, a.seed)
    assert all(np.array_equal(x.coords, y.coords) for x, y in zip(today, pool, strict=False))
    return pool, len(today)


#: One evaluation target: (section, target, family id, CV fold; −1 for validation).
Job = tuple[str, Target, int, int]


def target_jobs(
    data: Path, ss: SSCache, sections: list[str] | None, folds: int, min_length: int,
    max_length: int, out: Path | None = None,
) -> tuple[list[Job], dict[int, set[str]]]:  # fmt: skip
    """Targets ``min_length`` … ``max_length`` nt of ``sections`` (validation: the shipped
    motif library; cv: train chains in ``folds`` folds that never split a family of
    :func:`rnapredict.data.families.family_ids`), interleaved by length so a partial run covers
    every size, and the train ids per fold (the library of fold k is built without them).
    Writes ``out/cv_folds.json`` (id → [family, fold]) when ``out`` is given."""
    jobs: list[Job] = []
    excl: dict[int, set[str]] = {}
    for section in sections or ["validation", "cv"]:
        if section == "validation":
            targets = validation_targets(data, ss)
            fam = family_ids([t.seq for t in targets])
            jobs += [("validation", t, f, -1) for t, f in zip(targets, fam, strict=True)]
        else:
            train = train_targets(data, ss)
            fam = family_ids([t.seq for t in train])
            fold = cv_folds(train, fam, folds, max(min_length, 50))
            jobs += [("cv", t, f, g) for t, f, g in zip(train, fam, fold, strict=True)]
            for t, g in zip(train, fold, strict=True):
                excl.setdefault(g, set()).add(t.id)
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                (out / "cv_folds.json").write_text(
                    json.dumps({t.id: [f, g] for t, f, g in zip(train, fam, fold, strict=True)})
                )
        ss.save()
    jobs = [j for j in jobs if min_length <= len(j[1].seq) <= max_length]
    return sorted(jobs, key=job_order), excl


def job_order(job: Job) -> tuple[bool, int, str]:
    """Sort key of a job: validation first, then a shuffle by a stable hash of the id
    (CRC-32, the same in every process, unlike ``hash``), then the id, so ``--limit`` runs
    are reproducible."""
    return job[0] != "validation", zlib.crc32(job[1].id.encode()) % 7, job[1].id


def cv_library(data: Path, fold: int, excl: dict[int, set[str]], libs: dict) -> object | None:
    """Motif library for a target of ``fold``: the shipped one (None) for validation (−1),
    else one built without the fold's train chains (memoised in ``libs``)."""
    from rnapredict.prior.library import build_library

    if fold < 0:
        return None
    if fold not in libs:
        libs[fold] = build_library(data, exclude_ids=excl[fold])
    return libs[fold]


def save_npz(path: Path, arrays: dict) -> None:
    """Compressed ``arrays`` at ``path``, written to a temporary name and renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.rename(path)


def run_target(t: Target, a: argparse.Namespace, library, engine, fam: int, fold: int) -> dict:
    t0 = time.perf_counter()
    pool, n_today = pool_of(t, a, library)
    raw = np.stack([c.coords for c in pool]).astype(np.float32)
    out = {
        "id": t.id, "seq": t.seq, "native": t.c1.astype(np.float32), "raw": raw,
        "ss": np.array([c.ss for c in pool]), "n_today": n_today,
        "tm_raw": tm_to(raw, t.c1), "family": fam, "fold": fold,
        "source": t.source,
    }  # fmt: skip
    if engine is not None:
        _, gen, _ = record_generators(a.seed, t.id)
        opts = FoldOptions(n_samples=len(pool), seed=a.seed, prior="assembly")
        ens, owner = engine.sample_candidates(t.seq, pool, opts, gen)
        assert owner == list(range(len(pool)))
        ref = ens.coords.numpy().astype(np.float32)
        out |= {
            "refined": ref, "tm_refined": tm_to(ref, t.c1),
            "ranking_score": ens.ranking_score.numpy(), "ptm": ens.ptm.numpy(),
            "plddt": ens.plddt.numpy().mean(-1), "kept_start": ens.kept_start.numpy(),
        }  # fmt: skip
    out["time_s"] = time.perf_counter() - t0
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, default=default_data_dir())
    p.add_argument("--section", choices=("validation", "cv"), action="append")
    p.add_argument("--min-length", type=int, default=50)
    p.add_argument("--max-length", type=int, default=10**9)
    p.add_argument("--structures", type=int, default=16)
    p.add_argument("--alternatives", type=int, default=2)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-refine", action="store_true")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--ss-cache", type=Path, default=Path("/work/cgscore_cache/ss_cache.json"))
    a = p.parse_args(argv)
    from rnapredict.engine import load_engine

    engine = None if a.no_refine else load_engine()
    jobs, excl = target_jobs(a.data, SSCache(a.ss_cache), a.section, a.folds, a.min_length,
                             a.max_length, a.out)  # fmt: skip
    libs: dict[int, object] = {}
    done = 0
    for section, t, fam, fold in jobs[: a.limit]:
        path = a.out / section / f"{t.id}.npz"
        if path.exists():
            continue
        library = cv_library(a.data, fold, excl, libs)
        r = run_target(t, a, library, engine, fam, fold)
        save_npz(path, r)
        done += 1
        best = r["tm_raw"].max()
        extra = f" refined best {r['tm_refined'].max():.3f}" if "tm_refined" in r else ""
        print(
            f"[{section}] {t.id:<10} L={len(t.seq):>4} pool={len(r['raw']):>3}"
            f" raw best {best:.3f}{extra} {r['time_s']:.1f}s",
            flush=True,
        )


if __name__ == "__main__":
    main()
