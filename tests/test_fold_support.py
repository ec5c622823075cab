"""Test support for the fold pipeline: a cheap, deterministic stand-in engine.

``StubEngine`` honours the :class:`rnapredict.pipeline.api.Engine` contract (ranked models with
pLDDT, per-record seed from ``record_seed(seed, id)``) with a coarse helix (P and C1' per
residue) perturbed by seeded noise, so outputs depend on the record seed exactly as a real
engine's do. It can be told to fail, run out of memory or sleep for chosen records. Used
in-process and from subprocesses (``python -c "from tests.test_fold_support import ..."``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np

from rnapredict.io.records import Record
from rnapredict.io.structure import RnaStructure
from rnapredict.pipeline.api import FoldOptions, Prediction, record_seed

RISE = 2.81  # Å per residue along the A-form axis
TWIST = math.radians(32.7)


class StubEngine:
    """A stand-in engine; ``calls`` counts predictions (to check what resume skips)."""

    def __init__(
        self,
        delay: float = 0.0,
        fail_ids: Iterable[str] = (),
        oom_ids: Iterable[str] = (),
        atoms: bool = True,
    ) -> None:
        self.delay = delay
        self.fail_ids = set(fail_ids)
        self.oom_ids = set(oom_ids)
        self.atoms = atoms
        self.calls = 0

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        if record.id in self.fail_ids:
            raise RuntimeError(f"stub failure for {record.id}")
        if record.id in self.oom_ids:
            raise MemoryError("stub out of memory")
        seed = record_seed(options.seed, record.id)
        rng = np.random.default_rng(seed)
        n, s = len(record.seq), options.n_samples
        plddt = rng.uniform(20.0, 95.0, size=(s, n))
        order = np.argsort(-plddt.mean(axis=1), kind="stable")
        models = []
        for k in order:
            noise = rng.normal(0.0, 0.3, size=(n, 2, 3))
            atoms = []
            for j in range(n):
                a = j * TWIST
                atoms.append(
                    {
                        "P": np.array([8.9 * math.cos(a), 8.9 * math.sin(a), RISE * j])
                        + noise[j, 0],
                        "C1'": np.array(
                            [5.9 * math.cos(a + 0.6), 5.9 * math.sin(a + 0.6), RISE * j - 1.5]
                        )
                        + noise[j, 1],
                    }
                )
            models.append(RnaStructure.from_residues(record.seq, atoms, plddt=plddt[k]))
        means = plddt.mean(axis=1)[order]
        return Prediction(
            record_id=record.id,
            sequence=record.seq,
            ss=record.ss or "." * n,
            ss_source="input" if record.ss else "vienna",
            models=models,
            plddt=plddt[order],
            ptm=means / 100.0,
            ranking_score=means / 100.0,
            sample_index=[int(k) for k in order],
            seed=seed,
            model_version="stub-0",
        )


class CheapEngine:
    """The cheapest possible engine (one model, one atom per residue) for memory tests."""

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        n = len(record.seq)
        atoms = [{"C1'": np.array([0.0, 0.0, RISE * j])} for j in range(n)]
        plddt = np.full((1, n), 50.0)
        model = RnaStructure.from_residues(record.seq, atoms, plddt=plddt[0])
        return Prediction(
            record_id=record.id,
            sequence=record.seq,
            ss="." * n,
            ss_source="vienna",
            models=[model],
            plddt=plddt,
            ptm=np.array([0.5]),
            ranking_score=np.array([0.5]),
            sample_index=[0],
            seed=record_seed(options.seed, record.id),
            model_version="cheap-0",
        )


def records(ids_seqs: Iterable[tuple[str, str]]) -> list[Record]:
    """Records with stream indices, as the reader would give them."""
    return [Record(rid, seq, index=k) for k, (rid, seq) in enumerate(ids_seqs)]


def random_seq(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGU"), size=n))


def stub_cli(delay: float = 0.0) -> None:
    """Run the real ``rnapredict`` CLI with :class:`StubEngine` as the engine (for workflow
    tests that start ``rnapredict`` as a program: ``python -m tests.test_fold_support fold ...``).
    """
    import rnapredict.engine
    from rnapredict.cli import main

    def load_engine(weights_dir: object = None, device: str = "cpu") -> StubEngine:
        return StubEngine(delay=delay)

    rnapredict.engine.load_engine = load_engine  # type: ignore[attr-defined]
    main()


if __name__ == "__main__":
    import os

    stub_cli(delay=float(os.environ.get("RNAPREDICT_STUB_DELAY", "0")))
