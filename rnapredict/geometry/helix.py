"""Ideal A-form helix from the torsion builder: base frames, Watson–Crick partners, parameters.

A strand built with the A-form torsions is a regular helix; its Watson–Crick complement is the
image of each base's Olson standard frame rotated 180° about the frame's x axis (the pair
dyad) and moved PAIR_SHIFT towards its mate, which puts C1'–C1' across a pair at 10.5–10.7 Å.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.frames import apply, frame_from_points, invert
from rnapredict.geometry.nerf import torsions_to_atoms

#: Shift (Å) of the partner base towards its mate along the pair's y axis: the Olson ideal
#: pair has C1'–C1' 10.7–10.8 Å; observed Watson–Crick pairs average about 10.5 Å.
PAIR_SHIFT = 0.15
#: Partner C1' in the Olson frame of the base it pairs with (mean of the four templates), Å.
PARTNER_C1 = (-2.479, -5.375 + PAIR_SHIFT, 0.0)


def pair_flip(dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Partner base frame in the frame of its mate: 180° about x, then PAIR_SHIFT: [4, 4]."""
    f = torch.diag(torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=dtype))
    f[1, 3] = PAIR_SHIFT
    return f


def aform_torsions(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """[n, T] A-form torsions (radians)."""
    t = torch.tensor(ideal.AFORM_TORSIONS_DEG, dtype=dtype).deg2rad()
    return t.expand(n, ideal.N_TORSIONS).clone()


def aform_strand(seq: str, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """One A-form strand: atoms [L, A, 3] (Å) and mask [L, A]."""
    return torsions_to_atoms(seq, aform_torsions(len(seq), dtype))


def standard_frames(seq: str, atoms: torch.Tensor) -> torch.Tensor:
    """Olson standard base frames (template coords -> global) [..., L, 4, 4]; N uses A's."""
    slots = [ideal.slot_index(b if b in ideal.GLYCOSIDIC else "A") for b in seq]
    out = []
    for i, b in enumerate(seq):
        tb = b if b in ideal.GLYCOSIDIC else "A"
        n, x = ideal.GLYCOSIDIC[tb]
        tmpl = ideal.base_template(tb)
        f_t = frame_from_points(*(torch.tensor(tmpl[k], dtype=atoms.dtype) for k in (n, "C1'", x)))
        s = slots[i]
        res = atoms[..., i, :, :]
        if b in ideal.GLYCOSIDIC:
            f = frame_from_points(res[..., s[n], :], res[..., s["C1'"], :], res[..., s[x], :])
        else:  # no base atoms: glycosidic N/X are not written; use the sugar-only frame
            f = frame_from_points(
                res[..., s["C1'"], :], res[..., s["O4'"], :], res[..., s["C2'"], :]
            )
        out.append(f @ invert(f_t))
    return torch.stack(out, dim=-3)


def partner_c1(std_frames: torch.Tensor) -> torch.Tensor:
    """Ideal Watson–Crick partner C1' of each base: frames [..., L, 4, 4] -> [..., L, 3]."""
    p = torch.tensor(PARTNER_C1, dtype=std_frames.dtype)
    return apply(std_frames, p.expand(*std_frames.shape[:-2], 1, 3))[..., 0, :]


def dyad(std_frame: torch.Tensor) -> torch.Tensor:
    """Transform taking a strand onto its Watson–Crick complement at this pair: [4, 4]."""
    return std_frame @ pair_flip(std_frame.dtype) @ invert(std_frame)


def helix_parameters(frames: torch.Tensor) -> tuple[float, float]:
    """(rise Å, twist degrees) of the screw taking frame i to frame i+1 (mean over the chain).

    frames: [L, 4, 4] consecutive residue (or base-pair) frames, L >= 2.
    """
    rel = frames[1:] @ invert(frames[:-1])  # global screw motions [L-1, 4, 4]
    rot = rel[:, :3, :3]
    cos = ((rot.diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2).clamp(-1, 1)
    twist = torch.acos(cos)
    axis = torch.stack(
        [rot[:, 2, 1] - rot[:, 1, 2], rot[:, 0, 2] - rot[:, 2, 0], rot[:, 1, 0] - rot[:, 0, 1]],
        dim=-1,
    )
    axis = axis / axis.norm(dim=-1, keepdim=True)
    step = frames[1:, :3, 3] - frames[:-1, :3, 3]
    rise = (step * axis).sum(-1).abs()
    return float(rise.mean()), math.degrees(float(twist.mean()))


def aform_duplex(seq: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ideal A-form duplex of ``seq`` with its complementary strand (read 5'->3').

    Returns:
        atoms [2L, A, 3] (strand 1 then strand 2), mask [2L, A], partner [2L] long.
    """
    comp = {"A": "U", "U": "A", "G": "C", "C": "G"}
    n = len(seq)
    s1, m1 = aform_strand(seq)
    seq2 = "".join(comp.get(b, "N") for b in reversed(seq))
    s2, m2 = aform_strand(seq2)
    # Place strand 2 so that its residue n-1-k pairs with strand-1 residue k (dyad of pair 0).
    f1 = standard_frames(seq, s1)
    f2 = standard_frames(seq2, s2)
    move = f1[0] @ pair_flip(s1.dtype) @ invert(f2[n - 1]) if n else torch.eye(4, dtype=s1.dtype)
    s2 = apply(move, s2.reshape(-1, 3)[None])[0].reshape(s2.shape)
    partner = torch.cat([torch.arange(2 * n - 1, n - 1, -1), torch.arange(n - 1, -1, -1)])
    return torch.cat([s1, s2]), torch.cat([m1, m2]), partner


def c1_of(atoms: torch.Tensor) -> torch.Tensor:
    """C1' coordinates from slot atoms: [..., L, A, 3] -> [..., L, 3]."""
    return atoms[..., ideal.slot_index("A")["C1'"], :]


def numpy_c1(atoms: torch.Tensor) -> np.ndarray:
    """C1' coordinates as float64 numpy [L, 3]."""
    return c1_of(atoms).detach().double().numpy()
