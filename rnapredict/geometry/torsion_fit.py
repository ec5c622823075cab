"""Torsions that rebuild a real chain without drift: per-residue least-squares fits.

Measured torsions rebuilt with ideal bonds and angles drift: every small angle difference
turns the rest of the chain, so a 76-nt tRNA ends up several Å away. The fit instead asks, for
each residue i independently (the problems share no unknowns, so they are solved in parallel
by Levenberg–Marquardt), which (ε_{i-1}, ζ_{i-1}, α_i, β_i, γ_i, δ_i) best put P … O3' of
residue i where they are in the native, starting from the native frame at O3'(i-1), with the
frame at O3'(i) weighted most so errors do not carry down the chain. Then (χ, pucker) of each
residue are fitted to its sugar and base atoms on the rebuilt main chain. Started from the
measured values; for an ideal chain those are already exact and the fit leaves them unchanged.
"""

from __future__ import annotations

import math

import torch
from torch.func import jacfwd, vmap

from rnapredict.geometry import ideal
from rnapredict.geometry.frames import frame_from_points
from rnapredict.geometry.nerf import _constants, build_residues, chain_frames, nerf_step

_S = ideal.slot_index("A")
_CHAIN = [_S[a] for a in ("P", "O5'", "C5'", "C4'", "C3'", "O3'")]
#: Weight of the end frame (O3' position and orientation) against the atom positions, and the
#: lever (Å) turning its orientation error into a distance.
END_WEIGHT, LEVER = 30.0, 5.0
#: Largest change of one torsion per iteration (radians).
MAX_STEP = 0.2


