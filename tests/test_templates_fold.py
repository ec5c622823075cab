"""A template-guided fold with the released weights reproduces the relative's fold."""

from __future__ import annotations

import numpy as np
import pytest

from rnapredict.score.tmscore import tm_fixed_alignment
from tests.conftest import shared_path


@pytest.mark.slow
@pytest.mark.shared
def test_fold_with_close_relative_reproduces_its_fold() -> None:
    from rnapredict.engine import load_engine
    from rnapredict.io.records import Record
    from rnapredict.pipeline.api import FoldOptions
    from rnapredict.templates.dataset import allatom_chains
    from rnapredict.templates.library import resolve_library
    from rnapredict.templates.search import search

    data = shared_path("data")
    query = next(c for c in allatom_chains(data, "validation") if c.id == "6XKO_A")  # 2020
    lib = resolve_library("default")
    assert lib is not None
    hit = search(lib, query.seq, query.id, "2020-01-01")[0]
    assert hit.id == "4RZD_A" and hit.identity > 0.95  # released 2015, train split
    opts = FoldOptions(n_samples=2, seed=0, cutoff="2020-01-01")
    pred = load_engine().predict(Record(query.id, query.seq, ss=None), opts)
    assert pred.model_prior[0]["source"] == "template"
    assert pred.model_prior[0]["template"] == "4RZD_A"
    model1 = pred.extra["c1"][0]
    t_xyz = lib.coords(hit.index)
    tm = tm_fixed_alignment(model1, t_xyz, hit.pairs, len_ref=len(t_xyz)).tm_ref
    assert tm >= 0.8
    # and it is the right fold: the query's own experimental structure agrees
    ok = np.arange(len(query.seq))
    truth = tm_fixed_alignment(model1, query.c1, np.stack([ok, ok], 1)).tm_ref
    assert truth >= 0.8
    none = load_engine().predict(
        Record(query.id, query.seq, ss=None), FoldOptions(n_samples=2, seed=0, templates="none")
    )
    assert all(p["source"] != "template" for p in none.model_prior)
