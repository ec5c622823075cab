"""Windowed repair: rebuild only the residues around what fails the check, joined to the rest.

A model built on a C1′ trace can fail :func:`rnapredict.geometry.check.model_problem` at a few
places (a link the closure could not join on a straight run of long steps, a residue the
clean-up squeezed). Rebuilding the whole model for that costs a whole-chain closure and
clean-up (seconds at 1,000 nt) and moves every residue. Here, per failing place:

1. **Window.** Residues within ``half`` of a failing residue (clipped to the chain; windows
   closer than ``2 · flank`` residues merge into one) are rebuilt; the residues just outside,
   the anchors, stay where the model has them.
2. **Trace.** The window's C1′ steps, from the anchors' C1′ on, are brought into the tighter
   range of :attr:`WindowConfig.trace` (:func:`rnapredict.geometry.trace.close_trace` with the
   anchors fixed), so a long step is shared out over the window.
3. **Build.** Atoms from the new trace (:func:`rnapredict.geometry.from_c1.c1_to_atoms`,
   frames from the whole trace, backbone closure only inside the window, longer than default).
4. **Clean-up.** The window is cleaned (:func:`rnapredict.geometry.cleanup.clean_atoms`)
   among fixed context: ``flank`` residues either side (the restraints of the links to the
   anchors pull the window's ends onto the untouched rest), every residue whose C1′ lies
   within :attr:`WindowConfig.context` of the window's (its contacts repel the window; a
   3,000-nt model cleaned without them kept 25 % more clashes) and the window's base-pair
   partners (their pairs stay restrained). Where that context pins a window residue in a
   bond the check rejects, the window is cleaned again with its flanks alone.

Rounds grow the windows (:attr:`WindowConfig.halves`) around what still fails. Every residue
outside the windows is returned bit-identical; deterministic (no random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnapredict.geometry import ideal
from rnapredict.geometry.closure import TIGHT_CLOSURE_STEPS
from rnapredict.geometry.trace import TIGHT_TRACE, TraceConfig

_C1 = ideal.slot_index("A")["C1'"]


@dataclass(frozen=True)
class WindowConfig:
    """Windowed repair settings.

    Attributes:
        halves: residues rebuilt either side of a failing residue, one round per entry (a
            window of ±8 shares a 12 Å gap over 17 steps; a later round grows it).
        flank: fixed residues either side of a window in its clean-up (their link and
            angle restraints and contacts act on the window).
        trace: bounds the window's C1′ steps are brought into (tighter than the default
            trace's: a straight run of 8.5 Å steps does not always join).
        closure_steps: backbone-closure steps inside a window (the default is 100).
        context: C1′–C1′ distance (Å) within which residues outside the window join its
            clean-up as fixed context (a residue's atoms reach ~9 Å from its C1′).
    """

    halves: tuple[int, ...] = (8, 16, 32)
    flank: int = 2
    trace: TraceConfig = TIGHT_TRACE
    closure_steps: int = TIGHT_CLOSURE_STEPS
    context: float = 20.0


DEFAULT_WINDOW = WindowConfig()


def windows(bad: list[int], n: int, half: int, gap: int = 0) -> list[tuple[int, int]]:
    """Residue windows (first, last) of ±``half`` around the residues ``bad`` of an ``n``-nt
    chain, clipped to it, sorted; windows fewer than ``gap`` residues apart are merged."""
    out: list[list[int]] = []
    for i in sorted(set(bad)):
        lo, hi = max(i - half, 0), min(i + half, n - 1)
        if out and lo - out[-1][1] <= gap + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def rebuild_window(
    seq: str,
    atoms: torch.Tensor,
    c1: np.ndarray,
    partner: np.ndarray,
    span: tuple[int, int],
    config: WindowConfig = DEFAULT_WINDOW,
) -> tuple[torch.Tensor, np.ndarray]:
    """Residues ``span`` = (first, last) of a model rebuilt on their re-closed trace.

    Args:
        seq: L residue letters.
        atoms: [L, A, 3] the model (Å, slots of :mod:`rnapredict.geometry.ideal`).
        c1: [L, 3] its C1′ trace (Å; the model's C1′ may have moved off it a little).
        partner: [L] base-pair partner of each residue, -1 if unpaired.
        span: the window; the residues outside it are returned bit-identical.
        config: settings (default :data:`DEFAULT_WINDOW`).
    Returns:
        atoms [L, A, 3] and the trace [L, 3] with the window's C1′ moved.
    """
    from rnapredict.geometry.cleanup import clean_atoms
    from rnapredict.geometry.from_c1 import c1_to_atoms
    from rnapredict.geometry.trace import close_trace

    n = len(seq)
    lo, hi = span
    a, b = max(lo - 1, 0), min(hi + 1, n - 1)
    seg = torch.from_numpy(np.array(c1[a : b + 1], dtype=np.float64))
    fixed = torch.zeros(len(seg), dtype=torch.bool)
    if a < lo:  # the anchors: where the model has them
        seg[0], fixed[0] = atoms[a, _C1].double(), True
    if b > hi:
        seg[-1], fixed[-1] = atoms[b, _C1].double(), True
    trace = np.array(c1, dtype=np.float64)
    trace[lo : hi + 1] = close_trace(seg, config.trace, fixed)[lo - a : hi - a + 1].numpy()
    pairs = torch.from_numpy(np.asarray(partner, np.int64))
    built, _ = c1_to_atoms(seq, torch.from_numpy(trace), pairs, config.closure_steps, span=(lo, hi))
    out = atoms.clone()
    out[lo : hi + 1] = built[lo : hi + 1].to(atoms.dtype)
    c1_now = out[:, _C1].double().numpy()
    start = out[lo : hi + 1].clone()
    for context in (True, False):  # context can pin a window residue in a bad bond: then none
        out[lo : hi + 1] = start
        idx = _clean_up_residues(c1_now, partner, span, config, context)
        where = np.full(n, -1, np.int64)
        where[idx] = np.arange(len(idx))
        sub = np.asarray(partner, np.int64)[idx]
        sub = np.where(sub >= 0, where[np.maximum(sub, 0)], -1)  # partners outside: unpaired
        window = (idx >= lo) & (idx <= hi)
        cleaned = clean_atoms(
            "".join(seq[i] for i in idx), out[idx], sub, fixed=~window, chained=np.diff(idx) == 1
        )
        out[lo : hi + 1] = cleaned[window]
        if _piece_passes(seq, out, a, b):
            break
    return out, trace.astype(c1.dtype, copy=False)


def _piece_passes(seq: str, atoms: torch.Tensor, first: int, last: int) -> bool:
    """Whether residues ``first`` … ``last`` of atoms [L, A, 3] (and their links) pass the
    check."""
    from rnapredict.geometry.check import model_problem
    from rnapredict.geometry.convert import atoms_to_structure

    piece = seq[first : last + 1]
    types = ideal.residue_types(piece)
    mask = torch.from_numpy(ideal.slot_mask_table()[types])
    return model_problem(atoms_to_structure(piece, atoms[first : last + 1], mask)) is None


def _clean_up_residues(
    c1: np.ndarray, partner: np.ndarray, span: tuple[int, int], config: WindowConfig, context: bool
) -> np.ndarray:
    """Sorted residues of a window's clean-up: the window ``span`` and ``flank`` residues
    either side; with ``context`` also residues with a C1′ (c1 [L, 3]) within
    :attr:`WindowConfig.context` Å of the window's and the window's base-pair partners."""
    lo, hi = span
    n = len(c1)
    near = np.zeros(n, dtype=bool)
    near[max(lo - config.flank, 0) : min(hi + config.flank, n - 1) + 1] = True
    if context:
        d2 = ((c1[:, None, :] - c1[None, lo : hi + 1, :]) ** 2).sum(-1)  # [L, window]
        near |= (d2 <= config.context**2).any(1)
        pairs = np.asarray(partner, np.int64)[lo : hi + 1]
        near[pairs[pairs >= 0]] = True
    return np.flatnonzero(near)


def repair_windows(
    seq: str,
    atoms: torch.Tensor,
    c1: np.ndarray,
    partner: np.ndarray,
    mask: torch.Tensor,
    config: WindowConfig = DEFAULT_WINDOW,
) -> tuple[torch.Tensor, np.ndarray, list[tuple[int, int]], str | None]:
    """A model atoms [L, A, 3] on trace c1 [L, 3] with windows around the residues failing
    :func:`rnapredict.geometry.check.model_problem` rebuilt (:func:`rebuild_window`), one
    round per :attr:`WindowConfig.halves` until it passes.

    Returns:
        atoms [L, A, 3], trace [L, 3], the windows rebuilt (first, last; every round), and
        None when the model passes, else its remaining problem.
    """
    from rnapredict.geometry.check import bad_residues, model_problem
    from rnapredict.geometry.convert import atoms_to_structure

    n = len(seq)
    done: list[tuple[int, int]] = []
    model = atoms_to_structure(seq, atoms, mask)
    for half in config.halves:
        bad = bad_residues(model)
        if not bad:
            break
        for span in windows(bad, n, half, 2 * config.flank):
            atoms, c1 = rebuild_window(seq, atoms, c1, partner, span, config)
            done.append(span)
        model = atoms_to_structure(seq, atoms, mask)
        if model_problem(model) is None:
            return atoms, c1, done, None
    return atoms, c1, done, model_problem(model)
