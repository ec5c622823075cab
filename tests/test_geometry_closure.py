"""Backbone closure of ``c1_to_atoms`` on irregular C1′ traces (rnapredict.geometry.closure)."""

from __future__ import annotations

import pytest
import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.aform import aform_c1, layout_pairs
from rnapredict.geometry.closure import BREAK_C1_A
from rnapredict.geometry.from_c1 import c1_to_atoms

F64 = torch.float64
_S = ideal.slot_index("A")
#: A 21-nt two-stem hairpin followed by a 12-nt single strand.
SEQ = "GGACUAGCGAAAGCAGGAUCCAAAGGGAAACCC"
DB = "((((..(((...)))..))))" + "." * 12


def _angle(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    u, v = a - b, c - b
    cos = (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1))
    return torch.rad2deg(torch.acos(cos.clamp(-1, 1)))


def _noisy(sigma: float, seed: int, n_models: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """A-form C1′ trace of SEQ/DB plus Gaussian noise (Å): [S, L, 3], partner [L]."""
    c1 = torch.from_numpy(aform_c1(SEQ, DB))
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(n_models, len(SEQ), 3, generator=g, dtype=F64) * sigma
    return c1 + noise, torch.from_numpy(layout_pairs(DB))


def _link_stats(atoms: torch.Tensor) -> dict[str, torch.Tensor]:
    """Deviations from ideal (Å, degrees) of each O3′(i)–P(i+1) link: [S, L-1] each."""
    prev, nxt = atoms[:, :-1], atoms[:, 1:]
    o3, p, o5 = prev[..., _S["O3'"], :], nxt[..., _S["P"], :], nxt[..., _S["O5'"], :]
    return {
        "o3p": (o3 - p).norm(dim=-1) - ideal.bond("O3'", "P"),
        "po5": (p - o5).norm(dim=-1) - ideal.bond("P", "O5'"),
        "c3o3p": _angle(prev[..., _S["C3'"], :], o3, p) - ideal.angle("C3'", "O3'", "P"),
        "o3po5": _angle(o3, p, o5) - ideal.angle("O3'", "P", "O5'"),
        "o3pop1": _angle(o3, p, nxt[..., _S["OP1"], :]) - ideal.angle("O3'", "P", "OP1"),
    }


def _base_normal(atoms: torch.Tensor) -> torch.Tensor:
    """Unit normals [S, L, 3] of the base plane (first three base atoms, e.g. N9 C8 N7)."""
    a, b, c = (atoms[..., k, :] for k in range(12, 15))
    n = torch.linalg.cross(b - a, c - a, dim=-1)
    return n / n.norm(dim=-1, keepdim=True)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_closure_on_noisy_aform_traces(seed: int) -> None:
    c1, partner = _noisy(1.0, seed)
    with torch.no_grad():
        built, _ = c1_to_atoms(SEQ, c1, partner)
        rigid, _ = c1_to_atoms(SEQ, c1, partner, closure_steps=0)
    # The prediction's C1′ comes out where the trace put it.
    assert float((built[..., _S["C1'"], :] - c1).norm(dim=-1).max()) <= 1e-4
    linked = (c1[:, 1:] - c1[:, :-1]).norm(dim=-1) <= BREAK_C1_A
    st = {k: v[linked] for k, v in _link_stats(built).items()}
    # Bounds: measured max over seeds 0-3 (8 models, σ = 1 Å) O3′–P 0.41, P–O5′ 0.17 Å,
    # medians 0.025 Å and 4.8° (links of such traces can be impossible to close exactly; the
    # P–sugar floor then leaves the O3′–P bond stretched rather than P inside its own sugar).
    assert float(st["o3p"].abs().max()) < 0.5
    assert float(st["po5"].abs().max()) < 0.2
    assert float(st["o3p"].abs().median()) < 0.03
    assert float(st["o3po5"].abs().median()) < 5.5
    # P never sits inside its own sugar (floor 3.0 Å to O4′ and C4′; measured min 2.63 Å;
    # natives ≥ 2.97 Å; without the floor 15 % of engine residues had P–O4′ < 2.8 Å).
    for a in ("O4'", "C4'"):
        d = (built[:, 1:, _S["P"]] - built[:, 1:, _S[a]]).norm(dim=-1)
        assert float(d.min()) > 2.5, a
    # Without closure the same links are far off: the test can fail.
    assert float(_link_stats(rigid)["o3p"][linked].abs().max()) > 0.5
    # Rigid parts stay ideal.
    for a, b in (("C4'", "C3'"), ("C3'", "O3'"), ("C5'", "C4'"), ("C1'", "O4'"), ("C1'", "N9")):
        d = (built[..., _S[a], :] - built[..., _S[b], :]).norm(dim=-1)
        ref = (rigid[..., _S[a], :] - rigid[..., _S[b], :]).norm(dim=-1)
        assert float((d - ref).abs().max()) < 1e-6
    # Bases turn by a restrained amount (measured median 8–10°).
    has_base = torch.from_numpy(ideal.residue_types(SEQ)) < 4
    cos = (_base_normal(built) * _base_normal(rigid)).sum(-1)[:, has_base]
    assert float(torch.rad2deg(torch.acos(cos.clamp(-1, 1))).median()) < 12.0
    # OP1/OP2 chirality kept: signed volume at P has the template's sign everywhere.
    p = built[:, 1:, _S["P"]]
    vol = torch.linalg.cross(built[:, 1:, _S["OP1"]] - p, built[:, 1:, _S["OP2"]] - p, dim=-1)
    assert bool(((vol * (built[:, 1:, _S["O5'"]] - p)).sum(-1) < 0).all())


def test_exact_aform_trace_keeps_c1_and_closes() -> None:
    c1, partner = _noisy(0.0, seed=0, n_models=1)
    with torch.no_grad():
        built, _ = c1_to_atoms(SEQ, c1, partner)
    assert float((built[..., _S["C1'"], :] - c1).norm(dim=-1).max()) <= 1e-4
    st = _link_stats(built)
    assert float(st["o3p"].abs().max()) < 0.1
    assert float(st["po5"].abs().max()) < 0.1


def test_chain_break_is_left_open() -> None:
    c1, partner = _noisy(0.0, seed=0, n_models=1)
    k = 20  # open the chain between residues k and k+1 by 15 Å
    c1 = c1.clone()
    gap_dir = c1[0, k + 1] - c1[0, k]
    c1[0, k + 1 :] += 15.0 * gap_dir / gap_dir.norm()
    partner = torch.full_like(partner, -1)
    with torch.no_grad():
        built, _ = c1_to_atoms(SEQ, c1, partner)
    assert float((built[..., _S["C1'"], :] - c1).norm(dim=-1).max()) <= 1e-4
    st = _link_stats(built)
    assert float(st["o3p"][0, k]) + ideal.bond("O3'", "P") > 10.0  # open, not a stretched bond
    others = torch.cat([st["o3p"][0, :k], st["o3p"][0, k + 1 :]])
    assert float(others.abs().max()) < 0.15
    assert float(st["po5"].abs().max()) < 0.15  # the 5′ P of the break stays ideal
