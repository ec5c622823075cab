"""L-BFGS energy minimization (OpenMM ``LocalEnergyMinimizer``) with its failure checks."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import openmm
import openmm.unit as unit

from rnapredict.errors import RelaxError
from rnapredict.relax.system import RESTRAINT_GROUP, select_platform
from rnapredict.score.neighbors import point_pairs

#: Force groups of the physical energy (everything but the restraints).
_PHYSICAL_GROUPS = frozenset(range(32)) - {RESTRAINT_GROUP}


@dataclass(frozen=True)
class Minimized:
    """Outcome of one minimization.

    Attributes:
        positions: [A, 3] float64, nm, minimized positions.
        energy_before: force-field potential energy of the start, kJ/mol (restraints excluded).
        energy_after: the same after minimization, kJ/mol.
        platform: name of the OpenMM platform that ran it.
    """

    positions: np.ndarray
    energy_before: float
    energy_after: float
    platform: str


def make_context(system: openmm.System, platform: str = "auto") -> openmm.Context:
    """An OpenMM context on ``platform`` (``auto``: fastest present; CPU if that one fails).

    Raises:
        RelaxError: the platform is unknown or cannot start.
    """
    try:
        chosen = select_platform(platform)
    except ValueError as exc:
        raise RelaxError(str(exc)) from None
    try:
        return _context(system, chosen)
    except openmm.OpenMMException as exc:
        if platform.lower() != "auto" or chosen.getName() == "CPU":
            raise RelaxError(f"OpenMM platform {chosen.getName()} failed: {exc}") from None
    # An accelerator plugin is installed but has no device: fall back to the CPU.
    return _context(system, select_platform("CPU"))


def _context(system: openmm.System, chosen: openmm.Platform) -> openmm.Context:
    """Context with deterministic force summation where the platform offers it, so the same
    input relaxes to the same coordinates whatever the thread scheduling.

    The CPU platform sums in a thread-dependent order even with DeterministicForces (models
    differ by ~0.001 Å run to run on 2 threads), so it runs on one thread unless the user sets
    ``OPENMM_CPU_THREADS`` (same seed, same bytes by default)."""
    names = chosen.getPropertyNames()
    props = {"DeterministicForces": "true"} if "DeterministicForces" in names else {}
    if chosen.getName() == "CPU" and "Threads" in names:
        props["Threads"] = os.environ.get("OPENMM_CPU_THREADS", "1")
    return openmm.Context(system, openmm.VerletIntegrator(0.001), chosen, props)


def _energy(context: openmm.Context) -> float:
    state = context.getState(getEnergy=True, groups=set(_PHYSICAL_GROUPS))
    return float(state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))


def energy_at(context: openmm.Context, positions_nm: np.ndarray) -> float:
    """Force-field potential energy (kJ/mol, restraints excluded) of ``context`` at
    ``positions_nm`` [A, 3]; the context keeps these positions."""
    try:
        context.setPositions(positions_nm * unit.nanometer)
        return _energy(context)
    except openmm.OpenMMException as exc:
        raise RelaxError(f"OpenMM energy evaluation failed: {str(exc).strip()}") from None


def potential_energy(
    system: openmm.System, positions_nm: np.ndarray, platform: str = "auto"
) -> float:
    """Force-field potential energy (kJ/mol, restraints excluded) at ``positions_nm`` [A, 3]."""
    context = make_context(system, platform)
    try:
        return energy_at(context, positions_nm)
    finally:
        del context


def minimize(
    system: openmm.System,
    positions_nm: np.ndarray,
    *,
    steps: int = 1000,
    tolerance: float = 10.0,
    platform: str = "auto",
    context: openmm.Context | None = None,
) -> Minimized:
    """Minimize ``system`` from ``positions_nm`` [A, 3] (nm) with L-BFGS.

    Args:
        steps: maximum L-BFGS iterations (0: until converged).
        tolerance: convergence criterion, root-mean-square force in kJ/mol/nm.
        platform: OpenMM platform name or ``auto``.
        context: an existing context of ``system`` to run in (the caller's, left with the
            minimized positions); None: a new one on ``platform``. Creating a GBn2 context and
            its first energy call cost ~0.6 s at 100 nt, so callers that already have one pass it.

    Raises:
        RelaxError: the energy or the coordinates become NaN/inf, or OpenMM fails.
    """
    owned = context is None
    if context is None:
        context = make_context(system, platform)
    try:
        context.setPositions(positions_nm * unit.nanometer)
        before = _energy(context)
        openmm.LocalEnergyMinimizer.minimize(
            context, tolerance * unit.kilojoule_per_mole / unit.nanometer, int(steps)
        )
        after = _energy(context)
        state = context.getState(getPositions=True)
        out = np.asarray(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer), np.float64)
    except openmm.OpenMMException as exc:
        raise RelaxError(f"OpenMM minimization failed: {str(exc).strip()}") from None
    finally:
        name = context.getPlatform().getName()
        if owned:
            del context
    if not math.isfinite(after):
        raise RelaxError(f"energy after minimization is not finite ({after})")
    check_finite(out, "minimized coordinates")
    return Minimized(positions=out, energy_before=before, energy_after=after, platform=name)


def separate_overlaps(
    positions_nm: np.ndarray, min_dist_nm: float = 0.03, shift_nm: float = 0.05
) -> tuple[np.ndarray, int]:
    """Push apart atoms that (nearly) coincide, which would make the forces NaN.

    A model can put two atoms at the same spot (two residues collapsed onto each other); the
    force between them has no direction and the minimizer returns NaN. The second atom of each
    such pair is moved by ``shift_nm`` along a fixed direction that depends only on its index
    (deterministic; the minimizer then resolves the clash).

    Args:
        positions_nm: [A, 3] positions, nm.
        min_dist_nm: pairs closer than this are separated.
        shift_nm: displacement applied, nm.

    Returns:
        positions: [A, 3] nm (a copy); n: number of atoms moved.
    """
    pairs, _ = point_pairs(positions_nm * 10.0, min_dist_nm * 10.0)
    out = np.array(positions_nm, np.float64, copy=True)
    if len(pairs) == 0:
        return out, 0
    moved = np.unique(pairs[:, 1])
    # Fibonacci-sphere directions: well spread, reproducible, no RNG.
    golden = np.pi * (3.0 - np.sqrt(5.0))
    z = 1.0 - 2.0 * ((moved * 0.618033988749895) % 1.0)
    phi = golden * moved
    r = np.sqrt(1.0 - z * z)
    out[moved] += shift_nm * np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)
    return out, len(moved)


def check_finite(positions: np.ndarray, what: str) -> None:
    """Raise :class:`RelaxError` naming the first atom of ``positions`` [A, 3] that is NaN/inf."""
    bad = ~np.isfinite(positions).all(axis=1)
    if bad.any():
        raise RelaxError(
            f"{what}: {int(bad.sum())} atom(s) with NaN/inf coordinates "
            f"(first: atom {int(np.flatnonzero(bad)[0]) + 1})"
        )
