"""Vectorized NeRF (MP-NeRF style): backbone torsions -> all heavy atoms of an RNA chain.

Torsions per residue i, order :data:`~rnapredict.geometry.ideal.TORSION_NAMES`, radians:

- α_i O3'(i-1)-P-O5'-C5', β_i P-O5'-C5'-C4', γ_i O5'-C5'-C4'-C3', δ_i C5'-C4'-C3'-O3',
  ε_i C4'-C3'-O3'-P(i+1), ζ_i C3'-O3'-P(i+1)-O5'(i+1), χ_i O4'-C1'-N9-C4 / O4'-C1'-N1-C2.

The main chain P, O5', C5', C4', C3', O3' of residue i is placed with (ε_{i-1}, ζ_{i-1}, α_i,
β_i, γ_i, δ_i): each atom is one 4x4 NeRF step; the six steps of a residue are multiplied in
parallel over residues, and the residue steps are chained by a parallel prefix product
(log2 L batched matmuls). ε and ζ of the last residue are not used; residue 0 hangs on
``first_frame``, the NeRF frame of a virtual O3'(-1) (placed with the A-form ε, ζ).

Branch atoms are placed in parallel over residues with ideal angles (see ``ideal.py``). The
**ribose pucker is δ-driven**: C2' is the ideal tetrahedral branch at C3' (so ν3 follows δ),
and C1' is placed on its circle around C2' at exactly the ideal C1'–O4' distance (closed
form), which fixes ν2. The base is rigid (Olson template) and turns about C1'–N by χ.
Residue type ``N`` gets backbone + sugar only (masked base slots), like the atom table of
:mod:`rnapredict.io.structure`.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.frames import (
    apply,
    apply_inverse,
    cumulative_compose,
    frame_from_points,
    normalize,
)

#: Main-chain atoms in build order and their (bond, angle) from the previous atoms.
CHAIN_ATOMS = ("P", "O5'", "C5'", "C4'", "C3'", "O3'")
_CHAIN_PREV = (("C3'", "O3'"), ("O3'", "P"), ("P", "O5'"), ("O5'", "C5'"), ("C5'", "C4'"),
               ("C4'", "C3'"))  # fmt: skip


def place_atom(
    a: torch.Tensor,
    b: torch.Tensor,
    c: torch.Tensor,
    bond: torch.Tensor | float,
    angle: torch.Tensor | float,
    torsion: torch.Tensor | float,
) -> torch.Tensor:
    """NeRF: atom D with |CD| = bond (Å), angle BCD and dihedral ABCD (radians).

    a, b, c: [..., 3]; bond/angle/torsion broadcast to [...]. Returns [..., 3].
    """
    bond, angle, torsion = (torch.as_tensor(v, dtype=c.dtype) for v in (bond, angle, torsion))
    bc = normalize(c - b)
    n = normalize(torch.cross(b - a, bc, dim=-1))
    m = torch.cross(n, bc, dim=-1)
    d_x = -bond * torch.cos(angle)
    d_y = bond * torch.sin(angle) * torch.cos(torsion)
    d_z = bond * torch.sin(angle) * torch.sin(torsion)
    return c + d_x[..., None] * bc + d_y[..., None] * m + d_z[..., None] * n


def nerf_step(bond: torch.Tensor, angle: torch.Tensor, torsion: torch.Tensor) -> torch.Tensor:
    """Transform from the NeRF frame of atom k to that of atom k+1: [...] -> [..., 4, 4].

    The NeRF frame of atom C (built from A, B, C) has origin C, x = unit(C - B), z normal to
    ABC; ``place_atom`` puts D at ``frame @ [-b cos θ, b sin θ cos φ, b sin θ sin φ]``.
    """
    bond, angle, torsion = torch.broadcast_tensors(bond, angle, torsion)
    ct, st = torch.cos(angle), torch.sin(angle)
    cp, sp = torch.cos(torsion), torch.sin(torsion)
    zero, one = torch.zeros_like(ct), torch.ones_like(ct)
    rows = [
        [-ct, -st, zero, -bond * ct],
        [st * cp, -ct * cp, -sp, bond * st * cp],
        [st * sp, -ct * sp, cp, bond * st * sp],
        [zero, zero, zero, one],
    ]
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


@cache
def _constants() -> dict[str, object]:
    """Ideal bonds/angles (radians) and per-type base tables, computed once, float64 numpy."""
    rad = math.radians
    chain_bond = np.array(
        [ideal.bond(p, a) for (_, p), a in zip(_CHAIN_PREV, CHAIN_ATOMS, strict=True)]
    )
    chain_angle = np.array(
        [rad(ideal.angle(pp, p, a)) for (pp, p), a in zip(_CHAIN_PREV, CHAIN_ATOMS, strict=True)]
    )
    ang = ideal.angle
    hint = ideal.BRANCH_HINT
    branch = {
        "OP1": ideal.branch_torsion(
            ang("O3'", "P", "O5'"), ang("O5'", "P", "OP1"), ang("O3'", "P", "OP1"), hint["OP1"]
        ),
        "OP2": ideal.branch_torsion(
            ang("O3'", "P", "O5'"), ang("O5'", "P", "OP2"), ang("O3'", "P", "OP2"), hint["OP2"]
        ),
        "O2'": ideal.branch_torsion(
            ang("C1'", "C2'", "C3'"), ang("C3'", "C2'", "O2'"), ang("C1'", "C2'", "O2'"),
            hint["O2'"],
        ),
        "N": ideal.branch_torsion(
            ang("C2'", "C1'", "O4'"), ang("O4'", "C1'", "N"), ang("C2'", "C1'", "N"), hint["N"]
        ),
    }  # fmt: skip
    n_types = len(ideal.RESIDUE_TYPES)
    n_base = ideal.N_SLOTS - len(ideal.BASE_ATOMS_ORDER)
    base_local = np.zeros((n_types, n_base, 3))
    cn_bond = np.zeros(n_types)
    nx_bond = np.zeros(n_types)
    cnx_angle = np.zeros(n_types)
    for t, base in enumerate(ideal.RESIDUE_TYPES):
        tb = base if base in ideal.GLYCOSIDIC else "A"  # N: placeholder constants, masked
        tmpl = ideal.base_template(tb)
        n_name, x_name = ideal.GLYCOSIDIC[tb]
        cn_bond[t], ang_deg = ideal.glycosidic_geometry(tb)
        cnx_angle[t] = rad(ang_deg)
        nx_bond[t] = float(np.linalg.norm(tmpl[x_name] - tmpl[n_name]))
        if base not in ideal.GLYCOSIDIC:
            continue
        f = frame_from_points(
            torch.tensor(tmpl[n_name]), torch.tensor(tmpl["C1'"]), torch.tensor(tmpl[x_name])
        )
        names = ideal.BASE_ATOMS[base]
        xyz = torch.tensor(np.stack([tmpl[a] for a in names]))
        base_local[t, : len(names)] = apply_inverse(f, xyz).numpy()
    return {
        "chain_bond": chain_bond,
        "chain_angle": chain_angle,
        "branch": {k: rad(v) for k, v in branch.items()},
        "base_local": base_local,
        "cn_bond": cn_bond,
        "nx_bond": nx_bond,
        "cnx_angle": cnx_angle,
    }


def _t(x: np.ndarray | float, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(x, dtype=like.dtype, device=like.device)


def default_first_frame(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Identity NeRF frame of the virtual O3'(-1): [4, 4]."""
    return torch.eye(4, dtype=dtype)


