"""Annealing over the assembly's per-loop choices (issue 24): finds the score's optimum where the
best match is wrong, beats the plain assembly under the shipped score, deterministic, physical."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnapredict.geometry.aform import aform_c1
from rnapredict.prior.assembly import assemble, assembly_candidates
from rnapredict.prior.cgscore import default_cgscore
from rnapredict.prior.coaxial import flip, n_variants, stack_variant
from rnapredict.prior.helixgraph import helix_graph
from rnapredict.prior.library import default_library
from rnapredict.prior.motifs import apply, measure_loop, pair0, screw
from rnapredict.prior.packing import geometry
from rnapredict.prior.place import place
from rnapredict.prior.search import DEFAULT_SEARCH, SearchConfig, anneal, diverse, n_moves
from rnapredict.prior.select import SelectConfig
from rnapredict.prior.steric import clash_pairs

#: Yeast tRNA-Phe and its cloverleaf (a four-way junction, 76 nt).
TRNA = "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGGAGGUCCUGUGUUCGAUCCACAGAAUUCGCACCA"
TRNA_SS = "(((((((..((((........)))).(((((.......))))).....(((((.......))))))))))))...."


def toy(n_loops: int = 4, n_opt: int = 5) -> tuple[list, callable]:
    """Options whose best match (option 0) is never the score's optimum (option 3)."""
    options = [
        (np.arange(n_opt, dtype=np.int64), -np.arange(n_opt, dtype=np.float64))
        for _ in range(n_loops)
    ]

    def build(choice: list[int]) -> np.ndarray:  # [L, 3]: one residue per loop, x = choice
        return np.array([[10.0 * k, float(c), 0.0] for k, c in enumerate(choice)])

    return options, build


def test_anneal_finds_the_score_optimum_the_best_match_misses() -> None:
    options, build = toy()
    score = lambda x: -float(np.abs(x[:, 1] - 3.0).sum())  # noqa: E731
    cfg = SearchConfig(min_moves=200, max_moves=200, option_temperature=100.0)
    (best, choice), *_ = anneal([0] * 4, options, build, lambda x: 0.0, np.random.default_rng(0),
                                2, score, cfg)  # fmt: skip
    assert choice == [3, 3, 3, 3]
    assert np.array_equal(best, build(choice))


def test_penalty_steers_away_from_clashing_choices() -> None:
    options, build = toy()
    score = lambda x: -float(np.abs(x[:, 1] - 3.0).sum())  # noqa: E731
    clash = lambda x: 100.0 * float((x[:, 1] == 3.0).sum())  # noqa: E731
    cfg = SearchConfig(min_moves=200, max_moves=200, option_temperature=100.0)
    (_, choice), *_ = anneal([0] * 4, options, build, clash, np.random.default_rng(0), 1, score,
                             cfg)  # fmt: skip
    assert sorted(set(choice)) == [2] or set(choice) <= {2, 4}


def test_diverse_keeps_states_apart_then_relaxes() -> None:
    x = np.random.default_rng(0).normal(0, 10, (20, 3))
    visited = {(0,): (0.0, x), (1,): (0.1, x + 0.01), (2,): (0.2, 2.0 * x)}
    kept = diverse(visited, 2, 4.0)
    assert [c for _, c in kept] == [[0], [2]]  # the near copy of the best is skipped
    kept = diverse(visited, 3, 4.0)
    assert [c for _, c in kept] == [[0], [2], [1]]  # then relaxed to "different choice"


def test_moves_scale_down_with_length() -> None:
    assert n_moves(0, 100) == 0
    assert n_moves(10, 100) == DEFAULT_SEARCH.moves_per_loop * 10
    assert n_moves(200, 1000) < n_moves(200, 300) <= DEFAULT_SEARCH.max_moves
    assert n_moves(200, 5000) == DEFAULT_SEARCH.min_moves


shipped = pytest.mark.skipif(
    default_library() is None or default_cgscore() is None, reason="no shipped library/score"
)


@shipped
def test_search_beats_the_plain_assembly_under_the_score_and_is_physical() -> None:
    score = default_cgscore()
    plain = assemble(TRNA, TRNA_SS, torch.Generator().manual_seed(0), 2, None)
    found = assemble(TRNA, TRNA_SS, torch.Generator().manual_seed(0), 2, None, "x", DEFAULT_SEARCH)
    s_plain = score.geometry(np.stack([c.coords for c in plain]), TRNA_SS)
    s_found = score.geometry(np.stack([c.coords for c in found]), TRNA_SS)
    assert s_found[0] > s_plain[0], (s_found, s_plain)
    assert s_found[0] >= s_found[1:].max()
    for c in found:
        assert not len(clash_pairs(c.coords, 3.0))
        step = np.linalg.norm(np.diff(c.coords, axis=0), axis=-1)
        assert step.max() < 25.0


@shipped
def test_search_same_seed_same_candidates() -> None:
    def run(seed: int, search: bool = True) -> list:
        gen = torch.Generator().manual_seed(seed)
        return assembly_candidates(
            TRNA, TRNA_SS, "vienna", 5, gen, config=SelectConfig(search=search)
        )

    a, b = run(3), run(3)
    assert len(a) == len(b) == 5
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.coords, y.coords) and x.ss == y.ss and x.info == y.info
    off = run(3, search=False)
    assert not all(np.array_equal(x.coords, y.coords) for x, y in zip(a, off, strict=False))


@pytest.mark.parametrize("v", [0, 1, 2])
def test_stack_variant_makes_that_helix_pair_coaxial(v: int) -> None:
    """Three-way junction on the A-form layout: variant v stacks helix pair v (P–C1, C1–C2,
    C2–P) into one continuous helix (axes antiparallel, end pairs one step apart); the
    other pairs are not stacked."""
    ss = "..((((.((((....)))).((((....)))).)))).."
    graph = helix_graph(ss)
    base = aform_c1("G" * len(ss), ss)
    geoms = [measure_loop(graph, base, l) for l in range(len(graph.loops))]
    (junction,) = [l for l, lp in enumerate(graph.loops) if lp.kind == "junction"]
    geoms[junction] = stack_variant(geoms[junction], v)
    xyz = place(graph, geoms)
    cos, dist, _ = geometry(xyz, ss)
    assert cos[v] < -0.999 and dist[v] < 6.0, (cos, dist)
    others = [k for k in range(3) if k != v]
    assert (cos[others] > -0.99).all() or (dist[others] > 6.0).all()
    assert n_variants(2) == 3 and n_variants(1) == 0


def test_flip_is_the_base_pair_dyad() -> None:
    f = flip()
    np.testing.assert_allclose(f @ f, np.eye(4), atol=0.01)  # a half turn
    pts = apply(f @ screw(2), pair0())
    np.testing.assert_allclose(pts[::-1], apply(screw(-2), pair0()), atol=0.02)
