"""Backbone closure: join rigidly placed nucleotides at their O3′(i)–P(i+1) links.

``from_c1`` places one rigid ideal nucleotide per residue. Joining neighbours needs freedom
that a rigid linker alone lacks: the O3′(i)…C5′(i+1) distance is fixed by the two sugars and
must fall in the ~2.7–3.9 Å that O3′–P–O5′–C5′ can span. So besides the free linker atoms
P and O5′ of residue i+1, every residue gets

- a rotation θ of its sugar–phosphate about the glycosidic C1′→N axis (a χ change: the base,
  C1′ and every bond and angle inside the nucleotide stay exact), weakly restrained;
- a rotation ρ of the whole nucleotide (base included) about its C1′, perpendicular to that
  axis (turns about the axis are θ's), restrained by ``W_ROT``: it tilts the base a little.

C1′ itself never moves (it is copied through): it is the predicted coordinate that users score
and submit. Where a trace puts neighbouring C1′ atoms in a place no ideal link can join
(noisy or compressed traces), the link stays strained or the base turns, as ``W_ROT`` trades.

The energy is harmonic in the link's bond lengths (weight 1) and in the 1–3 distances of its
bond angles (``W_ANGLE``), ideal values from ``ideal.py``. It is minimised by a fixed number of
preconditioned gradient steps on [S, L] rows (elementwise ops only, no autograd), so
the result is a smooth, differentiable function of the input. OP1/OP2 are then placed on P
with ideal bonds and angles (chirality from ``ideal.BRANCH_HINT``). Links whose C1′ atoms are
farther apart than ``BREAK_C1_A`` are chain breaks: no link terms, the residue stays rigid.
"""

from __future__ import annotations

import math
from functools import cache

import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.nerf import place_atom

#: Consecutive C1′ atoms farther apart than this (Å) are a chain break, left open. Links in
#: native structures reach ~10 Å in extended loops (1gid, 5m0h, 6g90), hence the margin.
BREAK_C1_A = 10.5
#: Gradient steps of the closure (cost is linear in them).
CLOSURE_STEPS = 100
#: Closure steps of a rebuild on :data:`rnapredict.geometry.trace.TIGHT_TRACE` (3× the default).
TIGHT_CLOSURE_STEPS = 3 * CLOSURE_STEPS
W_ANGLE = 0.3  # weight of a 1–3 (angle) term; bonds have 1
W_CHI = 0.002  # restraint on θ (per rad²)
W_ROT = 0.1  # restraint on ρ (per rad²): trades base reorientation against link strain
STEP_RIGID = 0.5  # damping of the rigid-body (θ, ρ) updates
MOMENTUM = 0.5

_S = ideal.slot_index("A")
#: Slots turned by θ: the backbone and sugar of a residue except C1′.
SUGAR_SLOTS = tuple(k for k, a in enumerate(ideal.BASE_ATOMS_ORDER) if a != "C1'")


@cache
def _targets() -> dict[str, float]:
    """Ideal bond lengths and angle 1–3 distances (Å) of the link terms."""
    b, a = ideal.bond, ideal.angle

    def d13(x: str, y: str, z: str) -> float:
        p, q = b(x, y), b(y, z)
        return math.sqrt(p * p + q * q - 2 * p * q * math.cos(math.radians(a(x, y, z))))

    return {
        "o3p": b("O3'", "P"), "po5": b("P", "O5'"), "o5c5": b("O5'", "C5'"),
        "c3p": d13("C3'", "O3'", "P"), "o3o5": d13("O3'", "P", "O5'"),
        "pc5": d13("P", "O5'", "C5'"), "o5c4": d13("O5'", "C5'", "C4'"),
    }  # fmt: skip


@cache
def _branch() -> tuple[tuple[float, float, float], ...]:
    """(bond Å, angle O5′–P–X rad, torsion O3′–O5′–P–X rad) placing X = OP1, OP2."""
    out = []
    for x in ("OP1", "OP2"):
        a = ideal.angle
        tors = ideal.branch_torsion(
            a("O3'", "P", "O5'"), a("O5'", "P", x), a("O3'", "P", x), ideal.BRANCH_HINT[x]
        )
        out.append((ideal.bond("P", x), math.radians(a("O5'", "P", x)), math.radians(tors)))
    return tuple(out)


