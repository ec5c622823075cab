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
from rnapredict.relax.obstacles import add_obstacles, hold_anchors
from rnapredict.relax.options import DEFAULT_RESTRAIN_HEAVY as DEFAULT_RESTRAIN_HEAVY
from rnapredict.relax.options import DEFAULT_ROUNDS as DEFAULT_ROUNDS
from rnapredict.relax.options import FOLD_RELAX as FOLD_RELAX
from rnapredict.relax.options import MAX_COINCIDENT_FRACTION, RelaxOptions
from rnapredict.relax.system import (
    SystemConfig,
    build_system,
    recenter_restraints,
)
from rnapredict.score.clash import clashscore


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
        system = build_system(
            prepared.topology, prepared.positions, prepared.heavy_mask, config, solvent=solvent
        )
    except ValueError as exc:  # OpenMM: a residue matches no template
        text = str(exc).split(" For more information")[0]
        if "template" in text.lower():
            text = f"template does not match: {text}"
        raise RelaxError(text) from None
    for k in prepared.anchored:  # bonded to a frozen residue: held fixed by the minimizer
        system.setParticleMass(k, 0.0)
    add_obstacles(
        system,
        prepared.positions,
        prepared.atom_residue,
        ~prepared.heavy_mask,
        prepared.fixed_nm,
        prepared.fixed_residue,
    )
    hold_anchors(
        system,
        prepared.positions,
        prepared.atom_residue,
        [a.name for a in prepared.topology.atoms()],
        prepared.fixed_residue,
    )
    return system


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
