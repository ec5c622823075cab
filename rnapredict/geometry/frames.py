"""Rigid frames: Gram–Schmidt frames from three points, composition, inversion, application.

A frame is a homogeneous transform ``T: [..., 4, 4]`` (rotation ``T[..., :3, :3]``, translation
``T[..., :3, 3]``) mapping local coordinates to global ones (Å). All functions are pure torch,
batched over leading dims and differentiable.
"""

from __future__ import annotations

import torch

EPS = 1e-8


def normalize(v: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Unit vectors along the last dim (zero stays zero). v: [..., 3] -> [..., 3]."""
    return v / torch.linalg.vector_norm(v, dim=-1, keepdim=True).clamp_min(eps)


def make_frame(rot: torch.Tensor, trans: torch.Tensor) -> torch.Tensor:
    """Homogeneous transform from rotation [..., 3, 3] and translation [..., 3] -> [..., 4, 4]."""
    top = torch.cat([rot, trans[..., :, None]], dim=-1)
    bottom = torch.zeros(*rot.shape[:-2], 1, 4, dtype=rot.dtype, device=rot.device)
    bottom[..., 0, 3] = 1.0
    return torch.cat([top, bottom], dim=-2)


def frame_from_points(
    origin: torch.Tensor, x_point: torch.Tensor, xy_point: torch.Tensor
) -> torch.Tensor:
    """Gram–Schmidt frame: origin at ``origin``, x towards ``x_point``, xy-plane holds ``xy_point``.

    Args:
        origin, x_point, xy_point: [..., 3] coordinates (Å).
    Returns:
        [..., 4, 4] right-handed orthonormal frame (det +1), local -> global.
    """
    e1 = normalize(x_point - origin)
    v2 = xy_point - origin
    e2 = normalize(v2 - (v2 * e1).sum(-1, keepdim=True) * e1)
    e3 = torch.cross(e1, e2, dim=-1)
    return make_frame(torch.stack([e1, e2, e3], dim=-1), origin)


def compose(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a ∘ b`` (apply b first): [..., 4, 4] x [..., 4, 4] -> [..., 4, 4]."""
    return a @ b


def invert(t: torch.Tensor) -> torch.Tensor:
    """Inverse of rigid transforms [..., 4, 4]."""
    rot_t = t[..., :3, :3].transpose(-1, -2)
    return make_frame(rot_t, -(rot_t @ t[..., :3, 3:4])[..., 0])


def apply(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Apply frames to points: t [..., 4, 4], x [..., N, 3] -> [..., N, 3] (t broadcast over N)."""
    return torch.einsum("...ij,...nj->...ni", t[..., :3, :3], x) + t[..., None, :3, 3]


def apply_inverse(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Global points into the local coordinates of frames t: [..., N, 3] -> [..., N, 3]."""
    return torch.einsum("...ji,...nj->...ni", t[..., :3, :3], x - t[..., None, :3, 3])


def place_rigid(t: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
    """Rigidly place template atoms ``local`` [..., A, 3] with frames t [..., 4, 4] -> [..., A, 3]."""
    return apply(t, local)


def cumulative_compose(t: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Inclusive prefix product ``t_0 ∘ t_1 ∘ ... ∘ t_k`` along ``dim`` (Hillis–Steele scan).

    O(log n) batched matmuls, so a chain of n transforms costs log2(n) vectorized steps.
    t: [..., n, 4, 4] (``dim`` indexes n) -> [..., n, 4, 4].
    """
    t = t.movedim(dim, -3)
    n = t.shape[-3]
    step = 1
    while step < n:
        head = t[..., :step, :, :]
        tail = t[..., :-step, :, :] @ t[..., step:, :, :]
        t = torch.cat([head, tail], dim=-3)
        step *= 2
    return t.movedim(-3, dim)
