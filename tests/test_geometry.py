"""rnapredict.geometry: frames, NeRF, ideal geometry, torsion round trips, C1′ rebuild, A-form."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnapredict.errors import SecondaryStructureError
from rnapredict.geometry import ideal
from rnapredict.geometry.aform import aform_c1, aform_structure, layout_pairs
from rnapredict.geometry.convert import atoms_to_structure, structure_to_atoms
from rnapredict.geometry.frames import (
    apply,
    cumulative_compose,
    frame_from_points,
    invert,
)
from rnapredict.geometry.from_c1 import N_BINS, c1_to_atoms
from rnapredict.geometry.helix import aform_duplex, aform_strand, c1_of, standard_frames
from rnapredict.geometry.nerf import nerf_step, place_atom, torsions_to_atoms
from rnapredict.geometry.torsions import atoms_to_torsions, dihedral

F64 = torch.float64


def _rotation(g: torch.Generator) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=F64))
    q = q * torch.sign(torch.diagonal(r))
    if torch.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    u, v = a - b, c - b
    return math.degrees(math.acos(float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))))


def _geometry_errors(seq: str, atoms: np.ndarray, delta: np.ndarray) -> tuple[float, float]:
    """Worst bond (Å) and angle (°) deviation from the ideal set, incl. O3'(i)-P(i+1) links."""
    worst_b = worst_a = 0.0
    for i, base in enumerate(seq):
        idx = ideal.slot_index(base)
        x = atoms[i]
        bonds, angles = ideal.ideal_geometry(base)
        for a, b, v in bonds:
            worst_b = max(worst_b, abs(np.linalg.norm(x[idx[a]] - x[idx[b]]) - v))
        for a, c, b, v in angles:
            v = ideal.pucker_angle(a, c, b, float(delta[i]), north=v)
            worst_a = max(worst_a, abs(_angle(x[idx[a]], x[idx[c]], x[idx[b]]) - v))
        if i + 1 < len(seq):
            s, t = ideal.slot_index("A"), atoms[i + 1]
            worst_b = max(worst_b, abs(np.linalg.norm(x[s["O3'"]] - t[0]) - ideal.bond("O3'", "P")))
            for (a, c, b), n_prev in ideal.LINK_ANGLE.items():
                pts = [x[s[k]] if j < n_prev else t[s[k]] for j, k in enumerate((a, c, b))]
                worst_a = max(worst_a, abs(_angle(*pts) - ideal.angle(a, c, b)))
    return worst_b, worst_a


# ----------------------------------------------------------------------------- frames
def test_frames_orthonormal_and_proper() -> None:
    g = torch.Generator().manual_seed(0)
    pts = torch.randn(50, 3, 3, generator=g, dtype=F64) * 5
    f = frame_from_points(pts[:, 0], pts[:, 1], pts[:, 2])
    rot = f[:, :3, :3]
    eye = torch.eye(3, dtype=F64).expand_as(rot)
    assert torch.allclose(rot.transpose(1, 2) @ rot, eye, atol=1e-10)
    assert torch.allclose(torch.det(rot), torch.ones(50, dtype=F64), atol=1e-10)
    assert torch.allclose(f @ invert(f), torch.eye(4, dtype=F64).expand(50, 4, 4), atol=1e-10)


def test_frames_rotation_equivariant() -> None:
    g = torch.Generator().manual_seed(1)
    pts = torch.randn(20, 3, 3, generator=g, dtype=F64) * 5
    q, t = _rotation(g), torch.randn(3, generator=g, dtype=F64) * 10
    moved = pts @ q.T + t
    local = torch.randn(20, 7, 3, generator=g, dtype=F64)
    a = apply(frame_from_points(pts[:, 0], pts[:, 1], pts[:, 2]), local) @ q.T + t
    b = apply(frame_from_points(moved[:, 0], moved[:, 1], moved[:, 2]), local)
    assert (a - b).abs().max() < 1e-5


def test_cumulative_compose_equals_sequential_product() -> None:
    g = torch.Generator().manual_seed(2)
    pts = torch.randn(37, 3, 3, generator=g, dtype=F64)
    t = frame_from_points(pts[:, 0], pts[:, 1], pts[:, 2])
    scan = cumulative_compose(t, dim=0)
    acc = torch.eye(4, dtype=F64)
    for k in range(37):
        acc = acc @ t[k]
        assert torch.allclose(scan[k], acc, atol=1e-9)


