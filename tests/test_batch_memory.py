"""Memory stays flat over a 10,000-record input (streamed; nothing per record is kept)."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from rnapredict.fold import FoldRunOptions, Shard, fold_inputs
from rnapredict.fold.progress import NullReporter
from rnapredict.fold.results import RecordOutcome
from rnapredict.results.summary import read_summary
from tests.test_fold_support import CheapEngine, random_seq

N_RECORDS = 10_000
SHARD = Shard(1, 4)  # every record is read (twice); a quarter is folded, to keep the test short
LENGTH = 100


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


class RssProbe(NullReporter):
    """Samples resident memory after given numbers of completed records."""

    def __init__(self, marks: tuple[int, ...]) -> None:
        self.marks = set(marks)
        self.count = 0
        self.rss: dict[int, int] = {}

    def done(self, outcome: RecordOutcome) -> None:
        self.count += 1
        if self.count in self.marks:
            gc.collect()
            self.rss[self.count] = rss_bytes()


@pytest.mark.slow
def test_memory_is_flat_over_10000_records(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    fasta = tmp_path / "big.fa"
    with open(fasta, "w") as fh:
        for k in range(N_RECORDS):
            fh.write(f">seq{k:05d} random {LENGTH} nt\n{random_seq(rng, LENGTH)}\n")
    folded = N_RECORDS // SHARD.count
    probe = RssProbe((folded // 10, folded))
    out = tmp_path / "out"
    result = fold_inputs(
        [fasta],
        out,
        FoldRunOptions(n_samples=1, device="cpu", shard=SHARD),
        engine=CheapEngine(),
        reporter=probe,
    )
    assert (result.ok, result.failed) == (folded, 0)
    assert sum(1 for _ in read_summary(out / "summary.tsv")) == folded
    growth = probe.rss[folded] - probe.rss[folded // 10]
    per_record = growth / (folded - folded // 10)
    # Holding one model per record would be >= 20 kB each (100 residues); ids seen (the
    # duplicate check) are ~0.3 kB. Allow 2 kB/record of allocator noise.
    assert per_record < 2048, f"memory grew {growth / 2**20:.1f} MiB over the batch"
