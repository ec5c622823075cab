"""All-atom RNA from a C1′ trace and base pairs.

Rule (documented, vectorized over samples and residues, differentiable):

1. **Frames from the trace.** Residue i gets a Gram–Schmidt frame at C1′(i): x along the chain
   tangent C1′(i+1) − C1′(i−1) (one-sided at the ends); the xy-plane holds the base-pair
   partner's C1′ when paired, else the local curvature point C1′(j−1) + C1′(j+1) − C1′(j)
   (j = i clamped to the interior), which in a helix points to the axis.
2. **Ideal nucleotides.** Each residue is the A-form nucleotide (``ideal.py`` geometry, A-form
   torsions) expressed in the frame it has in an ideal A-form duplex under the same rule; so
   an ideal A-form trace is rebuilt exactly (bond lengths, angles, O3′–P = 1.607 Å).
3. **Backbone closure.** The linker P, OP1, OP2, O5′, C5′ of residue i+1 is predicted from both
   neighbours' frames and blended, then a few position-based projection sweeps restore the
   ideal lengths of O3′(i)–P, P–O5′, O5′–C5′, C5′–C4′, P–OP1/2 and the 1–3 distances of the
   angles around them (the sugars stay rigid), so O3′(i)–P(i+1) ≈ 1.6 Å on any sensible trace.
"""

from __future__ import annotations

import math
from functools import cache

import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.frames import apply, apply_inverse, frame_from_points, normalize
from rnapredict.geometry.helix import aform_duplex, c1_of

#: Slots of the linker atoms of a residue (moved by the closure), and of fixed neighbours.
_LINK = ("P", "OP1", "OP2", "O5'", "C5'")
_SLOT = ideal.slot_index("A")
#: Weight of the previous residue's prediction for each linker atom when blending.
_W_PREV = (0.6, 0.6, 0.6, 0.4, 0.2)
CLOSURE_SWEEPS = 12
_N_TEMPLATE = 9  # duplex length used to derive the templates


