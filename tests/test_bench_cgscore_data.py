"""bench.cgscore_data orders its targets the same in every process (``--limit`` runs are
reproducible): the order must not follow Python's per-process string hash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

ORDER = """
import json
import numpy as np
from bench.cgscore_data import job_order
from bench.targets import Target
ids = [f"{k}ABC_{c}" for k in range(1, 9) for c in "AB"] + ["1EHZ_A", "4V9F_0"]
jobs = [(s, Target(i, "GGGAAACCC", ".........", np.zeros((9, 3)), None, "c1"), 0, -1)
        for i in ids for s in ("cv", "validation")]
print(json.dumps([(s, t.id) for s, t, *_ in sorted(jobs, key=job_order)]))
"""


def order_under(hash_seed: str) -> list:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", ORDER], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout)


def test_target_order_does_not_depend_on_the_hash_seed() -> None:
    a, b = order_under("1"), order_under("2")
    assert a == b
    assert [s for s, _ in a[:18]] == ["validation"] * 18  # validation first
    assert sorted(a) != a  # shuffled, not plain id order
