"""All-atom RNA from a C1′ trace and base pairs.

Rule (documented, vectorized over samples and residues, differentiable):

1. **Frames from the trace.** Residue i gets a Gram–Schmidt frame at C1′(i): x along the chain
   tangent C1′(i+1) − C1′(i−1) (one-sided at the ends); the xy-plane holds the base-pair
   partner's C1′ when paired, else the local curvature point C1′(j−1) + C1′(j+1) − C1′(j)
   (j = i clamped to the interior), which in a helix points to the axis.
2. **Ideal nucleotides.** Each residue is the A-form nucleotide (``ideal.py`` geometry, A-form
   torsions) expressed in the frame it has in an ideal A-form duplex under the same rule; so
   an ideal paired A-form trace is rebuilt exactly (bond lengths, angles, O3′–P = 1.607 Å).
   Unpaired residues get in addition a rigid correction looked up from their local C1′
   pseudo-angle and pseudo-torsion (``UNPAIRED_CORRECTION``, fitted to native structures):
   loops are rarely A-form.
3. **Backbone closure.** The linker P, OP1, OP2, O5′ of residue i+1 is predicted from both
   neighbours' frames and blended, then ``closure.close_backbone`` minimises the link's bond
   and angle strain, moving P, O5′, each sugar–phosphate about its glycosidic axis (χ) and
   each whole nucleotide by a small restrained rotation about its C1′; OP1/OP2 are rebuilt
   ideal on P. Consecutive C1′ farther apart than ``BREAK_C1_A`` (10.5 Å) are a chain break
   and are left open.

Every output C1′ is the input C1′ (bit-identical): the frames are anchored there, the
unpaired correction and the closure only turn nucleotides about it. ``fold`` then removes
clashes with :mod:`rnapredict.geometry.cleanup`, which moves C1′ a little (restrained,
≤ ~0.5 Å RMS). The frames and the ideal nucleotides in them are
:mod:`rnapredict.geometry.trace_frames`.
"""

from __future__ import annotations

import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.closure import BREAK_C1_A, CLOSURE_STEPS, close_backbone
from rnapredict.geometry.frames import apply, normalize
from rnapredict.geometry.trace_frames import LINK, frame_templates, residue_frames

_SLOT = ideal.slot_index("A")
#: Weight of the previous residue's prediction for each linker atom when blending.
_W_PREV = (0.6, 0.6, 0.6, 0.4)


#: Bins of the C1′ pseudo-angle (i-1, i, i+1; degrees) and pseudo-torsion (i-1 … i+2) used to
#: pick the unpaired-residue correction (see ``UNPAIRED_CORRECTION``).
ANGLE_EDGES = (100.0, 130.0, 145.0, 155.0)
TORSION_EDGES = (-60.0, 60.0)
N_BINS = (len(ANGLE_EDGES) + 1) * (len(TORSION_EDGES) + 1)
#: Per-bin rigid correction of the A-form template of *unpaired* residues in their trace frame:
#: rotation vector (radians) and translation (Å), local frame coordinates. The translations
#: are zero: the correction turns the nucleotide about its C1′, which stays on the trace.
#: Pooled rotation-only (about C1′) Kabsch fit of the backbone + sugar atoms of the unpaired
#: residues of the 27 files in ../shared/data/structures.
#: Bin order: angle bin * 3 + torsion bin; bins with < 20 samples hold the global fit.
UNPAIRED_CORRECTION: tuple[tuple[float, ...], ...] = (
    (-2.1547, 0.1511, 0.5164, 0.0000, 0.0000, 0.0000),  # n=32
    (-1.4910, -0.3192, 0.3039, 0.0000, 0.0000, 0.0000),  # n=34
    (-1.7434, 0.4134, 0.4033, 0.0000, 0.0000, 0.0000),  # n=47
    (-1.2419, -0.1805, -0.0938, 0.0000, 0.0000, 0.0000),  # n=36
    (-1.5086, 0.1618, 0.0668, 0.0000, 0.0000, 0.0000),  # n=45
    (-2.2516, 0.4701, 0.3210, 0.0000, 0.0000, 0.0000),  # n=41
    (-0.5723, -0.0205, 0.0238, 0.0000, 0.0000, 0.0000),  # n=12
    (-0.3426, 0.0239, -0.0777, 0.0000, 0.0000, 0.0000),  # n=86
    (-1.1999, 0.1607, 0.0614, 0.0000, 0.0000, 0.0000),  # n=36
    (-0.7633, 0.1395, -0.0050, 0.0000, 0.0000, 0.0000),  # n=20
    (-0.1631, 0.0587, -0.0242, 0.0000, 0.0000, 0.0000),  # n=211
    (-0.2592, 0.0401, -0.0356, 0.0000, 0.0000, 0.0000),  # n=33
    (-0.5723, -0.0205, 0.0238, 0.0000, 0.0000, 0.0000),  # n=19
    (-0.0612, 0.0175, 0.0093, 0.0000, 0.0000, 0.0000),  # n=52
    (-0.3012, -0.0115, 0.0078, 0.0000, 0.0000, 0.0000),  # n=31
)


