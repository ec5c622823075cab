"""The physics: Amber14 RNA (OL3) force field, GBn2 implicit solvent, heavy-atom restraints.

Energies are in kJ/mol (OpenMM's unit); the restraint constant is given in kcal/mol/Å² (the
convention of AlphaFold's and RhoFold+'s relaxers) and converted here.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as unit

from rnapredict.relax.options import DEFAULT_CUTOFF_NM

#: Force-field files (OpenMM's bundled Amber14: RNA.OL3 for RNA; GBn2 implicit solvent).
FORCEFIELD_FILES = ("amber14-all.xml", "implicit/gbn2.xml")
#: The same force field in vacuum: hydrogen placement and the cheap clash-removal pre-stage.
VACUUM_FILES = ("amber14-all.xml",)
#: kcal/mol/Å² → kJ/mol/nm².
KCAL_A2_TO_KJ_NM2 = 4.184 * 100.0
#: Force group of the position restraints (energies are reported without them).
RESTRAINT_GROUP = 1
#: Platforms in order of preference for ``platform="auto"``.
PLATFORM_PREFERENCE = ("CUDA", "HIP", "OpenCL", "CPU", "Reference")


@dataclass(frozen=True)
class SystemConfig:
    """How the OpenMM system is built.

    Attributes:
        restrain_heavy: harmonic restraint constant k on every heavy atom, kcal/mol/Å²
            (energy ½·k·d², d the displacement from the input position); 0 disables.
        cutoff_nm: non-bonded cutoff (nm) with reaction-field/GB cutoff; None: no cutoff
            (exact, O(N²) per step: fine for small RNAs, slow beyond a few hundred nt).
        salt_molar: implicit-solvent salt concentration (mol/L), Debye screening of phosphates.
    """

    restrain_heavy: float = 10.0
    cutoff_nm: float | None = DEFAULT_CUTOFF_NM
    salt_molar: float = 0.15


@functools.cache
def forcefield(solvent: bool = True) -> app.ForceField:
    """Amber14 with GBn2 implicit solvent, or in vacuum (loaded once per process, on first use)."""
    return app.ForceField(*(FORCEFIELD_FILES if solvent else VACUUM_FILES))


def debye_kappa(salt_molar: float, dielectric: float = 78.5, kelvin: float = 300.0) -> float:
    """Debye screening parameter κ (1/nm) of a 1:1 salt at ``salt_molar`` mol/L.

    Same expression as OpenMM's ``implicitSolventSaltConc`` for Amber prmtop systems
    (κ = 50.33355·√(c/(ε·T)) Å⁻¹); 0.15 M → 1.27 nm⁻¹ (Debye length 7.9 Å).
    """
    return 10.0 * 50.33355 * math.sqrt(max(salt_molar, 0.0) / (dielectric * kelvin))


def build_system(
    topology: app.Topology,
    positions_nm: np.ndarray,
    heavy: np.ndarray,
    config: SystemConfig,
    *,
    solvent: bool = True,
) -> openmm.System:
    """OpenMM system for minimization, with position restraints on the heavy atoms.

    Args:
        topology: complete topology (heavy atoms and hydrogens).
        positions_nm: [A, 3] reference positions of the restraints, nm.
        heavy: [A] bool, atoms to restrain.
        config: force-field options.
        solvent: GBn2 implicit solvent (True) or vacuum (False, the cheap pre-stage).

    Bonds are flexible (``constraints=None``): the minimizer must fix bond lengths too.

    Raises:
        ValueError: from OpenMM when a residue matches no template.
    """
    if config.cutoff_nm is None:
        method, cutoff = app.NoCutoff, {}
    else:
        method, cutoff = (
            app.CutoffNonPeriodic,
            {"nonbondedCutoff": config.cutoff_nm * unit.nanometer},
        )
    if solvent:
        cutoff["implicitSolventKappa"] = debye_kappa(config.salt_molar) / unit.nanometer
    system = forcefield(solvent).createSystem(
        topology, nonbondedMethod=method, constraints=None, rigidWater=False, **cutoff
    )
    if config.restrain_heavy > 0:
        restraint = openmm.CustomExternalForce("0.5*k_restr*((x-x0)^2+(y-y0)^2+(z-z0)^2)")
        restraint.addGlobalParameter("k_restr", config.restrain_heavy * KCAL_A2_TO_KJ_NM2)
        for name in ("x0", "y0", "z0"):
            restraint.addPerParticleParameter(name)
        for k in np.flatnonzero(heavy):
            restraint.addParticle(int(k), [float(v) for v in positions_nm[k]])
        restraint.setForceGroup(RESTRAINT_GROUP)
        system.addForce(restraint)
    return system


def recenter_restraints(
    system: openmm.System, positions_nm: np.ndarray, k: float | None = None
) -> int:
    """Move the position restraints' reference points of ``system`` to ``positions_nm`` [A, 3]
    and, if ``k`` is given, set their constant to ``k`` kcal/mol/Å².

    Returns:
        Number of restrained atoms (0: the system has no restraints; nothing changed).
    """
    for force in system.getForces():
        if (
            isinstance(force, openmm.CustomExternalForce)
            and force.getForceGroup() == RESTRAINT_GROUP
            and force.getNumGlobalParameters() > 0
            and force.getGlobalParameterName(0) == "k_restr"  # not the obstacles' walls
        ):
            if k is not None:
                force.setGlobalParameterDefaultValue(0, k * KCAL_A2_TO_KJ_NM2)
            for p in range(force.getNumParticles()):
                k, _ = force.getParticleParameters(p)
                force.setParticleParameters(p, k, [float(v) for v in positions_nm[k]])
            return force.getNumParticles()
    return 0


def bond_table(system: openmm.System) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic bonds of ``system``.

    Returns:
        pairs: [K, 2] int atom indices; length: [K] equilibrium length, Å.
    """
    for force in system.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            pairs, length = [], []
            for b in range(force.getNumBonds()):
                i, j, r0, _k = force.getBondParameters(b)
                pairs.append((i, j))
                length.append(r0.value_in_unit(unit.angstrom))
            return np.asarray(pairs, np.int64).reshape(-1, 2), np.asarray(length)
    return np.zeros((0, 2), np.int64), np.zeros(0)


def select_platform(name: str = "auto") -> openmm.Platform:
    """OpenMM platform by name (``CPU``, ``CUDA``, ...), or the fastest present for ``auto``.

    The CPU platform's contexts run on ``OPENMM_CPU_THREADS`` threads, default one (see
    :func:`rnapredict.relax.minimize.make_context`: same input, same bytes).

    Raises:
        ValueError: the named platform is not available.
    """
    present = [
        openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())
    ]
    if name.lower() == "auto":
        for candidate in PLATFORM_PREFERENCE:
            if candidate in present:
                return openmm.Platform.getPlatformByName(candidate)
    for candidate in present:
        if candidate.lower() == name.lower():
            return openmm.Platform.getPlatformByName(candidate)
    raise ValueError(f"OpenMM platform {name!r} not available (have: {', '.join(present)})")
