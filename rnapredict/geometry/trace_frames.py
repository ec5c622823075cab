"""Residue frames of a C1′ trace (step 1 of :mod:`rnapredict.geometry.from_c1`) and the ideal
A-form nucleotides expressed in them (step 2's templates; also the restraint targets of
:mod:`rnapredict.geometry.restraints`)."""

from __future__ import annotations

from functools import cache

import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.frames import apply_inverse, frame_from_points, normalize
from rnapredict.geometry.helix import aform_duplex, c1_of

#: Linker atoms of a residue, first predicted from both neighbours (then closed).
LINK = ("P", "OP1", "OP2", "O5'")
_SLOT = ideal.slot_index("A")
_N_TEMPLATE = 9  # duplex length used to derive the templates


def frame_points(
    c1: torch.Tensor, partner: torch.Tensor, partner_xyz: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Origin, x-point and xy-point of each residue frame: c1 [..., L, 3] -> 3 x [..., L, 3].

    ``partner_xyz`` [..., L, 3] overrides the partner C1′ lookup (used for the templates).
    """
    n = c1.shape[-2]
    idx = torch.arange(n)
    prev = c1[..., (idx - 1).clamp(min=0), :]
    nxt = c1[..., (idx + 1).clamp(max=n - 1), :]
    x_point = c1 + (nxt - prev)
    if n >= 3:
        j = idx.clamp(1, n - 2)
        curv = c1[..., j - 1, :] + c1[..., j + 1, :] - 2 * c1[..., j, :]
    else:
        curv = torch.zeros_like(c1)
    # A fixed perpendicular only where the trace is (nearly) straight, so that the frame stays
    # defined there; elsewhere its gate underflows to exactly 0 and frames are equivariant.
    tangent = normalize(nxt - prev)
    helper = torch.where(
        tangent[..., :1].abs() < 0.9,
        torch.tensor([1.0, 0.0, 0.0], dtype=c1.dtype),
        torch.tensor([0.0, 1.0, 0.0], dtype=c1.dtype),
    )
    perp = normalize(torch.cross(tangent, helper, dim=-1))
    curv_perp = curv - (curv * tangent).sum(-1, keepdim=True) * tangent
    gate = torch.exp(-((curv_perp * curv_perp).sum(-1, keepdim=True) / 0.01))
    xy_unpaired = c1 + curv + gate * perp
    paired = partner >= 0
    part = c1[..., partner.clamp(min=0), :] if partner_xyz is None else partner_xyz
    off = part - c1
    off_perp = off - (off * tangent).sum(-1, keepdim=True) * tangent
    gate_p = torch.exp(-((off_perp * off_perp).sum(-1, keepdim=True) / 0.01))
    xy_point = torch.where(paired[:, None], part + gate_p * perp, xy_unpaired)
    return c1, x_point, xy_point


def residue_frames(c1: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    """Per-residue frames from a C1′ trace: c1 [..., L, 3], partner [L] -> [..., L, 4, 4]."""
    return frame_from_points(*frame_points(c1, partner))


@cache
def frame_templates() -> dict[str, torch.Tensor]:
    """Ideal nucleotides in their trace frames (float64), from an A-form duplex.

    Returns ``own`` [3 positions, 2 paired?, 5 types, A, 3] (positions: first, interior, last)
    and ``next`` [3, 2, 5 linker atoms, 3] (next residue's linker in this residue's frame).
    """
    n = _N_TEMPLATE
    own = torch.zeros(3, 2, len(ideal.RESIDUE_TYPES), ideal.N_SLOTS, 3, dtype=torch.float64)
    nxt = torch.zeros(3, 2, len(LINK), 3, dtype=torch.float64)
    link_slots = [_SLOT[a] for a in LINK]
    for t, base in enumerate(ideal.RESIDUE_TYPES):
        atoms, _, partner = aform_duplex(base * n)
        strand = atoms[:n]
        c1 = c1_of(atoms)
        for paired in (0, 1):
            part = partner[:n] if paired else torch.full((n,), -1)
            frames = frame_from_points(*frame_points(c1[:n], part, c1[partner[:n]]))
            for k, i in enumerate((0, n // 2, n - 1)):
                own[k, paired, t] = apply_inverse(frames[i], strand[i])
                if t == 0:
                    j = min(i + 1, n - 1)
                    nxt[k, paired] = apply_inverse(frames[i], strand[j, link_slots])
    return {"own": own, "next": nxt}