def _rotvec_to_matrix(v: torch.Tensor) -> torch.Tensor:
    """Rodrigues: rotation vectors [..., 3] -> matrices [..., 3, 3]."""
    theta = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    k = v / theta.clamp_min(1e-12)
    kx, ky, kz = k.unbind(-1)
    zero = torch.zeros_like(kx)
    skew = torch.stack(
        [torch.stack([zero, -kz, ky], -1), torch.stack([kz, zero, -kx], -1),
         torch.stack([-ky, kx, zero], -1)], -2
    )  # fmt: skip
    sin, cos = torch.sin(theta)[..., None], torch.cos(theta)[..., None]
    eye = torch.eye(3, dtype=v.dtype).expand_as(skew)
    return eye + sin * skew + (1 - cos) * skew @ skew


def correction_frames(table: torch.Tensor) -> torch.Tensor:
    """[B, 6] (rotation vector, translation) -> [B, 4, 4] local correction transforms."""
    out = torch.eye(4, dtype=table.dtype).repeat(table.shape[0], 1, 1)
    out[:, :3, :3] = _rotvec_to_matrix(table[:, :3])
    out[:, :3, 3] = table[:, 3:]
    return out


def unpaired_bins(c1: torch.Tensor) -> torch.Tensor:
    """Correction bin of every residue from its local C1′ geometry: [..., L, 3] -> [..., L]."""
    n = c1.shape[-2]
    if n < 4:
        return torch.zeros(c1.shape[:-1], dtype=torch.long)
    j = torch.arange(n).clamp(1, n - 3)
    a, b, c, d = (c1[..., j + k, :] for k in (-1, 0, 1, 2))
    u, v = a - b, c - b
    cos = (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1)).clamp_min(1e-9)
    ang = torch.rad2deg(torch.acos(cos.clamp(-1, 1)))
    b1 = normalize(c - b)
    vv = (a - b) - ((a - b) * b1).sum(-1, keepdim=True) * b1
    ww = (d - c) - ((d - c) * b1).sum(-1, keepdim=True) * b1
    tor = torch.rad2deg(torch.atan2((torch.cross(b1, vv, dim=-1) * ww).sum(-1), (vv * ww).sum(-1)))
    ai = torch.bucketize(ang.detach(), torch.tensor(ANGLE_EDGES, dtype=ang.dtype))
    ti = torch.bucketize(tor.detach(), torch.tensor(TORSION_EDGES, dtype=tor.dtype))
    return ai * (len(TORSION_EDGES) + 1) + ti


