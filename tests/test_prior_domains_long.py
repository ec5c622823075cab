"""Domain packing, issue 24 long chains: a packing never lengthens a backbone step (even once
pushed apart), chains over 500 nt are packed, two hairpins become neighbours, the domain split
never loses domains, same seed → same coordinates."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import rnapredict.prior.assembly as asm
from rnapredict.features.secondary import predict_ss
from rnapredict.features.vienna import ViennaConfig
from rnapredict.prior.assembly import assemble
from rnapredict.prior.domains import (
    DEFAULT_PACK,
    MAX_STEP,
    pack_domains,
    radius_of_gyration,
    rigid_domains,
)
from rnapredict.prior.helixgraph import helix_graph
from rnapredict.prior.steric import MIN_SEP, clash_pairs, push_apart

HAIRPIN = "(" * 36 + "." * 8 + ")" * 36  # 80 nt
TWO = "." * 5 + HAIRPIN + "." * 12 + HAIRPIN + "." * 5  # 182 nt
TWO_SEQ = ("GGAC" * 9 + "GAAA" * 2 + "GUCC" * 9).join(["AAAAA", "A" * 12, "AAAAA"])


def steps(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.diff(x, axis=0), axis=-1)


def rrna(data: Path, chain: str) -> tuple[str, str]:
    """Sequence (ACGU only) and Turner 2004 MFE (an extended layout without packing) of a long
    chain of ``secondary/pdb_dot_bracket.csv``."""
    with open(data / "secondary" / "pdb_dot_bracket.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["pdb_chain"] == chain)
    seq = "".join(c if c in "ACGU" else "A" for c in row["sequence"].upper())
    return seq, predict_ss(seq, config=ViennaConfig(energy_params="turner2004"))


def unpacked(seq: str, ss: str) -> np.ndarray:
    """The assembly (shipped library, seed 0) without domain packing."""
    cfg = asm.DEFAULT_CONFIG
    asm.DEFAULT_CONFIG = replace(cfg, pack=None)
    try:
        (cand,) = assemble(seq, ss, torch.Generator().manual_seed(0), 1)
    finally:
        asm.DEFAULT_CONFIG = cfg
    return cand.coords


def strung_out() -> np.ndarray:
    """Two 80-nt hairpins end to end, as the A-form layout of the exterior loop leaves them."""
    x = np.zeros((len(TWO), 3))
    x[:, 0] = np.arange(len(TWO)) * 3.0  # a straight line; the hairpins fold below
    for i0 in (5, 97):
        arm = np.arange(36)
        x[i0 + arm] = np.stack([x[i0, 0] + 0 * arm, arm * 2.8, 0 * arm], 1)
        loop = np.arange(8)
        x[i0 + 36 + loop] = np.stack(
            [x[i0, 0] + 1.3 * loop + 0.9, 36 * 2.8 + 0 * loop, 0 * loop], 1
        )
        x[i0 + 44 + arm] = np.stack([x[i0, 0] + 10.4 + 0 * arm, (35 - arm) * 2.8, 0 * arm], 1)
    x[85:97, 0] = x[84, 0] + 6.0 * np.arange(1, 13)  # linker
    x[97:177] += [x[96, 0] + 6.0 - x[97, 0], 0, 0]
    x[177:] = x[176] + np.stack([6.0 * np.arange(1, 6), 0 * np.arange(5), 0 * np.arange(5)], 1)
    return x


def test_two_domains_are_split_and_end_up_side_by_side() -> None:
    """Golden case: two 80-nt hairpins 90 Å apart are both domains (halving to 75 nt would have
    lost them both) and the packing brings them into contact — closest C1′ pair at stacking /
    packing distance, none overlapping — with every step ≤ the assembly's bound."""
    graph = helix_graph(TWO)
    assert rigid_domains(graph) == [(5, 84), (97, 176)]
    x = strung_out()
    assert steps(x).max() <= MAX_STEP
    y = pack_domains(graph, x, np.random.default_rng(0))
    a, b = y[5:85], y[97:177]
    closest = np.linalg.norm(a[:, None] - b[None], axis=-1).min()
    before = np.linalg.norm(x[5:85, None] - x[None, 97:177], axis=-1).min()
    assert before > 40.0
    assert 3.0 < closest < 14.0
    assert radius_of_gyration(y) < 0.8 * radius_of_gyration(x)
    assert steps(push_apart(y)).max() <= MAX_STEP
    again = pack_domains(graph, x, np.random.default_rng(0))
    np.testing.assert_array_equal(again, y)


def test_long_chain_packing_keeps_every_step(shared_data: Path) -> None:
    """Chains over 500 nt (packed when ``max_length`` allows; off by default: see PackConfig)
    lose no step: none ends up longer than it was assembled, also after the push-apart
    (7o5h_A: a packed 3′ end 91 Å from its neighbour; 7d0f_A: a linker bunched onto itself
    that the push-apart burst into a 257 Å step). Same seed → same coordinates."""
    on = replace(DEFAULT_PACK, max_length=5000)
    for chain in ("7o5h_A", "7d0f_A"):
        seq, ss = rrna(shared_data, chain)
        plain = unpacked(seq, ss)
        bound = max(MAX_STEP, float(steps(plain).max()))
        graph = helix_graph(ss)
        assert len(seq) > 500
        for seed in range(3):
            y = pack_domains(graph, plain, np.random.default_rng(seed), on)
            z = push_apart(y)
            assert steps(z).max() <= bound + 1e-6, (chain, seed)
            assert not len(clash_pairs(z, MIN_SEP))
    seq, ss = rrna(shared_data, "7o5h_A")
    graph = helix_graph(ss)
    plain = unpacked(seq, ss)
    a = pack_domains(graph, plain, np.random.default_rng(0), on)
    np.testing.assert_array_equal(a, pack_domains(graph, plain, np.random.default_rng(0), on))
    law = DEFAULT_PACK.rg_scale * len(seq) ** (1 / 3)
    assert radius_of_gyration(plain) > 1.8 * law
    assert radius_of_gyration(a) < 1.3 * law  # packed
    np.testing.assert_array_equal(pack_domains(graph, plain, np.random.default_rng(0)), plain)
