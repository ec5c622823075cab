"""Per-model ranking signals of the shipped fold path: dumped once, evaluated offline.

    python -m bench.rank_signals dump DIR [--only validation|cv] [--min-length 50] [--limit N]
        [--ss-cache FILE] [--seed 0] [-n 5]
    python -m bench.rank_signals eval DIR [--json out.json]

``dump`` runs ``bench.accuracy``'s ``assembly+diffusion`` mode (the stages of ``fold``, record
seeds, no templates, no all-atom stage) on the validation targets and the leave-family-out CV
targets, and writes one ``DIR/<section>/<id>.npz`` per target: the native C1′, the samples
(C1′ [S, L, 3], pLDDT [S, L], pTM [S], kept-start [S], candidate of each [S]), the candidates
(C1′, structure, source, ViennaRNA ΔG), the assembly's whole candidate pool before selection
and the shipped learned score of the samples. Targets already in DIR are skipped (resumable).

``eval`` (:mod:`bench.rank_eval`) compares orderings of the samples offline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from bench.accuracy import mode_candidates, sections, structure_cache, target_arguments
from bench.targets import Target
from rnapredict.geometry.candidate import Candidate


class PoolTap:
    """Keeps the last candidate pool :func:`rnapredict.prior.assembly.assembly_candidates`
    selected from (wraps its ``select_candidates`` for the bench only)."""

    def __init__(self) -> None:
        from rnapredict.prior import assembly

        self.pool: list[Candidate] = []
        self._inner = assembly.select_candidates
        assembly.select_candidates = self._select

    def _select(self, pool: list[Candidate], *args: object, **kwargs: object) -> list[Candidate]:
        self.pool = list(pool)
        return self._inner(pool, *args, **kwargs)


def dump_target(
    engine: object, t: Target, library: object | None, a: argparse.Namespace, tap: PoolTap
) -> dict[str, np.ndarray]:
    """Arrays of one target (see the module docstring)."""
    from rnapredict.prior.cgscore import default_cgscore, ss_energies

    tap.pool = []
    cands, opts, gen = mode_candidates(t, "assembly+diffusion", a, library)
    pool = tap.pool or cands
    ens, owner = engine.sample_candidates(t.seq, cands, opts, gen)
    coords = ens.coords.numpy().astype(np.float64)
    cg = default_cgscore()
    structures = [cands[j].ss for j in owner]
    return {
        "id": np.array(t.id),
        "seq": np.array(t.seq),
        "ss": np.array(t.ss),
        "source": np.array(t.source),
        "native": t.c1,
        "coords": coords,
        "plddt": ens.plddt.numpy().astype(np.float64),
        "ptm": ens.ptm.numpy().astype(np.float64),
        "kept_start": ens.kept_start.numpy().astype(bool),
        "owner": np.asarray(owner, dtype=np.int64),
        "cand": np.stack([c.coords for c in cands]).astype(np.float64),
        "cand_ss": np.array([c.ss for c in cands]),
        "cand_source": np.array([str(c.info.get("ss_source", c.source)) for c in cands]),
        "cand_dg": ss_energies(t.seq, [c.ss for c in cands]),
        "pool": np.stack([c.coords for c in pool]).astype(np.float64),
        "pool_ss": np.array([c.ss for c in pool]),
        "cgscore": cg(t.seq, coords, structures) if cg is not None else np.zeros(len(owner)),
    }


def dump(a: argparse.Namespace) -> None:
    from rnapredict.engine import load_engine

    engine = load_engine(a.weights)
    tap = PoolTap()
    ss = structure_cache(a)
    for name, jobs, folds in sections(a, ss):
        out = a.dir / name
        out.mkdir(parents=True, exist_ok=True)
        for t, library in jobs:
            path = out / f"{t.id}.npz"
            if path.exists():
                continue
            t0 = time.perf_counter()
            arrays = dump_target(engine, t, library, a, tap)
            arrays["fold"] = np.array(folds.get(t.id, -1))
            tmp = out / f"{t.id}.tmp.npz"
            np.savez_compressed(tmp, **arrays)
            tmp.replace(path)
            dt = time.perf_counter() - t0
            print(f"[{name}] {t.id:<10} {len(t.seq):>4} nt  {dt:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("dir", type=Path)
    target_arguments(d, min_length=50)
    e = sub.add_parser("eval")
    e.add_argument("dir", type=Path)
    e.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    if a.cmd == "dump":
        dump(a)
    else:
        from bench.rank_eval import main as eval_main

        eval_main(a.dir, a.json)


if __name__ == "__main__":
    main(sys.argv[1:])