def close_ribose(
    c4: torch.Tensor, c3: torch.Tensor, c2: torch.Tensor, o4: torch.Tensor
) -> torch.Tensor:
    """C1' on the ideal C2' circle at exactly the ideal C1'–O4' distance: [..., 3] each -> [..., 3].

    The circle of C1' positions with ideal |C2'C1'| and angle C3'–C2'–C1' is parameterised by
    ν = dihedral(C4', C3', C2', C1'); |C1' − O4'| = target has a closed-form solution
    ν = ψ + arccos(K/ρ) (the other root puts the ring inside out).
    """
    b = ideal.bond("C2'", "C1'")
    theta = math.radians(ideal.angle("C3'", "C2'", "C1'"))
    target = ideal.bond("C1'", "O4'")
    x = normalize(c2 - c3)
    n = normalize(torch.cross(c3 - c4, x, dim=-1))
    m = torch.cross(n, x, dim=-1)
    o = o4 - c2
    ox, oy, oz = (o * x).sum(-1), (o * m).sum(-1), (o * n).sum(-1)
    oo = (o * o).sum(-1)
    k = (b * b + oo - target * target + 2 * b * math.cos(theta) * ox) / (2 * b * math.sin(theta))
    rho = torch.sqrt(oy * oy + oz * oz + 1e-12)
    psi = torch.atan2(oz, oy)
    half = torch.acos(torch.clamp(k / rho, -1 + 1e-7, 1 - 1e-7))
    c1_a = place_atom(c4, c3, c2, b, theta, psi + half)
    c1_b = place_atom(c4, c3, c2, b, theta, psi - half)
    # Keep the root whose C1'...C4' distance best matches the ideal C1'-O4'-C4' angle.
    b14, b41 = target, ideal.bond("C4'", "O4'")
    ang = math.radians(ideal.angle("C1'", "O4'", "C4'"))
    d14 = math.sqrt(b14 * b14 + b41 * b41 - 2 * b14 * b41 * math.cos(ang))
    err_a = ((c1_a - c4).norm(dim=-1) - d14).abs()
    err_b = ((c1_b - c4).norm(dim=-1) - d14).abs()
    return torch.where((err_a <= err_b)[..., None], c1_a, c1_b)


