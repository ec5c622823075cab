"""Training data from ``allatom/``: C1′ traces, 3D-annotated pairs, MFE substitution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnapredict.features.secondary import partner_array
from rnapredict.train.data import Chain, allatom_c1, load_allatom_chains, pick_chains, with_mfe


@pytest.mark.shared
def test_allatom_trna_trace_and_pairs(shared_data: Path) -> None:
    """1EVV A (yeast tRNA-Phe): 76 nt, C1′ steps of a real chain, cloverleaf stems found in 3D."""
    seq, xyz, ss = allatom_c1(shared_data / "allatom" / "1EVV.pdb.gz", "A")
    assert len(seq) == len(xyz) == len(ss) == 76
    step = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
    assert 5.0 < np.median(step) < 6.5
    assert step.max() < 10.0  # no chain break (native C1′ links reach ~9.9 Å)
    pairs = partner_array(ss)
    assert pairs[0] == 71 and pairs[6] == 65  # acceptor stem G1–C72 … A7–U66
    assert 38 <= (pairs >= 0).sum() <= 46  # 19–23 canonical pairs in a tRNA


@pytest.mark.shared
def test_allatom_split_dates(shared_data: Path, tmp_path: Path) -> None:
    train = load_allatom_chains(shared_data, "train", tmp_path / "ss.json")
    val = load_allatom_chains(shared_data, "validation", tmp_path / "ss.json")
    assert len(train) > 250 and len(val) > 25
    assert all(c.release_date < "2020-01-01" and c.ss_source == "pdb" for c in train)
    assert all("2020-01-01" <= c.release_date < "2022-05-01" for c in val)
    assert all(c.ss_source == "vienna" for c in val)
    assert not {c.id for c in train} & {c.id for c in val}


def test_pick_chains_mixes_at_the_asked_rate() -> None:
    base = [Chain(f"c{i}", "GGGAAACCC", np.zeros((9, 3), np.float32), "(((...)))", "pdb", "")
            for i in range(4)]  # fmt: skip
    alt = with_mfe(base)
    assert all(a.ss_source == "vienna" and len(a.ss) == 9 for a in alt)
    gen = torch.Generator().manual_seed(0)
    picks = [pick_chains(base, alt, [0, 1, 2, 3], 0.3, gen) for _ in range(500)]
    frac = np.mean([c.ss_source == "vienna" for p in picks for c in p])
    assert 0.26 < frac < 0.34
    again = pick_chains(base, alt, [0, 1], 0.3, torch.Generator().manual_seed(5))
    assert again == pick_chains(base, alt, [0, 1], 0.3, torch.Generator().manual_seed(5))
    assert pick_chains(base, None, [2], 0.3, gen) == [base[2]]
