"""Backbone closure of ``c1_to_atoms`` on irregular C1′ traces (rnapredict.geometry.closure)."""

from __future__ import annotations

import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.aform import aform_c1, layout_pairs
from rnapredict.geometry.closure import BREAK_C1_A
from rnapredict.geometry.from_c1 import c1_to_atoms

F64 = torch.float64
_S = ideal.slot_index("A")
SEQ, DB = "GGACUAGCGAAAGCAGGAUCCAAAGGGAAACCC", "((((..(((...)))..)))).............."[:33]


def _angle(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    u, v = a - b, c - b
    cos = (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1))
    return torch.rad2deg(torch.acos(cos.clamp(-1, 1)))


def _noisy(sigma: float, seed: int, n_models: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    c1 = torch.from_numpy(aform_c1(SEQ, DB))
    g = torch.Generator().manual_seed(seed)
    return c1 + torch.randn(
        n_models, len(SEQ), 3, generator=g, dtype=F64
    ) * sigma, torch.from_numpy(layout_pairs(DB))


def _link_stats(atoms: torch.Tensor) -> dict[str, torch.Tensor]:
    prev, nxt = atoms[:, :-1], atoms[:, 1:]
    o3, p, o5 = prev[..., _S["O3'"], :], nxt[..., _S["P"], :], nxt[..., _S["O5'"], :]
    return {
        "o3p": (o3 - p).norm(dim=-1) - ideal.bond("O3'", "P"),
        "po5": (p - o5).norm(dim=-1) - ideal.bond("P", "O5'"),
        "c3o3p": _angle(prev[..., _S["C3'"], :], o3, p) - ideal.angle("C3'", "O3'", "P"),
        "o3po5": _angle(o3, p, o5) - ideal.angle("O3'", "P", "O5'"),
        "o3pop1": _angle(o3, p, nxt[..., _S["OP1"], :]) - ideal.angle("O3'", "P", "OP1"),
    }


def test_closure_on_noisy_aform_traces() -> None:
    c1, partner = _noisy(1.0, seed=11)
    with torch.no_grad():
        built, _ = c1_to_atoms(SEQ, c1, partner)
        rigid, _ = c1_to_atoms(SEQ, c1, partner, closure_steps=0)
    gap = (c1[:, 1:] - c1[:, :-1]).norm(dim=-1)
    assert bool((gap < BREAK_C1_A).all())  # every link is to be closed
    st = _link_stats(built)
    print({k: round(float(v.abs().max()), 3) for k, v in st.items()})
    assert float(st["o3p"].abs().max()) < 0.2
    assert float(st["po5"].abs().max()) < 0.2
    assert float(st["o3p"].abs().median()) < 0.04
    assert float(st["o3po5"].abs().median()) < 6.0
    # Without closure the same links are far off: the test can fail.
    assert float(_link_stats(rigid)["o3p"].abs().max()) > 0.5
    # Rigid parts stay ideal: sugar bonds exact, C1′ moved by a bounded restrained shift.
    for a, b in (("C4'", "C3'"), ("C3'", "O3'"), ("C5'", "C4'"), ("C1'", "O4'")):
        d = (built[..., _S[a], :] - built[..., _S[b], :]).norm(dim=-1) - ideal.bond(a, b)
        assert float(d.abs().max()) < 1e-6
    shift = (built[..., _S["C1'"], :] - rigid[..., _S["C1'"], :]).norm(dim=-1)
    print("C1' shift max", float(shift.max()))
    assert float(shift.max()) < 2.0 and float(shift.median()) < 0.6
    # OP1/OP2 chirality kept: signed volume at P has the template's sign everywhere.
    p = built[:, 1:, _S["P"]]
    vol = torch.linalg.cross(built[:, 1:, _S["OP1"]] - p, built[:, 1:, _S["OP2"]] - p, dim=-1)
    assert bool(((vol * (built[:, 1:, _S["O5'"]] - p)).sum(-1) < 0).all())


def test_chain_break_is_left_open() -> None:
    c1, partner = _noisy(0.0, seed=0, n_models=1)
    k = 20  # open the chain between residues k and k+1 by 15 Å
    c1 = c1.clone()
    gap_dir = c1[0, k + 1] - c1[0, k]
    c1[0, k + 1 :] += 15.0 * gap_dir / gap_dir.norm()
    partner = torch.full_like(partner, -1)
    with torch.no_grad():
        built, _ = c1_to_atoms(SEQ, c1, partner)
    st = _link_stats(built)
    assert float(st["o3p"][0, k]) + ideal.bond("O3'", "P") > 10.0  # open, not a stretched bond
    others = torch.cat([st["o3p"][0, :k], st["o3p"][0, k + 1 :]])
    assert float(others.abs().max()) < 0.15
    assert float(st["po5"].abs().max()) < 0.15  # the 5′ P of the break stays ideal