def chain_frames(torsions: torch.Tensor, first_frame: torch.Tensor) -> torch.Tensor:
    """NeRF frames of the main-chain atoms: torsions [..., L, 8] -> [..., L, 6, 4, 4].

    Frame (i, k) sits on atom CHAIN_ATOMS[k] of residue i. ``first_frame`` [..., 4, 4] is the
    frame of the virtual O3'(-1).
    """
    c = _constants()
    lead = torsions.shape[:-2]
    eps0 = torch.full((*lead, 1), math.radians(ideal.AFORM_TORSIONS_DEG[4]), dtype=torsions.dtype)
    zeta0 = torch.full((*lead, 1), math.radians(ideal.AFORM_TORSIONS_DEG[5]), dtype=torsions.dtype)
    eps_prev = torch.cat([eps0, torsions[..., :-1, 4]], dim=-1)
    zeta_prev = torch.cat([zeta0, torsions[..., :-1, 5]], dim=-1)
    # α of residue 0 only orients the virtual O3'(-1): fixed to A-form (first_frame places it).
    alpha = torch.cat([torch.full_like(eps0, math.radians(ideal.AFORM_TORSIONS_DEG[0])),
                       torsions[..., 1:, 0]], dim=-1)  # fmt: skip
    tors = torch.stack([eps_prev, zeta_prev, alpha, *torsions[..., 1:4].unbind(-1)], dim=-1)
    bond = _t(c["chain_bond"], torsions).expand_as(tors)
    angle = _t(c["chain_angle"], torsions).expand_as(tors)
    steps = nerf_step(bond, angle, tors)  # [..., L, 6, 4, 4]
    partial = [steps[..., 0, :, :]]
    for k in range(1, len(CHAIN_ATOMS)):
        partial.append(partial[-1] @ steps[..., k, :, :])
    within = torch.stack(partial, dim=-3)  # [..., L, 6, 4, 4]
    per_res = within[..., -1, :, :]  # [..., L, 4, 4]
    incl = cumulative_compose(per_res, dim=-3)
    eye = torch.eye(4, dtype=torsions.dtype).expand(*lead, 1, 4, 4)
    excl = torch.cat([eye, incl[..., :-1, :, :]], dim=-3)
    start = first_frame[..., None, :, :] @ excl  # frame of O3'(i-1), [..., L, 4, 4]
    return start[..., None, :, :] @ within


def _branch(
    theta0: float | torch.Tensor, theta1: float | torch.Tensor, theta2: float | torch.Tensor
) -> torch.Tensor:
    """Torch version of :func:`ideal.branch_torsion` (all radians; the + root, which is the
    native chirality for O4' and C2')."""
    t0, t1, t2 = (torch.as_tensor(t) for t in (theta0, theta1, theta2))
    c = (torch.cos(t2) - torch.cos(t0) * torch.cos(t1)) / (torch.sin(t0) * torch.sin(t1))
    return torch.acos(c.clamp(-1 + 1e-7, 1 - 1e-7))


def c2_branch_torsion(delta: torch.Tensor) -> torch.Tensor:
    """Ideal torsion O3'-C4'-C3'-C2' (radians) of the δ-driven ring: [...] -> [...]."""
    ang = ideal.angle
    w = torch.sigmoid((torch.rad2deg(delta) - ideal.PUCKER_MID_DEG) / ideal.PUCKER_WIDTH_DEG)
    south = ideal.ANGLE_SOUTH[("C2'", "C3'", "O3'")]
    a_c2c3o3 = torch.deg2rad(ang("C2'", "C3'", "O3'") * (1 - w) + south * w)
    rad = math.radians
    return _branch(rad(ang("O3'", "C3'", "C4'")), rad(ang("C4'", "C3'", "C2'")), a_c2c3o3)


