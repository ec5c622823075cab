"""Domain packing of long chains: compacter (Rg towards the train law), no new contacts, every
backbone step ≤ 12 Å, domains rigid, same seed → same result; short chains untouched."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

import rnapredict.prior.assembly as asm
from rnapredict.prior.assembly import assemble
from rnapredict.prior.domains import DEFAULT_PACK, domains, pack_domains, radius_of_gyration
from rnapredict.prior.helixgraph import helix_graph
from rnapredict.prior.instances import MotifLibrary
from rnapredict.prior.steric import MIN_SEP, clash_pairs, push_apart

EMPTY = MotifLibrary([], [], {"format": "1", "chain_ids": "[]"})
HAIRPIN = "((((((((....))))))))"  # 20 nt
SS = "...".join([HAIRPIN] * 10) + ".."  # 10 domains in the exterior loop, 229 nt
SEQ = "".join("GCGAUCGCAAAAGCGAUCGC" + "AAA" for _ in range(10))[: len(SS)]


def extended() -> np.ndarray:
    """The assembly with the A-form fallback and no packing: hairpins strung out."""
    cfg = asm.DEFAULT_CONFIG
    asm.DEFAULT_CONFIG = dataclasses.replace(cfg, pack=None)
    try:
        (cand,) = assemble(SEQ, SS, torch.Generator().manual_seed(0), 1, EMPTY)
    finally:
        asm.DEFAULT_CONFIG = cfg
    return cand.coords


def test_packing_compacts_long_chain_physically() -> None:
    x = extended()
    law = DEFAULT_PACK.rg_scale * len(SS) ** (1 / 3)
    graph = helix_graph(SS)
    y = pack_domains(graph, x, np.random.default_rng(0))
    assert radius_of_gyration(x) > 1.5 * law  # the extended layout
    assert radius_of_gyration(y) < 0.7 * radius_of_gyration(x)
    assert radius_of_gyration(y) < 1.1 * law
    assert len(clash_pairs(y)) <= 4  # only where a straight linker grazes a body …
    assert not len(clash_pairs(push_apart(y), MIN_SEP))  # … which the assembly pushes apart
    assert np.linalg.norm(np.diff(y, axis=0), axis=-1).max() <= 12.0
    for i, j in domains(graph, DEFAULT_PACK.max_domain):  # each domain moved rigidly
        d0 = np.linalg.norm(x[i : j + 1, None] - x[None, i : j + 1], axis=-1)
        d1 = np.linalg.norm(y[i : j + 1, None] - y[None, i : j + 1], axis=-1)
        np.testing.assert_allclose(d1, d0, atol=1e-6)
    again = pack_domains(graph, x, np.random.default_rng(0))
    np.testing.assert_array_equal(again, y)


def test_assembly_packs_long_and_leaves_short_chains() -> None:
    (cand,) = assemble(SEQ, SS, torch.Generator().manual_seed(0), 1, EMPTY)
    assert radius_of_gyration(cand.coords) < 0.7 * radius_of_gyration(extended())
    assert np.linalg.norm(np.diff(cand.coords, axis=0), axis=-1).max() <= 12.0
    assert not len(clash_pairs(cand.coords, MIN_SEP))
    short = HAIRPIN + "..." + HAIRPIN
    x = np.random.default_rng(1).normal(size=(len(short), 3)) * 30
    np.testing.assert_array_equal(pack_domains(helix_graph(short), x, np.random.default_rng(0)), x)


def test_domain_pseudoknotted_outside_stays() -> None:
    """A hairpin whose loop pairs with another domain's loop (kissing) is not moved apart."""
    kiss = list(SS)
    for m in range(2):  # loops of hairpins 1 (8-11) and 3 (54-57)
        kiss[9 + m], kiss[56 - m] = "[", "]"
    graph = helix_graph("".join(kiss))
    assert graph.pk_pairs == ((9, 56), (10, 55))
    x = extended()
    y = pack_domains(graph, x, np.random.default_rng(0))
    assert radius_of_gyration(y) < 0.8 * radius_of_gyration(x)  # the others were packed
    np.testing.assert_array_equal(y[46:66], x[46:66])
