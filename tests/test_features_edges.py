"""Features: dot-bracket parsing, tokens, and the sparse edge builder (O(L·K), never L²)."""

from __future__ import annotations

import numpy as np
import pytest

from rnapredict.errors import SecondaryStructureError
from rnapredict.features.edges import BACKBONE, GRAPH, PAIR, EdgeConfig, build_edges
from rnapredict.features.featurize import featurize
from rnapredict.features.secondary import partner_array
from rnapredict.features.tokens import pair_kind, pair_state, tokenize


def test_partner_array_nested_and_pseudoknot() -> None:
    p = partner_array("((..[[))..]]Aa")
    assert p.tolist() == [7, 6, -1, -1, 11, 10, 1, 0, -1, -1, 5, 4, 13, 12]


@pytest.mark.parametrize("bad,pos", [("(()", 1), ("())", 3), ("(.x)", 3)])
def test_partner_array_rejects_malformed(bad: str, pos: int) -> None:
    with pytest.raises(SecondaryStructureError) as info:
        partner_array(bad)
    assert info.value.position == pos


def test_tokens_and_pair_classes() -> None:
    assert tokenize("ACGUNt").tolist() == [0, 1, 2, 3, 4, 3]
    p = partner_array("((..))")
    assert pair_state(p).tolist() == [1, 1, 0, 0, 2, 2]
    assert pair_kind("GAAAUC", p).tolist() == [1, 2, 0, 0, 2, 1]


def _rows(e, i: int) -> list[tuple[int, int]]:
    return [(int(j), int(t)) for j, t, m in zip(e.nbr[i], e.etype[i], e.mask[i], strict=True) if m]


def test_edges_contain_window_partner_and_partner_neighbours() -> None:
    cfg = EdgeConfig(window=2, n_graph=4, max_hops=3)
    ss = "((((......))))"
    e = build_edges(partner_array(ss), cfg)
    assert e.nbr.shape == (len(ss), cfg.k)
    row = dict(_rows(e, 0))
    assert row[1] == BACKBONE and 2 in row
    assert row[13] == PAIR
    assert row[12] == GRAPH  # partner's neighbour, graph distance 2
    for i in range(len(ss)):
        js = [j for j, _ in _rows(e, i)]
        assert i not in js, "no self edges"
        assert len(js) == len(set(js)), "no duplicate neighbours"


def test_edge_count_is_linear_at_5000() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    # a random nested structure: many stems across the whole chain
    ss = ["."] * n
    starts = rng.choice(np.arange(0, n - 40, 40), size=100, replace=False)
    for s in starts:
        for k in range(6):
            ss[s + k], ss[s + 30 - k] = "(", ")"
    cfg = EdgeConfig()
    e = build_edges(partner_array("".join(ss)), cfg)
    assert e.nbr.shape == (n, cfg.k) == (5000, 24)
    assert e.n_edges <= n * cfg.k
    assert e.n_edges >= n * (2 * cfg.window) - 2 * cfg.window * (cfg.window + 1)
    assert e.n_edges < n * n / 100  # nowhere near dense


def test_featurize_has_prior_when_asked() -> None:
    f = featurize("GGGGAAACCCC", "((((...))))", EdgeConfig(), with_prior=True)
    assert f.has_prior.all()
    d = (f.prior[0, 1:] - f.prior[0, :-1]).norm(dim=-1)
    assert float(d.min()) > 3.0 and float(d.max()) < 8.0  # consecutive C1′ of A-form ≈ 5–6 Å
