"""All-atom models of the sampled C1′ traces: gap closing, build, clash clean-up, check,
repair, and replacement samples for models no repair makes physical.

docs/ARCHITECTURE.md (the fold pipeline): ``geometry.trace`` ► ``geometry.from_c1`` ►
``geometry.cleanup`` ► ``geometry.check`` ► repair (revert, windows: ``geometry.window``) /
rebuild / replace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from rnapredict.features.secondary import partner_array
from rnapredict.geometry.candidate import Candidate
from rnapredict.geometry.closure import TIGHT_CLOSURE_STEPS
from rnapredict.geometry.trace import TIGHT_TRACE
from rnapredict.io.structure import RnaStructure
from rnapredict.pipeline.api import FoldOptions, Sampler
from rnapredict.pipeline.rank import Ensemble, rank_order

#: Rounds of :func:`_repair` (each reverts the residues the check still names).
REPAIR_ROUNDS = 4
#: A model neither reverting nor rebuilding windows (:mod:`rnapredict.geometry.window`)
#: saves is rebuilt once on its trace closed tighter than the default
#: (steps 4.5–7.5 Å) with 3× the closure steps, before it is replaced (random 3,000 nt: a
#: link the closure left at 2.07 Å).
RETRY_TRACE = TIGHT_TRACE
RETRY_CLOSURE_STEPS = TIGHT_CLOSURE_STEPS
#: Extra sampling rounds that replace models no repair makes physical (each draws as many
#: samples as are missing, from generators derived from the record seed).
REPLACEMENT_ROUNDS = 3


def _repair(
    seq: str,
    cleaned: torch.Tensor,
    raw: torch.Tensor,
    mask: torch.Tensor,
    plddt: np.ndarray,
    problem: str,
    ss: str,
    c1: np.ndarray | None,
) -> tuple[RnaStructure | None, str]:
    """A physical model from a cleaned model [L, A, 3] that fails the check, or None.

    The failing residues take their raw coordinates (built on the C1′ trace, not cleaned);
    a residue swapped back can break its link to a cleaned neighbour, so the neighbours the
    check then names follow, for up to :data:`REPAIR_ROUNDS` rounds. Then windows around the
    residues still failing are rebuilt on their trace re-closed tighter
    (:func:`rnapredict.geometry.window.repair_windows`; the window's C1′ are written back
    into the trace ``c1`` [L, 3]; None: no windows). Then the whole raw model, if it passes.
    Returns the model (or None) and the note saying what was done (or why not).
    """
    from rnapredict.geometry.check import bad_residues, model_problem
    from rnapredict.geometry.convert import atoms_to_structure
    from rnapredict.geometry.window import repair_windows

    mixed = cleaned.clone()
    reverted: set[int] = set()
    model = atoms_to_structure(seq, mixed, mask, plddt)
    for _ in range(REPAIR_ROUNDS):
        bad = set(bad_residues(model)) - reverted
        if not bad:
            break
        reverted |= bad
        idx = sorted(reverted)
        mixed[idx] = raw[idx].to(mixed.dtype)
        model = atoms_to_structure(seq, mixed, mask, plddt)
        if model_problem(model) is None:
            return model, f"clean-up reverted for {len(reverted)} residue(s) ({problem})"
    fixed, trace, spans, left = (
        repair_windows(seq, mixed, c1, partner_array(ss), mask) if c1 is not None else
        (mixed, c1, [], "no windows")
    )  # fmt: skip
    if left is None:
        c1[:] = trace
        where = ", ".join(f"{lo + 1}-{hi + 1}" for lo, hi in spans)
        return atoms_to_structure(seq, fixed, mask, plddt), (
            f"clean-up reverted for {len(reverted)} residue(s), then {len(spans)} window(s) "
            f"rebuilt on a re-closed trace (residues {where}) ({problem})"
        )
    whole = atoms_to_structure(seq, raw, mask, plddt)
    left = model_problem(whole)
    if left is None:
        return whole, f"clean-up reverted ({problem})"
    return None, model_problem(model) or left


def c1_models(
    seq: str, c1: np.ndarray, ss: list[str], plddt: np.ndarray, cleanup: bool = True
) -> tuple[list[RnaStructure], list[str | None], list[bool]]:
    """All-atom models from C1′ traces via :mod:`rnapredict.geometry`.

    Args:
        c1: [S, L, 3] Å (gaps closed first: :func:`rnapredict.geometry.trace.close_trace`);
        ss: [S] dot-bracket per model (pairs for the rebuild and the clean-up); plddt:
        [S, L] 0–100; cleanup: clash clean-up (:mod:`rnapredict.geometry.cleanup`).

    Returns:
        The S models; per model None or what was done to make it pass
        :func:`rnapredict.geometry.check.model_problem` (or, if nothing could, why it fails);
        and per model whether it passes. Where a cleaned model fails, its failing residues
        (and then any neighbour whose link that breaks) take their raw coordinates; failing
        that, windows around what still fails are rebuilt on their trace re-closed tighter
        (:mod:`rnapredict.geometry.window`, the rest untouched); failing that, the whole raw
        model; failing that, the model is rebuilt once on its trace closed tighter
        (``RETRY_TRACE``; its repair reverts, without windows). Moved traces are written
        back into ``c1``. Reverting the whole
        model at once kept every clash of the raw trace for one stretched bond (clashscore
        857 at 990 nt).
    """
    from rnapredict.geometry.check import model_problem
    from rnapredict.geometry.convert import atoms_to_structure
    from rnapredict.geometry.from_c1 import c1_to_atoms
    from rnapredict.geometry.trace import close_trace

    n_s = c1.shape[0]
    atoms = torch.empty(0)
    mask = torch.empty(0)
    for one in dict.fromkeys(ss):  # one rebuild per distinct structure
        idx = [s for s in range(n_s) if ss[s] == one]
        xyz = torch.from_numpy(c1[idx]).double()
        part, mask = c1_to_atoms(seq, xyz, torch.from_numpy(partner_array(one)).long())
        if atoms.numel() == 0:
            atoms = part.new_zeros((n_s, *part.shape[1:]))
        atoms[idx] = part
    raw = [atoms_to_structure(seq, atoms[s], mask, plddt[s]) for s in range(n_s)]
    if not cleanup:
        problems = [model_problem(m) for m in raw]
        return raw, problems, [p is None for p in problems]
    models: list[RnaStructure] = []
    notes: list[str | None] = []
    passed: list[bool] = []
    for s in range(n_s):  # one model at a time: a joint L-BFGS settles each model less
        model, note = _clean_and_repair(seq, atoms[s], mask, plddt[s], ss[s], c1[s])
        if model is None:  # a link the closure could not join: once more, tighter and longer
            c1[s] = close_trace(torch.from_numpy(c1[s]), RETRY_TRACE).numpy()
            xyz = torch.from_numpy(c1[s]).double()
            partner = torch.from_numpy(partner_array(ss[s])).long()
            rebuilt, _ = c1_to_atoms(seq, xyz, partner, closure_steps=RETRY_CLOSURE_STEPS)
            model, again = _clean_and_repair(seq, rebuilt, mask, plddt[s], ss[s], None)
            if model is None:
                note = again
            else:
                note = "; ".join(n for n in (f"rebuilt on a tighter trace ({note})", again) if n)
        models.append(model if model is not None else raw[s])
        notes.append(note)
        passed.append(model is not None)
    return models, notes, passed


def _clean_and_repair(
    seq: str,
    atoms: torch.Tensor,
    mask: torch.Tensor,
    plddt: np.ndarray,
    ss: str,
    c1: np.ndarray | None,
) -> tuple[RnaStructure | None, str | None]:
    """Clean one model atoms [L, A, 3] built on trace c1 [L, 3] and check it; repair
    (:func:`_repair`, which may move the trace in place; c1 None: without windows) if it
    fails. Returns the physical model or None, and what was done (or why it fails)."""
    from rnapredict.geometry.check import model_problem
    from rnapredict.geometry.cleanup import clean_atoms
    from rnapredict.geometry.convert import atoms_to_structure

    cleaned = clean_atoms(seq, atoms, partner_array(ss))
    clean = atoms_to_structure(seq, cleaned, mask, plddt)
    problem = model_problem(clean)
    if problem is None:
        return clean, None
    return _repair(seq, cleaned, atoms, mask, plddt, problem, ss, c1)


@dataclass
class SamplePool:
    """Built samples of one record, unranked (sample order; replacements appended)."""

    c1: np.ndarray  # [S, L, 3] Å, gaps closed
    plddt: np.ndarray  # [S, L]
    ptm: np.ndarray  # [S]
    score: np.ndarray  # [S] ranking score
    kept_start: np.ndarray  # [S] bool
    owner: list[int]  # [S] candidate index
    models: list[RnaStructure]
    notes: list[str | None]
    passed: np.ndarray  # [S] bool: the model passes the check

    def cat(self, other: SamplePool) -> SamplePool:
        return SamplePool(
            *(np.concatenate([a, b]) for a, b in ((self.c1, other.c1), (self.plddt, other.plddt),
              (self.ptm, other.ptm), (self.score, other.score),
              (self.kept_start, other.kept_start))),
            self.owner + other.owner, self.models + other.models, self.notes + other.notes,
            np.concatenate([self.passed, other.passed]),
        )  # fmt: skip

    def ranked(self, n: int) -> np.ndarray:
        """Indices of the ``n`` best-scoring physical models (stable order), or, when none
        is physical, of the ``n`` best-scoring ones (the record check then says why)."""
        return rank_order(self.score, n, self.passed)


def build_pool(
    seq: str, cands: list[Candidate], ens: Ensemble, owner: list[int], cleanup: bool
) -> SamplePool:
    """Close the traces' gaps, build and check the all-atom models of an ensemble."""
    from rnapredict.geometry.trace import close_trace, out_of_range, trace_note

    raw = ens.coords.double()
    moved = out_of_range(raw).tolist()
    c1 = close_trace(raw).numpy().copy()  # c1_models may close a failing model's trace further
    plddt = ens.plddt.numpy().astype(np.float64)
    models, notes, passed = c1_models(seq, c1, [cands[j].ss for j in owner], plddt, cleanup)
    joined = [
        "; ".join(n for n in (trace_note(*m), g) if n) or None
        for m, g in zip(moved, notes, strict=True)
    ]
    return SamplePool(
        c1, plddt, ens.ptm.numpy().astype(np.float64),
        ens.ranking_score.numpy().astype(np.float64), ens.kept_start.numpy().astype(bool),
        list(owner), models, joined, np.asarray(passed, dtype=bool),
    )  # fmt: skip


def physical_pool(
    sampler: Sampler,
    seq: str,
    cands: list[Candidate],
    ens: Ensemble,
    owner: list[int],
    options: FoldOptions,
    seed: int,
) -> SamplePool:
    """All-atom models of the ensemble (``owner`` [S]: candidate of each sample), plus, for
    up to :data:`REPLACEMENT_ROUNDS` rounds, new samples replacing the models no repair made
    physical (round k draws from a generator seeded ``seed + 2 + k``, the record seed's)."""
    pool = build_pool(seq, cands, ens, owner, options.cleanup)
    for k in range(REPLACEMENT_ROUNDS):  # models no repair made physical: new samples
        missing = options.n_samples - int(pool.passed.sum())
        if missing <= 0:
            break
        more = replace(options, n_samples=missing)
        gen_k = torch.Generator().manual_seed((seed + 2 + k) % (1 << 63))
        pool = pool.cat(
            build_pool(
                seq, cands, *sampler.sample_candidates(seq, cands, more, gen_k), options.cleanup
            )
        )
    return pool
