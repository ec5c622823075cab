"""Features: dot-bracket parsing, tokens, and the sparse edge builder (O(L·K), never L²)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from rnapredict.errors import SecondaryStructureError
from rnapredict.features.edges import BACKBONE, GRAPH, PAIR, EdgeConfig, EdgeSet, build_edges
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


def _long_chain_ss(n: int, seed: int = 0) -> str:
    """Hairpins all along the chain (one per 50 nt) inside an outer stem closing both ends."""
    rng = np.random.default_rng(seed)
    ss = ["."] * n
    for k in range(6):
        ss[k], ss[n - 1 - k] = "(", ")"
    for s in rng.choice(np.arange(10, n - 50, 40), size=n // 50, replace=False):
        for k in range(6):
            ss[s + k], ss[s + 30 - k] = "(", ")"
    return "".join(ss)


def _build_traced(n: int) -> tuple[EdgeSet, int]:
    """Edges of an n-residue chain and the peak bytes allocated while building them."""
    partner = partner_array(_long_chain_ss(n))
    tracemalloc.start()
    try:
        edges = build_edges(partner, EdgeConfig())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return edges, peak


def test_edges_and_memory_per_residue_do_not_grow_with_length() -> None:
    cfg = EdgeConfig()
    (small, peak_small), (big, peak_big) = _build_traced(500), _build_traced(5000)
    per_res = [e.n_edges / len(e.nbr) for e in (small, big)]
    # each residue has its window (2w, less at the ends) and pair/graph edges, and the mean
    # does not depend on L: a dense or distance-cut graph would grow with L here
    assert 2 * cfg.window <= per_res[0] <= cfg.k and 2 * cfg.window <= per_res[1] <= cfg.k
    assert per_res[1] == pytest.approx(per_res[0], rel=0.05)
    for e in (small, big):
        n = len(e.nbr)
        assert e.nbr[e.mask].max() == n - 1 and bool((e.etype[e.mask] == PAIR).any())
        far = e.mask & (np.abs(e.nbr - np.arange(n)[:, None]) > n // 2)
        assert far[:6].any(), "the outer stem's long-range pairs are kept"
    # the edge arrays and the peak memory while building them are O(L), far below L²
    n = len(big.nbr)
    arrays = sum(x.nbytes for x in (big.nbr, big.mask, big.etype, big.gdist))
    assert arrays == 10 * sum(x.nbytes for x in (small.nbr, small.mask, small.etype, small.gdist))
    assert arrays < n * n / 8  # 3 MB vs 25 MB for a single L×L byte matrix
    assert peak_big < 15 * peak_small  # linear: ~10×; quadratic would be ~100×
    assert peak_big < 8 * n * n / 4  # below a quarter of one dense L×L int64 matrix (200 MB)


def test_featurize_has_prior_when_asked() -> None:
    f = featurize("GGGGAAACCCC", "((((...))))", EdgeConfig(), with_prior=True)
    assert f.has_prior.all()
    d = (f.prior[0, 1:] - f.prior[0, :-1]).norm(dim=-1)
    assert float(d.min()) > 3.0 and float(d.max()) < 8.0  # consecutive C1′ of A-form ≈ 5–6 Å