def c1_to_atoms(
    seq: str,
    c1: torch.Tensor,
    partner: torch.Tensor,
    closure_steps: int = CLOSURE_STEPS,
    unpaired_correction: torch.Tensor | None = None,
    span: tuple[int, int] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """All heavy atoms from C1′ coordinates and base pairs.

    Args:
        seq: L residue letters (ACGU; others are built as ``N``: backbone + sugar only).
        c1: [S, L, 3] or [L, 3] C1′ coordinates (Å).
        partner: [L] long, index of each residue's base-pair partner, -1 if unpaired.
        closure_steps: gradient steps closing the O3′–P links (0: rigid placement only), see
            :mod:`rnapredict.geometry.closure`; links with C1′–C1′ > ``BREAK_C1_A`` stay open.
        unpaired_correction: [N_BINS, 6] override of ``UNPAIRED_CORRECTION`` (zeros: pure
            A-form templates).
        span: (first, last) residues: close only the links between them (a window of the
            chain being rebuilt; frames still see the whole trace), the rest stays rigidly
            placed; None: every link.
    Returns:
        atoms [S, L, A, 3] (or [L, A, 3]), slots in NUCLEOTIDE_ATOMS order (A = 23), with
        C1′ equal to ``c1``, and mask [L, A] bool. Differentiable w.r.t. ``c1``.
    """
    n = len(seq)
    if c1.shape[-2:] != (n, 3):
        raise ValueError(f"c1 {tuple(c1.shape)} does not fit a {n}-nt sequence")
    partner = torch.as_tensor(partner, dtype=torch.long).reshape(n)
    if n == 0:
        empty = c1.new_zeros((*c1.shape[:-2], 0, ideal.N_SLOTS, 3))
        return empty, torch.zeros(0, ideal.N_SLOTS, dtype=torch.bool)
    single = c1.dim() == 2
    x = c1[None] if single else c1
    tmpl = frame_templates()
    types = torch.from_numpy(ideal.residue_types(seq))
    pos = torch.ones(n, dtype=torch.long)
    if n > 1:
        pos[0], pos[-1] = 0, 2
    paired = (partner >= 0).long()
    own = tmpl["own"].to(x.dtype)[pos, paired, types]  # [L, A, 3]
    frames = residue_frames(x, partner)  # [S, L, 4, 4]
    table = (
        torch.tensor(UNPAIRED_CORRECTION, dtype=x.dtype)
        if unpaired_correction is None
        else unpaired_correction.to(x.dtype)
    )
    if bool(table.abs().max() > 0):
        corr = correction_frames(table)[unpaired_bins(x)]  # [S, L, 4, 4]
        eye = torch.eye(4, dtype=x.dtype)
        frames = frames @ torch.where((partner < 0)[:, None, None], corr, eye)
    atoms = apply(frames, own.expand(x.shape[0], n, -1, -1))
    mask = torch.from_numpy(ideal.slot_mask_table()[types.numpy()])
    if n > 1:
        link = [_SLOT[a] for a in LINK]
        gap = torch.linalg.vector_norm(x[:, 1:] - x[:, :-1], dim=-1)
        linked = gap <= BREAK_C1_A  # [S, L-1]
        pred_prev = apply(frames[:, :-1], tmpl["next"].to(x.dtype)[pos[:-1], paired[:-1]])
        w = torch.tensor(_W_PREV, dtype=x.dtype)[:, None] * linked[..., None, None]
        blended = w * pred_prev + (1 - w) * atoms[:, 1:, link]
        atoms = torch.cat([atoms[:, :1], torch.cat([blended, atoms[:, 1:, 4:]], -2)], 1)
        lo, hi = (0, n - 1) if span is None else span
        part = close_backbone(
            atoms[:, lo : hi + 1], types[lo : hi + 1] < 4, linked[:, lo:hi], closure_steps
        )
        atoms = part if span is None else torch.cat([atoms[:, :lo], part, atoms[:, hi + 1 :]], 1)
    return (atoms[0] if single else atoms), mask