def build_residues(
    chain: torch.Tensor,
    o3_prev: torch.Tensor,
    chi: torch.Tensor,
    types: torch.Tensor,
    delta: torch.Tensor,
    pucker: torch.Tensor | None = None,
) -> torch.Tensor:
    """Branch, sugar and base atoms from the main chain, parallel over residues.

    Args:
        chain: [..., L, 6, 3] P, O5', C5', C4', C3', O3' (Å).
        o3_prev: [..., L, 3] O3' of the previous residue (virtual for residue 0).
        chi: [..., L] χ (radians).
        delta: [..., L] δ (radians), drives the pucker-dependent angles.
        pucker: [..., L] offset of ν3 from the δ-driven ring (radians), None = 0.
        types: [L] long, index into ideal.RESIDUE_TYPES.
    Returns:
        [..., L, A, 3] atoms in slot order (missing slots hold arbitrary finite values).
    """
    c = _constants()
    br = c["branch"]
    ang = ideal.angle
    rad = math.radians
    p, o5, c5, c4, c3, o3 = chain.unbind(-2)
    op1 = place_atom(o3_prev, o5, p, ideal.bond("P", "OP1"), rad(ang("O5'", "P", "OP1")), br["OP1"])
    op2 = place_atom(o3_prev, o5, p, ideal.bond("P", "OP2"), rad(ang("O5'", "P", "OP2")), br["OP2"])
    # Pucker-dependent angles (north/south blend by δ), branch torsions in closed form.
    w = torch.sigmoid((torch.rad2deg(delta) - ideal.PUCKER_MID_DEG) / ideal.PUCKER_WIDTH_DEG)
    south = ideal.ANGLE_SOUTH
    a_c3c4o4 = torch.deg2rad(ang("C3'", "C4'", "O4'") * (1 - w) + south[("C3'", "C4'", "O4'")] * w)
    phi_o4 = _branch(rad(ang("C5'", "C4'", "C3'")), a_c3c4o4, rad(ang("C5'", "C4'", "O4'")))
    phi_c2 = c2_branch_torsion(delta)
    if pucker is not None:
        phi_c2 = phi_c2 + pucker
    o4 = place_atom(c5, c3, c4, ideal.bond("C4'", "O4'"), a_c3c4o4, phi_o4)
    c2 = place_atom(o3, c4, c3, ideal.bond("C3'", "C2'"), rad(ang("C4'", "C3'", "C2'")), phi_c2)
    c1 = close_ribose(c4, c3, c2, o4)
    o2 = place_atom(c1, c3, c2, ideal.bond("C2'", "O2'"), rad(ang("C3'", "C2'", "O2'")), br["O2'"])
    cn = _t(c["cn_bond"], chain)[types]
    nx = _t(c["nx_bond"], chain)[types]
    cnx = _t(c["cnx_angle"], chain)[types]
    n_at = place_atom(c2, o4, c1, cn, rad(ang("O4'", "C1'", "N")), br["N"])
    x_at = place_atom(o4, c1, n_at, nx, cnx, chi)
    base_frame = frame_from_points(n_at, c1, x_at)  # [..., L, 4, 4]
    base = apply(base_frame, _t(c["base_local"], chain)[types])  # [..., L, 11, 3]
    backbone = torch.stack([p, op1, op2, o5, c5, c4, o4, c3, o3, c2, o2, c1], dim=-2)
    return torch.cat([backbone, base], dim=-2)


def slot_mask(seq: str) -> torch.Tensor:
    """[L, A] bool: which slots exist for each residue of ``seq``."""
    return torch.from_numpy(ideal.slot_mask_table()[ideal.residue_types(seq)])


def torsions_to_atoms(
    seq: str, torsions: torch.Tensor, first_frame: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """All heavy atoms of a chain from its torsions.

    Args:
        seq: L residue letters (ACGU; anything else is built as ``N``: backbone + sugar).
        torsions: [..., L, 8] α β γ δ ε ζ χ pucker in radians (α of the first and ε, ζ of the last
            residue are unused: ``first_frame`` fixes residue 0).
        first_frame: [..., 4, 4] NeRF frame of the virtual O3'(-1) (identity if None), as
            returned by :func:`rnapredict.geometry.torsions.atoms_to_torsions`.
    Returns:
        atoms [..., L, A, 3] (Å, slots in NUCLEOTIDE_ATOMS order) and mask [L, A] bool.
    """
    if torsions.shape[-2] != len(seq) or torsions.shape[-1] != ideal.N_TORSIONS:
        raise ValueError(f"torsions {tuple(torsions.shape)} do not fit a {len(seq)}-nt chain")
    if first_frame is None:
        first_frame = default_first_frame(torsions.dtype)
    first_frame = first_frame.to(torsions.dtype).expand(*torsions.shape[:-2], 4, 4)
    types = torch.from_numpy(ideal.residue_types(seq))
    frames = chain_frames(torsions, first_frame)
    chain = frames[..., :3, 3]  # [..., L, 6, 3]
    o3_prev = torch.cat([first_frame[..., None, :3, 3], chain[..., :-1, 5, :]], dim=-2)
    atoms = build_residues(
        chain, o3_prev, torsions[..., 6], types, torsions[..., 3], torsions[..., 7]
    )
    return atoms, slot_mask(seq)
