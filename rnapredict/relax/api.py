"""Relaxation of one model: the library entry point of ``minimize`` and ``fold --relax``.

``relax_model`` never raises for a per-model physics problem: it returns ``ok=False`` with the
unrelaxed model and says why, so a caller never loses a model.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import openmm

from rnapredict.errors import RelaxError
from rnapredict.io.structure import NUCLEOTIDE_ATOMS, RnaStructure
from rnapredict.relax.convert import heavy_rmsd, to_structure
from rnapredict.relax.covalent import broken_bonds
from rnapredict.relax.fixer import PreparedModel, prepare
from rnapredict.relax.minimize import (
    Minimized,
    check_finite,
    energy_at,
    make_context,
    minimize,
    separate_overlaps,
)
from rnapredict.relax.system import (
    DEFAULT_CUTOFF_NM,
    SystemConfig,
    build_system,
    recenter_restraints,
)
from rnapredict.score.clash import clashscore

#: Default restraint constant, kcal/mol/Å² (AlphaFold's relaxer uses the same). Measured on
#: 1ATO with four residues pushed halfway into their neighbours (default rounds below):
#: clashscore 348 → 0, heavy-atom RMSD to the input 0.78 Å, every heavy-atom bond within
#: 0.042 Å of equilibrium, a second relaxation moves it 0.0004 Å. One round alone (rounds=1)
#: leaves O3' bonds of the pushed residues 0.074 Å long and moves 0.13 Å on a second pass.
DEFAULT_RESTRAIN_HEAVY = 10.0
#: Above this fraction of atoms sitting on another atom, a model is degenerate (collapsed),
#: not clashing: it is rejected at once rather than minimized for minutes.
MAX_COINCIDENT_FRACTION = 0.25
#: A relaxed model that moved farther than this (heavy-atom RMSD, Å) from its input has lost
#: its fold (restraints overwhelmed by an exploding clash): it is rejected, the input is kept.
MAX_RMSD = 3.0
#: The vacuum pre-stage runs only when the start's GBn2 energy (kJ/mol) is at least this: a
#: clash-free RNA is bound in implicit solvent (negative), and a vacuum pass would only pull
#: it towards the vacuum minimum (0.03–0.04 Å RMS on a relaxed model, breaking idempotence).
PRESTAGE_ENERGY = 0.0
#: Most GBn2 minimizations per model: after each, the restraints are re-centred on its result.
DEFAULT_ROUNDS = 4
#: Restraint constant of the re-centred rounds, kcal/mol/Å² (measured on distorted 1ATO: 2
#: leaves a residual force below the minimizer's tolerance, so a second relaxation moves
#: 0.0004 Å; 5 leaves 0.12 Å, 10 leaves 0.15 Å of soft-mode drift for the next pass).
DEFAULT_ROUND_RESTRAIN = 2.0
#: Re-centring stops once a round moves the heavy atoms less than this (RMS), Å.
DEFAULT_ROUND_TOL = 0.03


@dataclass(frozen=True)
class RelaxOptions:
    """Options of a relaxation.

    Attributes:
        steps: maximum L-BFGS iterations (OpenMM ``maxIterations``; 0: until converged).
        restrain_heavy: harmonic restraint on each heavy atom's input position, kcal/mol/Å²
            (energy ½·k·d²); 0: unrestrained.
        keep_h: keep the force field's hydrogens in the output model.
        platform: OpenMM platform (``auto``: fastest present, ``CPU``, ``CUDA``, ...).
        tolerance: convergence criterion, RMS force in kJ/mol/nm.
        cutoff_nm: non-bonded cutoff (nm); None: none (exact, O(N²)).
        max_rmsd: reject a result that moved farther than this from the input (Å).
        vacuum_prestage: first minimize in vacuum (same force field and restraints, cheap)
            when the start's GBn2 energy is >= ``prestage_energy`` (clashes), then in
            GBn2 implicit solvent; False: GBn2 only.
        prestage_energy: GBn2 energy of the start (kJ/mol) from which the vacuum pre-stage
            runs; ``-inf``: always (see :data:`FOLD_RELAX`).
        rounds: most GBn2 minimizations; after each, the restraints are re-centred on its
            result, so strain they held (stretched bonds) relaxes and the output is nearly a
            fixed point (relaxing it again moves it little). 1: one minimization.
        round_tol: stop re-centring once a round moved the heavy atoms less than this
            (RMS displacement, Å).
        round_restrain: restraint constant of the re-centred rounds (2nd on), kcal/mol/Å²;
            never stiffer than ``restrain_heavy``.
    """

    steps: int = 1000
    restrain_heavy: float = DEFAULT_RESTRAIN_HEAVY
    keep_h: bool = False
    platform: str = "auto"
    tolerance: float = 10.0
    cutoff_nm: float | None = DEFAULT_CUTOFF_NM
    max_rmsd: float = MAX_RMSD
    vacuum_prestage: bool = True
    prestage_energy: float = PRESTAGE_ENERGY
    rounds: int = DEFAULT_ROUNDS
    round_tol: float = DEFAULT_ROUND_TOL
    round_restrain: float = DEFAULT_ROUND_RESTRAIN

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if not (self.restrain_heavy >= 0 and math.isfinite(self.restrain_heavy)):
            raise ValueError(
                f"restrain_heavy must be a finite number >= 0, got {self.restrain_heavy}"
            )
        if self.rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {self.rounds}")
        if not self.round_tol >= 0:
            raise ValueError(f"round_tol must be >= 0, got {self.round_tol}")
        if not (self.round_restrain >= 0 and math.isfinite(self.round_restrain)):
            raise ValueError(
                f"round_restrain must be a finite number >= 0, got {self.round_restrain}"
            )


#: ``fold --relax``: the models are already clash-free (:mod:`rnapredict.geometry.cleanup`),
#: so one GBn2 minimization to a looser tolerance does (measured on the cleaned 29-nt HIV-1
#: TAR model: 36 s CPU with the ``minimize`` defaults, 5.3 s with one round at 50 kJ/mol/nm;
#: clashscore 0 → 1.6, heavy-atom RMSD 0.23 Å). The vacuum pre-stage always runs: it takes
#: the bonded strain out at ~1/40 of a GBn2 step's cost, so GBn2 needs 15–19 L-BFGS
#: iterations instead of 30–43 (cleaned models of 29–115 nt; end state 0.04–0.05 Å heavy-atom
#: RMSD from the GBn2-only one, same or lower clashscore, lower GBn2 energy).
FOLD_RELAX = RelaxOptions(rounds=1, tolerance=50.0, prestage_energy=-math.inf)


@dataclass
class RelaxResult:
    """Outcome of relaxing one model.

    Attributes:
        model: the relaxed model, or the unrelaxed input when ``ok`` is false (None only when
            there was no model at all: an unreadable file in :func:`minimize_files`).
        ok: relaxation succeeded.
        message: why it failed, or notes ("" when clean).
        energy_before / energy_after: force-field potential energy, kJ/mol, restraints
            excluded (None when not computed).
        clash_before / clash_after: clashscore, clashes per 1,000 heavy atoms.
        rmsd: heavy-atom RMSD of the output to the input, Å (no superposition).
        seconds: wall time of the relaxation.
        source / model_index / output: input file, 1-based model number, output file (files
            API only).
        platform: OpenMM platform that ran the minimization.
        stages: wall seconds per stage of the last relaxation run (``prepare``: PDBFixer and
            GBn2 system; ``start``: context and energy before; ``vacuum``: the pre-stage;
            ``gbn2``: the GBn2 minimization; ``check``: back-conversion, RMSD, clashscore).
    """

    model: RnaStructure | None
    ok: bool
    message: str = ""
    energy_before: float | None = None
    energy_after: float | None = None
    clash_before: float | None = None
    clash_after: float | None = None
    rmsd: float | None = None
    seconds: float = 0.0
    source: str = ""
    model_index: int = 1
    output: str = ""
    platform: str = ""
    warnings: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "ok" if self.ok else "failed"


def _clash(model: RnaStructure) -> float | None:
    try:
        return float(clashscore(model).score)
    except Exception:  # noqa: BLE001  - a report figure must never sink the relaxation
        return None


def _system(prepared: PreparedModel, config: SystemConfig, *, solvent: bool) -> openmm.System:
    try:
        return build_system(
            prepared.topology, prepared.positions, prepared.heavy_mask, config, solvent=solvent
        )
    except ValueError as exc:  # OpenMM: a residue matches no template
        text = str(exc).split(" For more information")[0]
        if "template" in text.lower():
            text = f"template does not match: {text}"
        raise RelaxError(text) from None


def _fold_lost(rmsd: float, limit: float) -> str:
    return (
        f"relaxed model moved {rmsd:.2f} Å (heavy-atom RMSD) from the input, more than "
        f"{limit:g} Å: fold not kept (severe clashes?)"
    )


def _heavy_shift(a_nm: np.ndarray, b_nm: np.ndarray, heavy: np.ndarray) -> tuple[float, float]:
    """(max, RMS) displacement of the heavy atoms between positions [A, 3] nm, in Å."""
    d = 10.0 * np.linalg.norm((a_nm - b_nm)[heavy], axis=1)
    return float(d.max(initial=0.0)), float(np.sqrt(np.mean(d**2))) if len(d) else 0.0


def _minimize_rounds(
    system: openmm.System,
    start: np.ndarray,
    prepared: PreparedModel,
    opts: RelaxOptions,
    context: openmm.Context | None = None,
) -> Minimized:
    """Restrained minimization, re-centring the restraints on each result (``opts.rounds``).

    The first round holds every heavy atom to the input (k = ``restrain_heavy``) and removes
    the clashes, but stops where the restraints balance the force field: a bond pulled back
    from a pushed residue keeps ~0.07 Å of strain at k = 10. The next rounds re-centre softer
    restraints (``round_restrain``) on the last result, so that strain goes in steps of a few
    hundredths of an Å with the fold held at each; the last result's residual force is then
    below the minimizer's tolerance, so relaxing it again is a near no-op (idempotent). The
    RMSD guard measures from the input. ``context`` (of ``system``) runs the first round; the
    re-centred rounds change the system, so each gets a new context.
    """
    run = {"steps": opts.steps, "tolerance": opts.tolerance, "platform": opts.platform}
    out = minimize(system, start, context=context, **run)
    heavy = prepared.heavy_mask
    for _ in range(1, opts.rounds if opts.restrain_heavy > 0 else 1):
        recenter_restraints(system, out.positions, min(opts.round_restrain, opts.restrain_heavy))
        nxt = minimize(system, out.positions, **run)
        _, shift = _heavy_shift(nxt.positions, out.positions, heavy)
        out = Minimized(nxt.positions, out.energy_before, nxt.energy_after, nxt.platform)
        _, moved = _heavy_shift(out.positions, prepared.positions, heavy)
        if not moved <= opts.max_rmsd:
            raise RelaxError(_fold_lost(moved, opts.max_rmsd))
        if shift < opts.round_tol:
            break
    return out


def _prepare(model: RnaStructure, config: SystemConfig) -> tuple[PreparedModel, openmm.System]:
    """PDBFixer + GBn2 system; input hydrogens are kept unless they do not fit the templates."""
    try:
        prepared = prepare(model)
        return prepared, _system(prepared, config, solvent=True)
    except RelaxError:
        if model.n_atoms == model.heavy_atoms().n_atoms:
            raise
    prepared = prepare(model, keep_input_h=False)  # rebuild all hydrogens
    prepared.warnings.append("input hydrogens did not fit the force field; rebuilt")
    return prepared, _system(prepared, config, solvent=True)


#: A relaxation that breaks a bond is retried once with restraints this many times stiffer.
RETRY_RESTRAINT_FACTOR = 5.0


#: Below this fraction of a residue's heavy atoms present on average, a model is
#: coarse-grained (e.g. C1′ only): PDBFixer would invent every atom, so it is not relaxed.
MIN_ATOM_FRACTION = 0.5


def _coarse_grained(model: RnaStructure) -> str | None:
    """Why ``model`` (heavy atoms) is too incomplete to relax, or None."""
    expected = sum(len(NUCLEOTIDE_ATOMS.get(b, NUCLEOTIDE_ATOMS["N"])) for b in model.seq)
    if model.n_residues == 0 or model.n_atoms >= MIN_ATOM_FRACTION * expected:
        return None
    names = sorted(set(model.atom_names))
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"coarse-grained model ({model.n_atoms} heavy atoms for {model.n_residues} residues, "
        f"atoms {shown}): relaxation needs all-atom models"
    )


def relax_model(model: RnaStructure, options: RelaxOptions | None = None) -> RelaxResult:
    """Relax one model; a result with a broken bond is retried once with stiffer restraints
    and, if still broken, rejected (``ok`` false, the input kept): see :func:`_relax_once`.

    Coarse-grained models (C1′ only) are rejected with one message. Python warnings raised by
    OpenMM/PDBFixer are collected into ``warnings`` (one line per distinct text, counted),
    never printed.
    """
    opts = options or RelaxOptions()
    t0 = time.perf_counter()
    why = _coarse_grained(model.heavy_atoms())
    if why is not None:
        return RelaxResult(model=model, ok=False, message=why)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _relax_checked(model, opts)
    counts = Counter(str(w.message).strip().splitlines()[0] for w in caught if str(w.message))
    for text, k in counts.items():
        result.warnings.append(f"{text} (x{k})" if k > 1 else text)
    result.seconds = time.perf_counter() - t0
    return result


def _relax_checked(model: RnaStructure, opts: RelaxOptions) -> RelaxResult:
    """:func:`_relax_once`, then the covalent check (one stiffer retry)."""
    result = _relax_once(model, opts)
    if not result.ok or result.model is None:
        return result
    heavy = model.heavy_atoms()
    broken = broken_bonds(heavy, result.model)
    if broken and opts.restrain_heavy > 0:
        stiff = replace(opts, restrain_heavy=opts.restrain_heavy * RETRY_RESTRAINT_FACTOR)
        retry = _relax_once(model, stiff)
        if retry.ok and retry.model is not None:
            broken = broken_bonds(heavy, retry.model)
            result = retry
            result.warnings.append(
                f"first relaxation stretched a bond; redone with restraints "
                f"{stiff.restrain_heavy:g} kcal/mol/Å²"
            )
            result.message = "; ".join(result.warnings)
    if broken:
        more = f" (+{len(broken) - 1} more)" if len(broken) > 1 else ""
        result.model, result.ok = model, False
        result.clash_after = result.energy_after = None
        result.message = f"relaxation broke the covalent geometry: {broken[0]}{more}"
    return result


class _Laps:
    """Records wall seconds since the previous lap under a stage name."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into, self.t = into, time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.into[stage] = self.into.get(stage, 0.0) + now - self.t
        self.t = now


