"""C1′ traces an all-atom backbone can join: close gaps and open collapsed steps first.

Consecutive C1′ atoms of one RNA chain are held together by the sugar–phosphate backbone.
Measured over the covalently linked steps of the training structures (``../shared/data/
allatom``, train split: 9,039 steps whose O3′(i)–P(i+1) is ≤ 2.0 Å, so a step is a real link
and not a chain break or a missing residue), C1′(i)–C1′(i+1) spans 3.66–10.52 Å (0.1 % below
3.94, 99th percentile 9.27, 99.9th 9.80; validation 3.65–10.07). The 16,253 steps of the C1′
set (``c1/``, which has no O3′ to tell a break from a step) agree below 10.5 Å and reach 3.31 Å
at the short end (an NMR model). Hence ``check.C1_STEP_MIN`` = 3.3 Å and ``check.C1_STEP_MAX`` =
10.6 Å, the bounds :mod:`rnapredict.geometry.check` enforces.

A sampled trace can leave them (template segments placed apart, a diffusion started at small σ
keeping its start's gap, structureless sequences packing residues 1.5–2.6 Å apart). The
backbone builder cannot join such a step, and the all-atom clean-up cannot pull a 12 Å gap shut.
:func:`close_trace` moves the C1′ atoms before any atom is built: alternating (even links, then
odd links) projections set every step outside [``min_step``, ``max_step``] to the nearest
bound, each link's two atoms moving equally, until every step is within
``tolerance``; a gap is so shared out over the steps next to it. Steps already in range are
not touched, and a trace with none out of range is returned unchanged (bit-identical).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TraceConfig:
    """Where :func:`close_trace` puts the steps it moves.

    Attributes:
        max_step: steps longer than this (Å) are shortened to it; ~96 % of real steps are
            shorter. The backbone builder and clean-up join native steps up to 10 Å (40 train
            chains, 1,365 links: every O3′–P within 0.04 Å of ideal) but not a straight run of
            9 Å steps (what a closed long gap becomes); runs of 8.5 Å steps join.
        min_step: steps shorter than this (Å) are lengthened to it: 0.1 % of real steps
            are shorter than 3.94 Å (A-form: 5.5–6 Å).
        tolerance: accepted overshoot (Å) of either bound when the sweeps stop.
        sweeps: most even/odd sweep pairs (a 20 Å gap needs a few dozen).
    """

    max_step: float = 8.5
    min_step: float = 3.8
    tolerance: float = 0.05
    sweeps: int = 400


#: Tighter bounds for rebuilding a model whose links the default trace let the backbone
#: closure miss (a straight run of 8.5 Å steps does not always join): the windowed repair
#: (:mod:`rnapredict.geometry.window`) and the whole-model retry of ``pipeline.allatom``.
TIGHT_TRACE = TraceConfig(max_step=7.5, min_step=4.5)


def _project(
    x: torch.Tensor, first: int, lo: float, hi: float, fixed: torch.Tensor | None = None
) -> torch.Tensor:
    """Set links ``first``, ``first`` + 2, … of x [S, L, 3] into [lo, hi] Å (in place).

    ``fixed`` [L] bool: atoms that never move; a link with one fixed atom moves the other
    the whole way, a link of two fixed atoms stays as it is."""
    a, b = x[:, first:-1:2], x[:, first + 1 :: 2]
    k = min(a.shape[1], b.shape[1])
    a, b = a[:, :k], b[:, :k]
    d = b - a
    n = torch.linalg.vector_norm(d, dim=-1, keepdim=True)
    # A coincident pair has no direction: open it along the x axis (only then is the result
    # not rotation-equivariant).
    unit = torch.where(n > 1e-6, d / n.clamp_min(1e-6), torch.tensor([1.0, 0.0, 0.0]).to(d))
    heads, tails = slice(first, first + 2 * k, 2), slice(first + 1, first + 1 + 2 * k, 2)
    if fixed is None:
        move = 0.5 * (n - n.clamp(lo, hi)) * unit  # > 0 along d: stretched, pull together
        x[:, heads] += move
        x[:, tails] -= move
        return x
    fa, fb = fixed[heads, None].to(x.dtype), fixed[tails, None].to(x.dtype)
    move = (n - n.clamp(lo, hi)) * unit
    x[:, heads] += (1 - fa) * (0.5 + 0.5 * fb) * move
    x[:, tails] -= (1 - fb) * (0.5 + 0.5 * fa) * move
    return x


def step_lengths(c1: torch.Tensor) -> torch.Tensor:
    """Consecutive C1′ distances: c1 [..., L, 3] (Å) -> [..., L-1] (Å)."""
    return torch.linalg.vector_norm(c1[..., 1:, :] - c1[..., :-1, :], dim=-1)


def out_of_range(c1: torch.Tensor, config: TraceConfig | None = None) -> torch.Tensor:
    """[..., 2] count of steps of c1 [..., L, 3] longer than ``max_step`` and shorter than
    ``min_step`` (beyond ``tolerance``): what :func:`close_trace` will move."""
    cfg = config or TraceConfig()
    d = step_lengths(c1)
    long = (d > cfg.max_step + cfg.tolerance).sum(-1)
    short = (d < cfg.min_step - cfg.tolerance).sum(-1)
    return torch.stack([long, short], -1)


def trace_note(long: int, short: int) -> str | None:
    """confidence.json ``prior.geometry`` text for a trace :func:`close_trace` changed."""
    parts = [f"{long} gap(s) over {TraceConfig().max_step} Å closed"] if long else []
    parts += [f"{short} collapsed step(s) under {TraceConfig().min_step} Å opened"] if short else []
    return f"C1' trace: {', '.join(parts)} before building atoms" if parts else None


def close_trace(
    c1: torch.Tensor, config: TraceConfig | None = None, fixed: torch.Tensor | None = None
) -> torch.Tensor:
    """Every consecutive C1′ step into [``min_step``, ``max_step``] Å, moving atoms only
    where a step is out of range.

    Args:
        c1: [S, L, 3] or [L, 3] C1′ coordinates (Å).
        config: bounds and sweep budget (default :class:`TraceConfig`).
        fixed: [L] bool, atoms that stay where they are (the ends of a window of a longer
            chain); steps between two of them are left as they are.
    Returns:
        Same shape and dtype; ``c1`` itself (unchanged) when no step is out of range.
    """
    cfg = config or TraceConfig()
    if c1.shape[-2] < 2:
        return c1
    x = c1[None] if c1.dim() == 2 else c1
    if not bool(out_of_range(x, cfg).any()):
        return c1
    y = x.detach().double().clone()
    for _ in range(cfg.sweeps):
        _project(y, 0, cfg.min_step, cfg.max_step, fixed)
        _project(y, 1, cfg.min_step, cfg.max_step, fixed)
        if not bool(out_of_range(y, cfg).any()):
            break
    y = y.to(c1.dtype)
    return y[0] if c1.dim() == 2 else y