def _frame_points(
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
    return frame_from_points(*_frame_points(c1, partner))


@cache
def _templates() -> dict[str, torch.Tensor]:
    """Ideal nucleotides in their trace frames (float64), from an A-form duplex.

    Returns ``own`` [3 positions, 2 paired?, 5 types, A, 3] (positions: first, interior, last)
    and ``next`` [3, 2, 5 linker atoms, 3] (next residue's linker in this residue's frame).
    """
    n = _N_TEMPLATE
    own = torch.zeros(3, 2, len(ideal.RESIDUE_TYPES), ideal.N_SLOTS, 3, dtype=torch.float64)
    nxt = torch.zeros(3, 2, len(_LINK), 3, dtype=torch.float64)
    link_slots = [_SLOT[a] for a in _LINK]
    for t, base in enumerate(ideal.RESIDUE_TYPES):
        atoms, _, partner = aform_duplex(base * n)
        strand = atoms[:n]
        c1 = c1_of(atoms)
        for paired in (0, 1):
            part = partner[:n] if paired else torch.full((n,), -1)
            frames = frame_from_points(*_frame_points(c1[:n], part, c1[partner[:n]]))
            for k, i in enumerate((0, n // 2, n - 1)):
                own[k, paired, t] = apply_inverse(frames[i], strand[i])
                if t == 0:
                    j = min(i + 1, n - 1)
                    nxt[k, paired] = apply_inverse(frames[i], strand[j, link_slots])
    return {"own": own, "next": nxt}


@cache
def _closure_terms() -> tuple[tuple[int, int, float], ...]:
    """Distance terms (atom u, atom v, Å) over the 10 junction atoms, see ``_close``.

    Junction atom order: 0 C3'(i), 1 O3'(i), 2 P, 3 OP1, 4 OP2, 5 O5', 6 C5' (of i+1),
    7 C4'(i+1), 8 C3'(i+1), 9 O4'(i+1). Angles enter as 1–3 distances.
    """
    b, a = ideal.bond, ideal.angle

    def d13(x: float, y: float, theta: float) -> float:
        return math.sqrt(x * x + y * y - 2 * x * y * math.cos(math.radians(theta)))

    bo3p, bpo5, bo5c5, bc5c4 = b("O3'", "P"), b("P", "O5'"), b("O5'", "C5'"), b("C5'", "C4'")
    bop = b("P", "OP1")
    terms = [
        (1, 2, bo3p), (2, 5, bpo5), (5, 6, bo5c5), (6, 7, bc5c4), (2, 3, bop), (2, 4, bop),
        (0, 2, d13(b("C3'", "O3'"), bo3p, a("C3'", "O3'", "P"))),
        (1, 5, d13(bo3p, bpo5, a("O3'", "P", "O5'"))),
        (2, 6, d13(bpo5, bo5c5, a("P", "O5'", "C5'"))),
        (5, 7, d13(bo5c5, bc5c4, a("O5'", "C5'", "C4'"))),
        (6, 8, d13(bc5c4, b("C4'", "C3'"), a("C5'", "C4'", "C3'"))),
        (6, 9, d13(bc5c4, b("C4'", "O4'"), a("C5'", "C4'", "O4'"))),
        (1, 3, d13(bo3p, bop, a("O3'", "P", "OP1"))),
        (1, 4, d13(bo3p, bop, a("O3'", "P", "OP2"))),
        (5, 3, d13(bpo5, bop, a("O5'", "P", "OP1"))),
        (5, 4, d13(bpo5, bop, a("O5'", "P", "OP2"))),
    ]  # fmt: skip
    return tuple(terms)


def _close(junction: torch.Tensor, sweeps: int) -> torch.Tensor:
    """Jacobi position-based projection on the linker atoms (2–6) of junctions [..., 10, 3]."""
    terms = _closure_terms()
    u = torch.tensor([t[0] for t in terms])
    v = torch.tensor([t[1] for t in terms])
    target = torch.tensor([t[2] for t in terms], dtype=junction.dtype)
    movable = torch.zeros(10, dtype=junction.dtype)
    movable[2:7] = 1.0
    wu, wv = movable[u], movable[v]
    share = wu + wv
    fu, fv = wu / share, wv / share
    count = torch.zeros(10, dtype=junction.dtype).index_add_(0, u, wu).index_add_(0, v, wv)
    count = count.clamp(min=1.0)[:, None]
    x = junction
    for _ in range(sweeps):
        diff = x[..., v, :] - x[..., u, :]
        dist = torch.sqrt((diff * diff).sum(-1, keepdim=True) + 1e-12)
        corr = (dist - target[:, None]) * diff / dist  # move u towards v by this (if alone)
        delta = torch.zeros_like(x)
        delta = delta.index_add(-2, u, corr * fu[:, None]).index_add(-2, v, -corr * fv[:, None])
        x = x + delta / count
    return x


def c1_to_atoms(
    seq: str, c1: torch.Tensor, partner: torch.Tensor, closure_sweeps: int = CLOSURE_SWEEPS
) -> tuple[torch.Tensor, torch.Tensor]:
    """All heavy atoms from C1′ coordinates and base pairs.

    Args:
        seq: L residue letters (ACGU; others are built as ``N``: backbone + sugar only).
        c1: [S, L, 3] or [L, 3] C1′ coordinates (Å).
        partner: [L] long, index of each residue's base-pair partner, -1 if unpaired.
        closure_sweeps: projection sweeps closing the O3′–P links (0: rigid placement only).
    Returns:
        atoms [S, L, A, 3] (or [L, A, 3]), slots in NUCLEOTIDE_ATOMS order (A = 23), and
        mask [L, A] bool. Differentiable w.r.t. ``c1``.
    """
    n = len(seq)
    if c1.shape[-2:] != (n, 3):
        raise ValueError(f"c1 {tuple(c1.shape)} does not fit a {n}-nt sequence")
    partner = torch.as_tensor(partner, dtype=torch.long).reshape(n)
    single = c1.dim() == 2
    x = c1[None] if single else c1
    tmpl = _templates()
    types = torch.from_numpy(ideal.residue_types(seq))
    pos = torch.ones(n, dtype=torch.long)
    if n > 1:
        pos[0], pos[-1] = 0, 2
    paired = (partner >= 0).long()
    own = tmpl["own"].to(x.dtype)[pos, paired, types]  # [L, A, 3]
    frames = residue_frames(x, partner)  # [S, L, 4, 4]
    atoms = apply(frames, own.expand(x.shape[0], n, -1, -1))
    if n > 1:
        link = [_SLOT[a] for a in _LINK]
        pred_prev = apply(frames[:, :-1], tmpl["next"].to(x.dtype)[pos[:-1], paired[:-1]])
        w = torch.tensor(_W_PREV, dtype=x.dtype)[:, None]
        blended = w * pred_prev + (1 - w) * atoms[:, 1:, link]
        fixed_prev = atoms[:, :-1, [_SLOT["C3'"], _SLOT["O3'"]]]
        fixed_next = atoms[:, 1:, [_SLOT["C4'"], _SLOT["C3'"], _SLOT["O4'"]]]
        junction = torch.cat([fixed_prev, blended, fixed_next], dim=-2)
        if closure_sweeps > 0:
            junction = _close(junction, closure_sweeps)
        atoms = torch.cat(
            [atoms[:, :1], torch.cat([junction[..., 2:7, :], atoms[:, 1:, 5:]], dim=-2)], dim=1
        )
    mask = torch.from_numpy(ideal.slot_mask_table()[types.numpy()])
    return (atoms[0] if single else atoms), mask
