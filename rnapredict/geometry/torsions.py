"""Atoms -> torsions: the inverse of :func:`rnapredict.geometry.nerf.torsions_to_atoms`.

Torsion order and definitions: :data:`rnapredict.geometry.ideal.TORSION_NAMES`, see
``nerf.py``. A torsion is measurable (mask true) when all four of its atoms are present; the
others are set to the A-form value so the tensor can be rebuilt as is.
"""

from __future__ import annotations

import math

import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.frames import frame_from_points, invert
from rnapredict.geometry.nerf import _constants, c2_branch_torsion, nerf_step

_S = ideal.slot_index("A")


def dihedral(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """Dihedral angle a-b-c-d in radians (-π, π]: [..., 3] x 4 -> [...]."""
    b0, b1, b2 = a - b, c - b, d - c
    b1n = b1 / torch.sqrt((b1 * b1).sum(-1, keepdim=True) + 1e-12)
    v = b0 - (b0 * b1n).sum(-1, keepdim=True) * b1n
    w = b2 - (b2 * b1n).sum(-1, keepdim=True) * b1n
    x = (v * w).sum(-1)
    y = (torch.cross(b1n, v, dim=-1) * w).sum(-1)
    return torch.atan2(y, x)


def _wrap(a: torch.Tensor) -> torch.Tensor:
    """Angles into (-π, π]."""
    return torch.remainder(a + math.pi, 2 * math.pi) - math.pi


def _glyco_slots(seq: str) -> tuple[torch.Tensor, torch.Tensor]:
    """[L] slots of the glycosidic N and of the χ base atom (0 for N residues, masked)."""
    n_slot, x_slot = [], []
    for b in seq:
        if b in ideal.GLYCOSIDIC:
            s = ideal.slot_index(b)
            n, x = ideal.GLYCOSIDIC[b]
            n_slot.append(s[n])
            x_slot.append(s[x])
        else:
            n_slot.append(0)
            x_slot.append(0)
    return torch.tensor(n_slot), torch.tensor(x_slot)


def atoms_to_torsions(
    seq: str, atoms: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Torsions and first frame of a chain.

    Args:
        seq: L residue letters.
        atoms: [..., L, A, 3] slot coordinates (Å); NaN allowed where ``mask`` is false.
        mask: [L, A] bool, present atoms (None: all slots of each residue type).
    Returns:
        torsions [..., L, 8] (radians; A-form values where not measurable),
        tmask [L, 8] bool (measurable), and first_frame [..., 4, 4] such that
        ``torsions_to_atoms(seq, torsions, first_frame)`` rebuilds the chain in place.
    """
    seq = "".join(c if c in "ACGU" else "N" for c in seq.upper())
    n = len(seq)
    present = (
        torch.from_numpy(ideal.slot_mask_table()[ideal.residue_types(seq)])
        if mask is None
        else torch.as_tensor(mask, dtype=torch.bool)
    )
    x = torch.where(present[..., None], atoms, torch.zeros((), dtype=atoms.dtype))

    def at(name: str) -> torch.Tensor:
        return x[..., _S[name], :]

    def has(name: str) -> torch.Tensor:
        return present[:, _S[name]]

    p, o5, c5, c4, c3, o3 = (at(a) for a in ("P", "O5'", "C5'", "C4'", "C3'", "O3'"))
    hp, ho5, hc5, hc4, hc3, ho3 = (has(a) for a in ("P", "O5'", "C5'", "C4'", "C3'", "O3'"))
    n_slot, x_slot = _glyco_slots(seq)
    idx = torch.arange(n)
    gn = x[..., idx, n_slot, :]
    gx = x[..., idx, x_slot, :]
    hg = present[idx, n_slot] & present[idx, x_slot] & torch.tensor([b in "ACGU" for b in seq])

    def shift_prev(v: torch.Tensor) -> torch.Tensor:  # value of residue i-1 at i
        return torch.cat([torch.zeros_like(v[..., :1, :]), v[..., :-1, :]], dim=-2)

    def shift_next(v: torch.Tensor) -> torch.Tensor:  # value of residue i+1 at i
        return torch.cat([v[..., 1:, :], torch.zeros_like(v[..., :1, :])], dim=-2)

    def mprev(m: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.zeros(1, dtype=torch.bool), m[:-1]])

    def mnext(m: torch.Tensor) -> torch.Tensor:
        return torch.cat([m[1:], torch.zeros(1, dtype=torch.bool)])

    tors = torch.stack(
        [
            dihedral(shift_prev(o3), p, o5, c5),
            dihedral(p, o5, c5, c4),
            dihedral(o5, c5, c4, c3),
            dihedral(c5, c4, c3, o3),
            dihedral(c4, c3, o3, shift_next(p)),
            dihedral(c3, o3, shift_next(p), shift_next(o5)),
            dihedral(x[..., _S["O4'"], :], x[..., _S["C1'"], :], gn, gx),
            _wrap(
                dihedral(o3, c4, c3, x[..., _S["C2'"], :])
                - c2_branch_torsion(dihedral(c5, c4, c3, o3))
            ),
        ],
        dim=-1,
    )
    tmask = torch.stack(
        [
            mprev(ho3) & hp & ho5 & hc5,
            hp & ho5 & hc5 & hc4,
            ho5 & hc5 & hc4 & hc3,
            hc5 & hc4 & hc3 & ho3,
            hc4 & hc3 & ho3 & mnext(hp),
            hc3 & ho3 & mnext(hp) & mnext(ho5),
            has("O4'") & has("C1'") & hg,
            ho3 & hc4 & hc3 & has("C2'") & hc5,
        ],
        dim=-1,
    )
    default = torch.tensor(ideal.AFORM_TORSIONS_DEG, dtype=atoms.dtype).deg2rad()
    tors = torch.where(tmask, tors, default)
    return tors, tmask, _first_frame(x, present, tors)


def _first_frame(x: torch.Tensor, present: torch.Tensor, tors: torch.Tensor) -> torch.Tensor:
    """Frame of the virtual O3'(-1) reproducing residue 0's main chain, [..., 4, 4].

    Uses the NeRF frame at C5'(0) (from P, O5', C5') when P is present, else the one at
    C4'(0) (from O5', C5', C4'), and walks back with the ideal steps.
    """
    c = _constants()
    bond = torch.as_tensor(c["chain_bond"], dtype=x.dtype)
    angle = torch.as_tensor(c["chain_angle"], dtype=x.dtype)
    eps0 = torch.full_like(tors[..., 0, 0], math.radians(ideal.AFORM_TORSIONS_DEG[4]))
    zeta0 = torch.full_like(tors[..., 0, 0], math.radians(ideal.AFORM_TORSIONS_DEG[5]))
    steps = [
        nerf_step(bond[0], angle[0], eps0),
        nerf_step(bond[1], angle[1], zeta0),
        nerf_step(
            bond[2], angle[2], torch.full_like(eps0, math.radians(ideal.AFORM_TORSIONS_DEG[0]))
        ),
        nerf_step(bond[3], angle[3], tors[..., 0, 1]),
    ]
    r0 = x[..., 0, :, :]
    if bool(present[0, _S["P"]]):
        f = frame_from_points(r0[..., _S["C5'"], :], r0[..., _S["O5'"], :], r0[..., _S["P"], :])
        walk = steps[0] @ steps[1] @ steps[2]
    else:
        f = frame_from_points(r0[..., _S["C4'"], :], r0[..., _S["C5'"], :], r0[..., _S["O5'"], :])
        walk = steps[0] @ steps[1] @ steps[2] @ steps[3]
    # frame_from_points gives axes (-x, y, -z) of the NeRF frame (x = unit(C - B)).
    flip = torch.diag(torch.tensor([-1.0, 1.0, -1.0, 1.0], dtype=x.dtype))
    return f @ flip @ invert(walk)