# ----------------------------------------------------------------------------- NeRF
def test_place_atom_hits_bond_angle_torsion() -> None:
    g = torch.Generator().manual_seed(3)
    a, b, c = torch.randn(3, 10, 3, generator=g, dtype=F64) * 3
    bond = torch.rand(10, generator=g, dtype=F64) + 1.0
    ang = torch.rand(10, generator=g, dtype=F64) * 2 + 0.5
    tor = (torch.rand(10, generator=g, dtype=F64) * 2 - 1) * math.pi
    d = place_atom(a, b, c, bond, ang, tor)
    assert torch.allclose((d - c).norm(dim=-1), bond, atol=1e-10)
    cos = ((b - c) * (d - c)).sum(-1) / (b - c).norm(dim=-1) / bond
    assert torch.allclose(torch.acos(cos), ang, atol=1e-8)
    assert torch.allclose(dihedral(a, b, c, d), tor, atol=1e-8)


def test_nerf_step_chain_equals_place_atom() -> None:
    g = torch.Generator().manual_seed(4)
    n = 12
    bond = torch.rand(n, generator=g, dtype=F64) + 1.2
    ang = torch.rand(n, generator=g, dtype=F64) + 1.5
    tor = (torch.rand(n, generator=g, dtype=F64) * 2 - 1) * math.pi
    pts = [
        torch.tensor(p, dtype=F64) for p in ([-1.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    ]
    f = torch.eye(4, dtype=F64)  # NeRF frame of the third point: x from p1 to p2, p0 in +y
    for k in range(n):
        pts.append(place_atom(pts[-3], pts[-2], pts[-1], bond[k], ang[k], tor[k]))
        f = f @ nerf_step(bond[k], ang[k], tor[k])
        assert torch.allclose(f[:3, 3], pts[-1], atol=1e-9)


# ----------------------------------------------------------------------------- ideal geometry
@pytest.mark.parametrize("delta_deg,chi_deg", [(82.24, -162.73), (145.0, -110.0), (150.0, 60.0)])
def test_built_residues_have_ideal_geometry(delta_deg: float, chi_deg: float) -> None:
    seq = "GACUNAG"
    t = torch.tensor(ideal.AFORM_TORSIONS_DEG, dtype=F64).deg2rad().expand(len(seq), 8).clone()
    t[:, 3], t[:, 6] = math.radians(delta_deg), math.radians(chi_deg)
    atoms, mask = torsions_to_atoms(seq, t)
    assert int(mask.sum()) == sum(len(ideal.NUCLEOTIDE_ATOMS[b]) for b in seq)
    bond_err, angle_err = _geometry_errors(seq, atoms.numpy(), t[:, 3].numpy())
    assert bond_err < 0.02
    assert angle_err < 2.0


def test_aform_duplex_helix_parameters() -> None:
    seq = "GGCAUCGAUGCC"
    atoms, mask, partner = aform_duplex(seq)
    c1 = c1_of(atoms)
    cross = (c1 - c1[partner]).norm(dim=-1)
    assert ((cross > 10.2) & (cross < 10.8)).all()
    # Base-pair centres and their screw motion: rise and bp per turn.
    mid = (c1[: len(seq)] + c1[partner[: len(seq)]]) / 2
    f = standard_frames(seq, atoms[: len(seq)])
    rel = f[1:] @ invert(f[:-1])
    axis = torch.stack(
        [rel[:, 2, 1] - rel[:, 1, 2], rel[:, 0, 2] - rel[:, 2, 0], rel[:, 1, 0] - rel[:, 0, 1]], -1
    )
    axis = axis / axis.norm(dim=-1, keepdim=True)
    rise = ((mid[1:] - mid[:-1]) * axis).sum(-1).abs()
    twist = torch.acos(((rel[:, :3, :3].diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1, 1))
    assert ((rise > 2.6) & (rise < 3.0)).all()
    bp_turn = 2 * math.pi / twist
    assert ((bp_turn > 10.5) & (bp_turn < 11.5)).all()
    # No clashes inside the duplex: heavy atoms of different residues >= 2.5 Å apart.
    xyz = atoms[mask]
    owner = torch.arange(2 * len(seq))[:, None].expand_as(mask)[mask]
    d = torch.cdist(xyz, xyz)
    bonded = (owner[:, None] - owner[None, :]).abs() <= 1
    assert float(d[~bonded & (owner[:, None] != owner[None, :])].min()) > 2.5


# ----------------------------------------------------------------------------- torsions
def _random_torsions(g: torch.Generator, lead: tuple[int, ...], n: int) -> torch.Tensor:
    t = (torch.rand(*lead, n, 8, generator=g, dtype=F64) * 2 - 1) * math.pi
    north = torch.rand(*lead, n, generator=g) < 0.5
    t[..., 3] = torch.where(north, torch.tensor(1.43, dtype=F64), torch.tensor(2.53, dtype=F64))
    t[..., 3] += (torch.rand(*lead, n, generator=g, dtype=F64) - 0.5) * 0.2
    t[..., 7] *= 0.05
    return t


def test_torsion_round_trip() -> None:
    g = torch.Generator().manual_seed(5)
    seq = "GACUNUAGCC"
    t = _random_torsions(g, (3,), len(seq))
    first = frame_from_points(*torch.randn(3, 3, generator=g, dtype=F64))
    atoms, mask = torsions_to_atoms(seq, t, first)
    t2, tmask, first2 = atoms_to_torsions(seq, atoms, mask)
    diff = torch.remainder(t2 - t + math.pi, 2 * math.pi) - math.pi
    assert int(tmask.sum()) == len(seq) * 8 - 3 - 1  # α(0), ε/ζ(last), χ(N)
    assert diff[:, tmask].abs().max() < 1e-4
    again, _ = torsions_to_atoms(seq, t2, first2)
    assert (again - atoms)[:, mask].norm(dim=-1).max() < 1e-4


def test_torsions_to_atoms_equivariant_and_batched() -> None:
    g = torch.Generator().manual_seed(6)
    seq = "ACGUA"
    t = _random_torsions(g, (2,), len(seq))
    q, shift = _rotation(g), torch.randn(3, generator=g, dtype=F64)
    move = torch.eye(4, dtype=F64)
    move[:3, :3], move[:3, 3] = q, shift
    atoms, _ = torsions_to_atoms(seq, t)
    moved, _ = torsions_to_atoms(seq, t, move)
    assert (atoms @ q.T + shift - moved).abs().max() < 1e-5
    single, _ = torsions_to_atoms(seq, t[1])
    assert (single - atoms[1]).abs().max() < 1e-10


def test_gradcheck_torsions_to_atoms() -> None:
    g = torch.Generator().manual_seed(7)
    t = _random_torsions(g, (), 3).requires_grad_(True)
    proj = torch.randn(3 * ideal.N_SLOTS * 3, 6, generator=g, dtype=F64)
    assert torch.autograd.gradcheck(
        lambda x: torsions_to_atoms("GUN", x)[0].reshape(-1) @ proj, (t,)
    )


# ----------------------------------------------------------------------------- C1' rebuild
def test_c1_to_atoms_rebuilds_ideal_strand_exactly() -> None:
    seq = "GCAUGCAUNG"
    atoms, mask = aform_strand(seq)
    unpaired = torch.full((len(seq),), -1)
    pure = torch.zeros(N_BINS, 6, dtype=F64)  # no loop correction: plain A-form templates
    built, bmask = c1_to_atoms(seq, c1_of(atoms), unpaired, unpaired_correction=pure)
    assert torch.equal(bmask, mask)
    assert (built - atoms)[mask].norm(dim=-1).max() < 1e-4
    # With the loop correction the residues turn, but the chain stays closed and ideal inside.
    built, _ = c1_to_atoms(seq, c1_of(atoms), unpaired)
    link = (built[:-1, ideal.slot_index("A")["O3'"]] - built[1:, 0]).norm(dim=-1)
    assert float(link.max()) < 2.0
    s = ideal.slot_index("G")
    assert abs(float((built[0, s["N9"]] - built[0, s["C1'"]]).norm()) - 1.46) < 0.01


def test_c1_to_atoms_batched_equivariant_differentiable() -> None:
    seq = "GGGAAACCC"
    c1 = torch.from_numpy(aform_c1(seq, "(((...)))"))
    partner = torch.from_numpy(layout_pairs("(((...)))"))
    g = torch.Generator().manual_seed(8)
    q, shift = _rotation(g), torch.randn(3, generator=g, dtype=F64) * 5
    noisy = c1 + torch.randn(2, len(seq), 3, generator=g, dtype=F64) * 0.3
    batch, mask = c1_to_atoms(seq, noisy, partner)
    assert batch.shape == (2, len(seq), ideal.N_SLOTS, 3)
    single, _ = c1_to_atoms(seq, noisy[1], partner)
    assert (single - batch[1])[mask].abs().max() < 1e-10
    rotated, _ = c1_to_atoms(seq, noisy @ q.T + shift, partner)
    assert (batch @ q.T + shift - rotated)[:, mask].abs().max() < 1e-5
    # Gradients: a few random projections of all output coordinates (keeps gradcheck fast).
    x = noisy[0, :4].clone().requires_grad_(True)
    proj = torch.randn(4 * ideal.N_SLOTS * 3, 6, generator=g, dtype=F64)
    pairs = torch.tensor([3, -1, -1, 0])
    assert torch.autograd.gradcheck(
        lambda y: c1_to_atoms("GCAC", y, pairs, closure_steps=5)[0].reshape(-1) @ proj, (x,)
    )


# ----------------------------------------------------------------------------- A-form + convert
@pytest.mark.parametrize(
    "seq,db",
    [
        ("GGGCGAAAGCCC", "((((....))))"),
        ("GGACUAGCGAAAGCAGGAUCC", "((((..(((...)))..))))"),
        ("GGCGAAAGCCAUUGGCAAAGCCAA", "((((...))))((((...)))).."),
        ("GGGAGGGAAACCCAGGGAAACCCAGGGAAACCCCCCA", "(((.(((...))).(((...))).(((...))))))."),
        ("GGGAAAGGCCCAAAGCC", "(((..[[.)))...]]."),
        ("AAAAAAAA", "........"),
    ],
)
def test_aform_model_has_no_breaks_and_ideal_stems(seq: str, db: str) -> None:
    c1 = aform_c1(seq, db)
    step = np.linalg.norm(c1[1:] - c1[:-1], axis=-1)
    assert ((step > 5.0) & (step < 6.2)).all()
    model = aform_structure(seq, db)
    o3, _ = model.atom_coords("O3'")
    p, _ = model.atom_coords("P")
    link = np.linalg.norm(o3[:-1] - p[1:], axis=-1)
    assert link.max() < 2.0
    pairs = layout_pairs(db)
    d = np.linalg.norm(c1[:, None] - c1[None], axis=-1)
    partners = pairs[pairs >= 0]
    assert np.allclose(d[np.flatnonzero(pairs >= 0), partners], 10.55, atol=0.05)


def test_aform_rejects_bad_structure() -> None:
    with pytest.raises(SecondaryStructureError):
        aform_c1("GGGAAACC", "(((...))")
    with pytest.raises(SecondaryStructureError):
        aform_c1("GGGAAACCC", "(((...)).")


def test_atoms_structure_round_trip(tmp_path) -> None:
    from rnapredict.io.pdbio import read_structure, write_models

    seq = "GACUN"
    atoms, mask = aform_strand(seq)
    plddt = np.array([90.0, 80.0, 70.0, 60.0, 50.0])
    st = atoms_to_structure(seq, atoms, mask, plddt=plddt, chain_id="B")
    assert st.n_atoms == int(mask.sum()) and st.chain_ids[0] == "B"
    path = tmp_path / "m.pdb"
    write_models([st], path)
    back = read_structure(path)
    xyz, present = structure_to_atoms(back)
    assert np.array_equal(present, mask.numpy())
    assert np.abs(xyz[present] - atoms.numpy()[mask.numpy()]).max() < 1e-3 + 5e-4


@pytest.mark.parametrize(
    "seq,db", [("", ""), ("A", "."), ("GC", "()"), ("nnnn", "...."), ("gaUc", "(..)")]
)
def test_tiny_and_odd_inputs_give_finite_models(seq: str, db: str) -> None:
    model = aform_structure(seq, db)
    assert model.n_residues == len(seq)
    assert np.isfinite(model.coords).all()
    expected = sum(len(ideal.NUCLEOTIDE_ATOMS[c if c in "ACGU" else "N"]) for c in seq.upper())
    assert model.n_atoms == expected