def glycosidic_axis(atoms: torch.Tensor, has_base: torch.Tensor) -> torch.Tensor:
    """Unit C1′→N axes: atoms [S, L, A, 3], has_base [L] bool -> [S, L, 3].

    Residues without a base (``N``) use the direction opposite the C2′/O4′ bisector.
    """
    c1 = atoms[..., _S["C1'"], :]

    def unit(v: torch.Tensor) -> torch.Tensor:
        return v / torch.sqrt((v * v).sum(-1, keepdim=True) + 1e-30)

    bis = -(unit(atoms[..., _S["C2'"], :] - c1) + unit(atoms[..., _S["O4'"], :] - c1))
    glyco = atoms[..., len(ideal.BASE_ATOMS_ORDER), :] - c1  # first base atom: N9 / N1
    return unit(torch.where(has_base[:, None], glyco, bis))


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a[..., 0:1] * b[..., 0:1] + a[..., 1:2] * b[..., 1:2] + a[..., 2:3] * b[..., 2:3]


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Written out: torch.linalg.cross is several times slower on these small trailing dims.
    ax, ay, az = a.unbind(-1)
    bx, by, bz = b.unbind(-1)
    return torch.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], -1)


def _turn(rot: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Rotate y [..., 3] by rotation parameters rot [..., 3] (same leading shape).

    ``rot`` = 2 tan(φ/2) k (twice the Gibbs vector): an exact rotation by φ about k that is a
    rational, everywhere-smooth function of ``rot`` (no |rot| singularity at 0) and equals the
    rotation vector φ k to first order.
    """
    g = 0.5 * rot
    gy = _cross(g, y)
    return y + (2.0 / (1.0 + _dot(g, g))) * (gy + _cross(g, gy))


class _Rotor:
    """Points turned about a fixed axis through C1′: y(θ) = par + cos θ·perp + sin θ·n×perp."""

    def __init__(self, x: torch.Tensor, pivot: torch.Tensor, axis: torch.Tensor) -> None:
        r = x - pivot
        self.par = _dot(r, axis) * axis
        self.perp = r - self.par
        self.side = _cross(axis, self.perp)

    def at(self, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Offset from C1′ (Å) after turning by θ."""
        return self.par + cos * self.perp + sin * self.side


def _pull(u: torch.Tensor, v: torch.Tensor, target: float, w: torch.Tensor | float) -> torch.Tensor:
    """Weighted correction [..., 3] moving u towards v (v gets its negative)."""
    d = v - u
    dist = torch.sqrt(_dot(d, d) + 1e-12)
    return d * (w * (dist - target) / dist)


def _floor(u: torch.Tensor, v: torch.Tensor, floor: float) -> torch.Tensor:
    """Correction [..., 3] pushing u away from v while closer than ``floor`` Å (else 0)."""
    d = u - v
    dist = torch.sqrt(_dot(d, d) + 1e-12)
    return d * ((floor - dist).clamp(min=0.0) / dist)


def _pad(head: torch.Tensor, tail: torch.Tensor) -> torch.Tensor:
    """Per-residue [S, L, ...] from link-head [S, L-1, ...] (residue i) and link-tail (i+1)."""
    zero = torch.zeros_like(head[:, :1])
    return torch.cat([head, zero], 1) + torch.cat([zero, tail], 1)


def _rot_preconditioner(r: torch.Tensor, w: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """Inverse of the junction atoms' inertia tensor about C1′, stiffened along the axis.

    r: [S, L, J, 3] offsets from C1′, w: [S, L, J] link weights, axis: [S, L, 3] -> [S, L, 3, 3].
    Built once from the input pose (rotation equivariant); the stiff axial block leaves turns
    about the glycosidic axis to θ.
    """
    eye = torch.eye(3, dtype=r.dtype)
    r2 = torch.einsum("slj,slj->sl", w, (r * r).sum(-1))
    tensor = r2[..., None, None] * eye - torch.einsum("slj,slja,sljb->slab", w, r, r)
    stiff = r2[..., None, None] * axis[..., :, None] * axis[..., None, :]
    return torch.linalg.inv(tensor + stiff + W_ROT * eye)


#: Junction atoms of a residue: its link-head side (O3′, C3′) and link-tail side (C5′, C4′).
_JUNCTION = tuple(_S[a] for a in ("O3'", "C3'", "C5'", "C4'", "O4'"))
#: P(i) must stay at least this far (Å) from its own O4′ and C4′ (natives: ≥ 2.97 Å in 1ehz);
#: without the floor the link terms can pull P into its own sugar on tight traces.
P_SUGAR_FLOOR = 3.0


def close_backbone(
    atoms: torch.Tensor,
    has_base: torch.Tensor,
    linked: torch.Tensor,
    steps: int = CLOSURE_STEPS,
) -> torch.Tensor:
    """Close the O3′(i)–P(i+1) links of rigidly placed nucleotides; every C1′ stays put.

    Args:
        atoms: [S, L, A, 3] placed atoms (Å); P and O5′ of residue i+1 start near the link.
        has_base: [L] bool, residues with base atoms (the rest turn about a sugar axis).
        linked: [S, L-1] bool, links to close (False: chain break, left open).
        steps: gradient steps (0: ``atoms`` unchanged).
    Returns:
        [S, L, A, 3]; C1′ exactly as in ``atoms``; differentiable w.r.t. ``atoms``.
    """
    n = atoms.shape[1]
    if steps <= 0 or n < 2:
        return atoms
    tg = _targets()
    pivot = atoms[..., _S["C1'"], :]
    axis = glycosidic_axis(atoms, has_base)
    mask = linked[..., None].to(atoms.dtype)  # [S, L-1, 1]
    w_a = W_ANGLE
    # Junction atoms plus the glycosidic axis itself (as a 5th point, weight 0), all turned
    # together: [S, L, 5, 3] offsets from C1′.
    jr = _Rotor(atoms[:, :, _JUNCTION], pivot[:, :, None], axis[:, :, None])
    jr.par = torch.cat([jr.par, axis[:, :, None]], 2)
    jr.perp = torch.cat([jr.perp, torch.zeros_like(axis[:, :, None])], 2)
    jr.side = torch.cat([jr.side, torch.zeros_like(axis[:, :, None])], 2)
    one = torch.ones_like(mask)
    w_j = torch.cat(
        [_pad(torch.cat([(1 + w_a) * mask, w_a * mask], -1), torch.zeros_like(mask).expand(-1, -1, 2)),
         _pad(torch.zeros_like(mask).expand(-1, -1, 2), torch.cat([(1 + w_a) * one, w_a * one], -1)),
         torch.zeros_like(pivot[..., :1])],
        -1,
    )  # fmt: skip  # O4′ (5th) only feels the floor: no weight in the preconditioner
    perp = jr.perp[:, :, :5]
    inertia_theta = (w_j * (perp * perp).sum(-1)).sum(-1, keepdim=True)  # about the axis
    precond = _rot_preconditioner(jr.at(1.0, 0.0)[:, :, :5], w_j, axis)
    p, o5 = atoms[:, 1:, _S["P"]], atoms[:, 1:, _S["O5'"]]
    theta = atoms.new_zeros(atoms.shape[0], n, 1)
    rot = atoms.new_zeros(atoms.shape[0], n, 3)
    v_theta, v_rot = torch.zeros_like(theta), torch.zeros_like(rot)
    for _ in range(steps):
        r = _turn(rot[:, :, None], jr.at(torch.cos(theta)[..., None], torch.sin(theta)[..., None]))
        x = pivot[:, :, None] + r[:, :, :5]
        o3, c3, c5, c4 = x[:, :-1, 0], x[:, :-1, 1], x[:, 1:, 2], x[:, 1:, 3]
        o4 = x[:, 1:, 4]
        f_o3p = _pull(o3, p, tg["o3p"], mask)
        f_po5 = _pull(p, o5, tg["po5"], 1.0)
        f_o5c5 = _pull(o5, c5, tg["o5c5"], 1.0)
        f_c3p = _pull(c3, p, tg["c3p"], w_a * mask)
        f_o3o5 = _pull(o3, o5, tg["o3o5"], w_a * mask)
        f_pc5 = _pull(p, c5, tg["pc5"], w_a)
        f_o5c4 = _pull(o5, c4, tg["o5c4"], w_a)
        # Free atoms: Jacobi step, each correction shared by the atoms it moves.
        wsum_p = (1 + w_a) * mask + 1 + w_a
        wsum_o5 = 2 + w_a + w_a * mask
        f_po4 = _floor(p, o4, P_SUGAR_FLOOR)
        f_pc4 = _floor(p, c4, P_SUGAR_FLOOR)
        p = p + (-f_o3p + f_po5 - f_c3p + f_pc5 + f_po4 + f_pc4) / wsum_p
        o5 = o5 + (-f_po5 - f_o3o5 + f_o5c5 + f_o5c4) / wsum_o5
        # Rigid bodies: torque about C1′ of the forces on the junction atoms, its component
        # along the (turned) glycosidic axis for θ, the rest for ρ.
        t_head = _cross(r[:, :-1, :2], torch.stack([f_o3p + f_o3o5, f_c3p], 2))
        t_tail = _cross(r[:, 1:, 2:5], torch.stack([-f_o5c5 - f_pc5, -f_o5c4 - f_pc4, -f_po4], 2))
        torque = _pad(t_head[:, :, 0] + t_head[:, :, 1], t_tail.sum(2))
        ax = r[:, :, 5]
        tq_axial = _dot(torque, ax)
        v_theta = MOMENTUM * v_theta + STEP_RIGID * (tq_axial - W_CHI * theta) / (
            inertia_theta + W_CHI
        )
        g_rot = (torque - tq_axial * ax - W_ROT * rot)[..., None]
        v_rot = MOMENTUM * v_rot + STEP_RIGID * (precond @ g_rot)[..., 0]
        theta = theta + v_theta
        rot = rot + v_rot
    return _assemble(atoms, pivot, axis, theta, rot, p, o5, linked)


def _assemble(
    atoms: torch.Tensor,
    pivot: torch.Tensor,
    axis: torch.Tensor,
    theta: torch.Tensor,
    rot: torch.Tensor,
    p: torch.Tensor,
    o5: torch.Tensor,
    linked: torch.Tensor,
) -> torch.Tensor:
    """Apply θ [S, L, 1] and ρ [S, L, 3]; put the free linker [S, L-1, 3] and OP1/OP2 in."""
    c1 = _S["C1'"]
    sugar = list(SUGAR_SLOTS)
    cos, sin = torch.cos(theta)[:, :, None], torch.sin(theta)[:, :, None]
    y_sugar = _Rotor(atoms[:, :, sugar], pivot[:, :, None], axis[:, :, None]).at(cos, sin)
    y_base = atoms[:, :, c1 + 1 :] - pivot[:, :, None]
    turned = pivot[:, :, None] + _turn(rot[:, :, None], torch.cat([y_sugar, y_base], 2))
    # C1′ is copied, not recomputed: it stays bit-identical to the input.
    out = torch.cat([turned[:, :, :c1], atoms[:, :, c1 : c1 + 1], turned[:, :, c1:]], 2)
    o3 = out[:, :-1, _S["O3'"]]
    ops = [place_atom(o3, o5, p, b, a, t) for b, a, t in _branch()]
    link = torch.stack([p, ops[0], ops[1], o5], 2)
    keep = linked[..., None, None]
    slots = [_S[a] for a in ("P", "OP1", "OP2", "O5'")]
    nxt = torch.where(keep, link, out[:, 1:, slots])
    nxt = torch.cat([nxt, out[:, 1:, 4:]], 2)
    return torch.cat([out[:, :1], nxt], 1)