def _walk(theta: torch.Tensor, start: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Main chain of one residue: theta [6] (ε ζ α β γ δ), start [4, 4] ->
    positions [6, 3] and the end frame (at O3') [4, 4]."""
    c = _constants()
    bond = torch.as_tensor(c["chain_bond"], dtype=theta.dtype)
    angle = torch.as_tensor(c["chain_angle"], dtype=theta.dtype)
    steps = nerf_step(bond, angle, theta)
    out = []
    f = start
    for k in range(6):
        f = f @ steps[k]
        out.append(f[:3, 3])
    return torch.stack(out), f


def fit_torsions(
    seq: str,
    torsions: torch.Tensor,
    first_frame: torch.Tensor,
    atoms: torch.Tensor,
    mask: torch.Tensor,
    iters: int = 15,
    damping: float = 1e-3,
) -> torch.Tensor:
    """Refine backbone torsions so the rebuild follows the native chain (no drift).

    Args:
        seq: L residue letters.
        torsions: [L, 8] measured torsions (radians), e.g. from ``atoms_to_torsions``.
        first_frame: [4, 4] frame of the virtual O3'(-1) from ``atoms_to_torsions``.
        atoms: [L, A, 3] native slot coordinates (Å); mask: [L, A] present atoms.
        iters: Levenberg–Marquardt iterations; damping: initial (relative) damping.
    Returns:
        [L, 8] torsions; χ and pucker are kept as measured, α of residue 0 stays A-form (unused).
    """
    n = len(seq)
    dtype = torsions.dtype
    x = torch.where(mask[..., None], atoms, torch.zeros((), dtype=dtype))
    has = mask[:, _CHAIN]  # [L, 6]
    # Start frames: native NeRF frame at O3'(i-1) (from C4', C3', O3'), first_frame for i = 0.
    prev = x[:-1]
    flip = torch.diag(torch.tensor([-1.0, 1.0, -1.0, 1.0], dtype=dtype))
    f_prev = frame_from_points(prev[:, _S["O3'"]], prev[:, _S["C3'"]], prev[:, _S["C4'"]]) @ flip
    start = torch.cat([first_frame.to(dtype)[None], f_prev], dim=0)  # [L, 4, 4]
    ok_start = torch.cat(
        [torch.ones(1, dtype=torch.bool), mask[:-1, [_S["C4'"], _S["C3'"], _S["O3'"]]].all(-1)]
    )
    eps0 = math.radians(ideal.AFORM_TORSIONS_DEG[4])
    zeta0 = math.radians(ideal.AFORM_TORSIONS_DEG[5])
    alpha0 = math.radians(ideal.AFORM_TORSIONS_DEG[0])
    eps_prev = torch.cat([torch.tensor([eps0], dtype=dtype), torsions[:-1, 4]])
    zeta_prev = torch.cat([torch.tensor([zeta0], dtype=dtype), torsions[:-1, 5]])
    alpha = torch.cat([torch.tensor([alpha0], dtype=dtype), torsions[1:, 0]])
    theta = torch.stack([eps_prev, zeta_prev, alpha, *torsions[:, 1:4].unbind(-1)], dim=-1)
    free = torch.ones(n, 6, dtype=dtype)
    free[0, :3] = 0.0  # residue 0: ε, ζ (virtual) and α are fixed by first_frame
    weight = (has & ok_start[:, None]).to(dtype)  # [L, 6]
    target = x[:, _CHAIN]  # [L, 6, 3]
    # Native NeRF frame at O3'(i): matched tightly so that errors do not carry on down the chain.
    f_end = frame_from_points(x[:, _S["O3'"]], x[:, _S["C3'"]], x[:, _S["C4'"]]) @ flip
    ok_end = (mask[:, [_S["C4'"], _S["C3'"], _S["O3'"]]].all(-1) & ok_start).to(dtype)

    def residual(
        th: torch.Tensor, st: torch.Tensor, tg: torch.Tensor, w: torch.Tensor,
        fe: torch.Tensor, we: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        pos, end = _walk(th, st)
        rel = fe[:3, :3].transpose(0, 1) @ end[:3, :3]
        rot = torch.stack([rel[2, 1] - rel[1, 2], rel[0, 2] - rel[2, 0], rel[1, 0] - rel[0, 1]])
        return torch.cat(
            [
                ((pos - tg) * w[:, None]).reshape(-1),
                (end[:3, 3] - fe[:3, 3]) * we * END_WEIGHT,
                rot * we * END_WEIGHT * LEVER,
            ]
        )

    jac = vmap(jacfwd(residual))
    res = vmap(residual)
    eye = torch.eye(6, dtype=dtype)
    lam = torch.full((n, 1, 1), damping, dtype=dtype)
    for _ in range(iters):
        args = (theta, start, target, weight, f_end, ok_end)
        r = res(*args)  # [L, 24]
        j = jac(*args) * free[:, None, :]  # [L, 24, 6]
        jt = j.transpose(1, 2)
        h = jt @ j
        h = h + lam * (h.diagonal(dim1=1, dim2=2)[..., None] * eye + 1e-6 * eye)
        step = torch.linalg.solve(h, (jt @ r[..., None])[..., 0]) * free
        step = step.clamp(-MAX_STEP, MAX_STEP)  # stay in the measured basin
        trial = theta - step
        better = (res(trial, *args[1:]) ** 2).sum(-1) < (r**2).sum(-1)
        theta = torch.where(better[:, None], trial, theta)
        lam = torch.where(better[:, None, None], lam * 0.3, lam * 10.0).clamp(1e-9, 1e9)
    out = torsions.clone()
    out[:, 1:4] = theta[:, 3:6]
    out[1:, 0] = theta[1:, 2]
    out[:-1, 4] = theta[1:, 0]
    out[:-1, 5] = theta[1:, 1]
    out = _fit_sugar_base(seq, out, first_frame.to(dtype), x, mask, iters)
    return torch.remainder(out + math.pi, 2 * math.pi) - math.pi


def _fit_sugar_base(
    seq: str,
    torsions: torch.Tensor,
    first_frame: torch.Tensor,
    x: torch.Tensor,
    mask: torch.Tensor,
    iters: int,
) -> torch.Tensor:
    """χ and pucker per residue so sugar + base atoms best match the native, on the rebuilt
    main chain (2 unknowns per residue; finite-difference Jacobian, vectorized)."""
    types = torch.from_numpy(ideal.residue_types(seq))
    frames = chain_frames(torsions, first_frame)
    chain = frames[..., :3, 3]
    o3_prev = torch.cat([first_frame[None, :3, 3], chain[:-1, 5, :]], dim=0)
    w = mask.to(x.dtype).clone()
    w[:, _CHAIN] = 0.0  # the main chain is fixed here
    for name in ("OP1", "OP2"):
        w[:, _S[name]] = 0.0
    delta = torsions[:, 3]

    def resid(chi: torch.Tensor, puck: torch.Tensor) -> torch.Tensor:
        built = build_residues(chain, o3_prev, chi, types, delta, puck)
        return ((built - x) * w[..., None]).reshape(len(seq), -1)

    p = torch.stack([torsions[:, 6], torsions[:, 7]], dim=-1)  # [L, 2]
    lam = torch.full((len(seq), 1, 1), 1e-3, dtype=x.dtype)
    eye = torch.eye(2, dtype=x.dtype)
    h = 1e-5
    for _ in range(iters):
        r = resid(p[:, 0], p[:, 1])
        jac = torch.stack(
            [(resid(p[:, 0] + h, p[:, 1]) - r) / h, (resid(p[:, 0], p[:, 1] + h) - r) / h], -1
        )  # [L, 3A, 2]
        jt = jac.transpose(1, 2)
        hh = jt @ jac
        hh = hh + lam * (hh.diagonal(dim1=1, dim2=2)[..., None] * eye + 1e-6 * eye)
        step = torch.linalg.solve(hh, (jt @ r[..., None])[..., 0]).clamp(-MAX_STEP, MAX_STEP)
        trial = p - step
        better = (resid(trial[:, 0], trial[:, 1]) ** 2).sum(-1) < (r**2).sum(-1)
        p = torch.where(better[:, None], trial, p)
        lam = torch.where(better[:, None, None], lam * 0.3, lam * 10.0).clamp(1e-9, 1e9)
    out = torsions.clone()
    out[:, 6:8] = p
    return out
