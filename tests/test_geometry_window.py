"""Windowed repair (geometry/window.py): a model failing the check at one link is repaired by
rebuilding only the residues near it; the rest stays bit-identical; deterministic. And the
pieces it rests on: trace closure with fixed ends, backbone closure over a span, clean-up
with fixed residues."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnapredict.features.secondary import partner_array
from rnapredict.geometry import ideal
from rnapredict.geometry.aform import aform_c1
from rnapredict.geometry.check import bad_residues, model_problem
from rnapredict.geometry.cleanup import clean_atoms
from rnapredict.geometry.convert import atoms_to_structure
from rnapredict.geometry.from_c1 import c1_to_atoms
from rnapredict.geometry.trace import TraceConfig, close_trace, step_lengths
from rnapredict.geometry.window import rebuild_window, repair_windows, windows

#: 5 hairpins with 4-nt linkers: 150 nt.
SEQ = "GGGCGCAAGCCUUCGGGCUUGCGCCCAAAA" * 5
SS = "((((((.((((....)))).))))))...." * 5
_C1 = ideal.slot_index("A")["C1'"]
_O3, _P = ideal.slot_index("A")["O3'"], ideal.slot_index("A")["P"]
#: The link broken: O3′(74)–P(75), in the middle of the chain.
LINK = 74


@pytest.fixture(scope="module")
def broken() -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """A cleaned model of SEQ whose residues 75… are shifted 0.8 Å, so that O3′(74)–P(75) is
    stretched (the only failure): atoms [L, A, 3], mask [L, A], its C1′ trace [L, 3]."""
    c1 = torch.from_numpy(aform_c1(SEQ, SS)).double()
    atoms, mask = c1_to_atoms(SEQ, c1, torch.from_numpy(partner_array(SS)))
    atoms = clean_atoms(SEQ, atoms, partner_array(SS))
    assert model_problem(atoms_to_structure(SEQ, atoms, mask)) is None
    shift = atoms[LINK + 1, _P] - atoms[LINK, _O3]
    atoms[LINK + 1 :] += 0.8 * shift / shift.norm()
    return atoms, mask, atoms[:, _C1].numpy().copy()


def test_broken_model_fails_only_at_the_link(broken) -> None:
    atoms, mask, _ = broken
    model = atoms_to_structure(SEQ, atoms, mask)
    assert "O3'" in model_problem(model)
    assert bad_residues(model) == [LINK, LINK + 1]


def test_one_window_repairs_the_link_and_leaves_the_rest_bit_identical(broken) -> None:
    atoms, mask, c1 = broken
    fixed, trace, spans, problem = repair_windows(SEQ, atoms, c1, partner_array(SS), mask)
    assert problem is None
    assert spans == [(LINK - 8, LINK + 1 + 8)]  # one round, ±8 around both link residues
    lo, hi = spans[0]
    assert torch.equal(fixed[:lo], atoms[:lo]) and torch.equal(fixed[hi + 1 :], atoms[hi + 1 :])
    assert np.array_equal(trace[:lo], c1[:lo]) and np.array_equal(trace[hi + 1 :], c1[hi + 1 :])
    model = atoms_to_structure(SEQ, fixed, mask)
    assert model_problem(model) is None
    o3p = (fixed[LINK + 1, _P] - fixed[LINK, _O3]).norm()
    assert abs(float(o3p) - 1.607) < 0.1  # the link is a bond again
    # the window's C1′ stay near the trace (the clean-up restrains them)
    assert (
        float(np.linalg.norm(fixed[lo : hi + 1, _C1].numpy() - c1[lo : hi + 1], axis=1).max()) < 1.0
    )


def test_window_repair_is_deterministic(broken) -> None:
    atoms, mask, c1 = broken
    a = repair_windows(SEQ, atoms, c1, partner_array(SS), mask)
    b = repair_windows(SEQ, atoms, c1, partner_array(SS), mask)
    assert a[0].numpy().tobytes() == b[0].numpy().tobytes()
    assert a[1].tobytes() == b[1].tobytes() and a[2] == b[2]


def test_windows_merge_and_clip() -> None:
    assert windows([3, 40], 100, 8) == [(0, 11), (32, 48)]
    assert windows([50, 60], 100, 8, gap=4) == [(42, 68)]  # 58 and 52 overlap
    assert windows([20, 40], 100, 8, gap=4) == [(12, 48)]  # 28 → 32: 3 apart, merged
    assert windows([20, 45], 100, 8, gap=4) == [(12, 28), (37, 53)]
    assert windows([98], 100, 16) == [(82, 99)]


def test_close_trace_with_fixed_ends_shares_a_gap_over_the_window() -> None:
    x = np.stack([np.arange(12) * 6.0, np.zeros(12), np.zeros(12)], 1)
    x[6:, 0] += 14.0  # a 20 Å step in the middle
    fixed = torch.zeros(12, dtype=torch.bool)
    fixed[[0, -1]] = True
    cfg = TraceConfig(max_step=7.5, min_step=4.5)
    y = close_trace(torch.from_numpy(x), cfg, fixed)
    assert torch.equal(y[0], torch.from_numpy(x[0])) and torch.equal(y[-1], torch.from_numpy(x[-1]))
    assert float(step_lengths(y).max()) <= 7.5 + cfg.tolerance
    assert float((y - torch.from_numpy(x)).norm(dim=1)[1:-1].min()) > 0.1  # all inner ones move


def test_closure_over_a_span_leaves_the_rest_rigidly_placed() -> None:
    c1 = torch.from_numpy(aform_c1(SEQ, SS)).double()
    pairs = torch.from_numpy(partner_array(SS))
    rigid, _ = c1_to_atoms(SEQ, c1, pairs, closure_steps=0)
    whole, _ = c1_to_atoms(SEQ, c1, pairs)
    part, _ = c1_to_atoms(SEQ, c1, pairs, span=(60, 80))
    assert torch.equal(part[:60], rigid[:60]) and torch.equal(part[81:], rigid[81:])
    assert not torch.equal(part[61:80], rigid[61:80])
    assert torch.equal(c1_to_atoms(SEQ, c1, pairs, span=(0, len(SEQ) - 1))[0], whole)


def test_clean_up_with_fixed_residues_returns_them_bit_identical(broken) -> None:
    atoms, _, _ = broken
    sub = slice(60, 90)
    keep = np.ones(30, dtype=bool)
    keep[10:20] = False
    out = clean_atoms(SEQ[sub], atoms[sub], -np.ones(30, np.int64), fixed=keep)
    assert torch.equal(out[keep], atoms[sub][keep])
    assert not torch.equal(out[~keep], atoms[sub][~keep])


def test_rebuild_window_moves_nothing_outside_it(broken) -> None:
    atoms, _, c1 = broken
    out, trace = rebuild_window(SEQ, atoms, c1, partner_array(SS), (100, 110))
    assert torch.equal(out[:100], atoms[:100]) and torch.equal(out[111:], atoms[111:])
    assert np.array_equal(trace[:100], c1[:100]) and np.array_equal(trace[111:], c1[111:])


def test_clean_up_of_chain_pieces_does_not_link_across_a_cut(broken) -> None:
    """Two residues of the chain close in space but not consecutive: with ``chained`` False
    no O3′–P link is restrained between them; as one chain (default) the link is pulled."""
    atoms, _, c1 = broken
    i = 10
    d = np.linalg.norm(c1 - c1[i], axis=1)
    j = int(next(k for k in np.argsort(d) if k > i + 2 and d[k] < 9.5))
    pair = atoms[[i, j]]
    seq = SEQ[i] + SEQ[j]
    none = -np.ones(2, np.int64)
    gap = float((pair[1, _P] - pair[0, _O3]).norm())
    cut = clean_atoms(seq, pair, none, chained=np.array([False]))
    joined = clean_atoms(seq, pair, none)
    assert float((cut[1, _P] - cut[0, _O3]).norm()) > gap - 0.5
    assert float((joined[1, _P] - joined[0, _O3]).norm()) < gap - 1.0
