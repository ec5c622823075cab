"""A refinement never silently undoes its candidate's base pairs (engine.sampling.broken_pairs)."""

from __future__ import annotations

import numpy as np
import torch

from rnapredict.engine import load_engine
from rnapredict.engine.sampling import PAIR_FORMED_MAX, broken_pairs
from rnapredict.features.secondary import partner_array
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions
from rnapredict.pipeline.fold import KEPT_START_NOTE


def _ladder(n_pairs: int, gap: float = 10.5) -> torch.Tensor:
    """[2·n, 3] C1′ of a straight ladder: residue i pairs with 2n−1−i at ``gap`` Å."""
    left = torch.stack([torch.zeros(n_pairs), torch.zeros(n_pairs), torch.arange(n_pairs) * 5.0], 1)
    right = left.flip(0) + torch.tensor([gap, 0.0, 0.0])
    return torch.cat([left, right])


def test_broken_pairs_counts_pairs_the_start_formed() -> None:
    partner = torch.from_numpy(partner_array("((((....))))".replace("....", "")))
    start = _ladder(4)[None]
    assert not broken_pairs(start, start, partner).any()
    one = start.clone()
    one[0, 7, 0] += PAIR_FORMED_MAX  # pair (0, 7) pulled 23.5 Å apart: 1 of 4 lost, allowed
    two = one.clone()
    two[0, 6, 0] += PAIR_FORMED_MAX  # 2 of 4 lost
    got = broken_pairs(torch.cat([one, two]), start.expand(2, -1, -1), partner)
    assert got.tolist() == [False, True]
    # a start that forms no pairs (e.g. an unfolded candidate) constrains nothing
    apart = _ladder(4, gap=30.0)[None]
    assert not broken_pairs(two, apart, partner).any()
    # no pairs at all
    assert not broken_pairs(two, start, torch.full((8,), -1)).any()


def test_short_hairpin_keeps_its_pairs_with_the_shipped_weights() -> None:
    """UUCG hairpin (examples/hairpins.fa): the session-4 weights refined it into models with
    the stem's C1′ pairs 16–20 Å apart; every model must keep canonical pair distances."""
    seq, ss = "GGACUUCGGUCC", "((((....))))"
    pred = load_engine(None).predict(Record("UUCG", seq, ss=ss), FoldOptions(seed=0))
    c1 = pred.extra["c1"]
    d = np.array([[np.linalg.norm(m[i] - m[11 - i]) for i in range(4)] for m in c1])
    assert (d < PAIR_FORMED_MAX).all() and np.abs(d - 10.5).max() < 1.5, d.round(1)
    notes = [p.get("refinement") for p in pred.model_prior]
    assert all(n in (None, KEPT_START_NOTE) for n in notes)