def _relax_once(model: RnaStructure, options: RelaxOptions | None = None) -> RelaxResult:
    """Relax one model: PDBFixer completion, restrained L-BFGS minimization, back-conversion.

    Args:
        model: one RNA model; its hydrogens are kept if they fit Amber's templates, else
            rebuilt (missing ones are always added).
        options: relaxation options (defaults: :class:`RelaxOptions`).

    Returns:
        :class:`RelaxResult`; on any per-model failure (non-finite input or energy, template
        mismatch, no relaxable residue, OpenMM error, fold lost) ``ok`` is false and ``model``
        is the input, unchanged.
    """
    opts = options or RelaxOptions()
    t0 = time.perf_counter()
    heavy = model.heavy_atoms()
    result = RelaxResult(model=model, ok=False, clash_before=None)

    def fail(msg: str) -> RelaxResult:
        result.message = msg
        result.seconds = time.perf_counter() - t0
        return result

    if heavy.n_atoms == 0:
        return fail("model has no atoms")
    if not np.isfinite(model.coords).all():
        try:
            check_finite(model.coords, "input")
        except RelaxError as exc:
            return fail(str(exc))
    _, n_coincident = separate_overlaps(heavy.coords / 10.0)
    if n_coincident > MAX_COINCIDENT_FRACTION * heavy.n_atoms:
        return fail(
            f"degenerate model: {n_coincident} of {heavy.n_atoms} heavy atoms coincide with "
            "another atom (collapsed coordinates)"
        )
    result.clash_before = _clash(heavy)
    config = SystemConfig(restrain_heavy=opts.restrain_heavy, cutoff_nm=opts.cutoff_nm)
    lap = _Laps(result.stages)
    try:
        # Coincident atoms are pushed apart before PDBFixer too, so the hydrogens it places
        # (and the restraint centres) do not sit on two atoms at once: without that a
        # residue dropped onto another came out of the minimizer with a broken P–O5' bond.
        separated, n_moved = separate_overlaps(model.coords / 10.0)
        fixer_in = model.with_coords(10.0 * separated) if n_moved else model
        prepared, solvated = _prepare(fixer_in, config)
        lap("prepare")
        start, n_more = separate_overlaps(prepared.positions)
        n_moved += n_more
        if n_moved:
            prepared.warnings.append(
                f"{n_moved} atom(s) coincided with another atom and were pushed apart first"
            )
        context = make_context(solvated, opts.platform)  # energy before + first round
        before = energy_at(context, start)
        lap("start")
        if opts.vacuum_prestage and not before < opts.prestage_energy:
            # Clashes hold most of the iterations; removing them in vacuum costs a few ms per
            # step instead of GBn2's ~100x more. The solvated stage then only polishes.
            vacuum = _system(prepared, config, solvent=False)
            start = minimize(
                vacuum, start, steps=opts.steps, tolerance=opts.tolerance, platform=opts.platform
            ).positions
            mask = prepared.heavy_mask
            moved = 10.0 * float(
                np.sqrt(np.mean(np.sum((start - prepared.positions)[mask] ** 2, 1)))
            )
            if not moved <= opts.max_rmsd:  # fold already lost: spare the expensive stage
                result.rmsd = moved
                raise RelaxError(_fold_lost(moved, opts.max_rmsd))
            lap("vacuum")
        out = _minimize_rounds(solvated, start, prepared, opts, context)
        del context
        lap("gbn2")
        relaxed = to_structure(heavy, prepared, out.positions, keep_h=opts.keep_h)
    except RelaxError as exc:
        return fail(str(exc))
    except Exception as exc:  # noqa: BLE001  - contract: a bad model never sinks the batch
        return fail(f"unexpected {type(exc).__name__} while relaxing: {exc}")
    # A start with overlapping atoms can have an infinite energy: report it as unknown (None)
    # so JSON stays valid, and say so.
    result.energy_before = before if math.isfinite(before) else None
    result.energy_after = out.energy_after
    if result.energy_before is None:
        prepared.warnings.append("energy before relaxation is not finite (overlapping atoms)")
    result.platform = out.platform
    rmsd = heavy_rmsd(heavy, relaxed)
    result.rmsd = rmsd
    if not rmsd <= opts.max_rmsd:
        return fail(_fold_lost(rmsd, opts.max_rmsd))
    result.clash_after = _clash(relaxed)
    lap("check")
    result.model = relaxed
    result.ok = True
    result.warnings = list(prepared.warnings)
    result.message = "; ".join(prepared.warnings)
    result.seconds = time.perf_counter() - t0
    return result
