"""Atoms outside the physics stay put, and nothing may be pushed into them.

The 5′ phosphate of a chain (no Amber template) and ``N`` / modified residues are left out of
the OpenMM system (:mod:`rnapredict.relax.fixer`) and put back afterwards. Without stand-ins,
the 5′-terminal ``O5'`` (a free hydroxyl in Amber) turned towards a neighbour and the phosphate
carried on it swung into that neighbour's phosphate (P–OP1 1.4 Å after ``fold --relax`` of a
100-nt model; clashscore 1.9 → 10.7), and neighbours could move into the empty space.
:func:`hold_anchors` restrains that ``O5'``; :func:`add_obstacles` makes each atom outside the
physics a wall at its input position: a one-sided harmonic repulsion that lets no relaxed atom
come closer to it than contact distance, except that atoms of the same or an adjacent residue
(bonded or nearly so: a topology-free rule cannot tell) only may not come closer than they
started.
"""

from __future__ import annotations

import numpy as np
import openmm

from rnapredict.relax.system import KCAL_A2_TO_KJ_NM2, RESTRAINT_GROUP

#: Wall stiffness, kcal/mol/Å² (energy ½·k·(r0 − d)² for d < r0).
OBSTACLE_K = 100.0
#: Contact distance r0 (nm) for heavy atoms and for hydrogens: about the sum of van der Waals
#: radii, above the 0.4 Å overlap a clashscore counts (P–O 3.3 Å, O–O 3.0 Å, H–O 2.6 Å).
CONTACT_HEAVY_NM = 0.33
CONTACT_H_NM = 0.26
#: Restraint on the ``O5'`` a carried 5′ phosphate hangs on, kcal/mol/Å².
ANCHOR_K = 100.0
#: Relaxed atoms farther than this (nm) from an obstacle at the start get no term.
REACH_NM = 0.8


def add_obstacles(
    system: openmm.System,
    positions_nm: np.ndarray,
    atom_residue: np.ndarray,
    is_h: np.ndarray,
    fixed_nm: np.ndarray,
    fixed_residue: np.ndarray,
    *,
    k: float = OBSTACLE_K,
) -> int:
    """Add one-sided repulsion from fixed points to ``system`` (restraint force group, so the
    reported force-field energies leave it out).

    Args:
        positions_nm: [A, 3] start positions of the OpenMM atoms, nm.
        atom_residue: [A] input residue index of each OpenMM atom.
        is_h: [A] bool, hydrogen atoms.
        fixed_nm: [F, 3] positions of the atoms outside the physics, nm.
        fixed_residue: [F] their input residue indices.
        k: stiffness, kcal/mol/Å².

    Returns:
        Number of (atom, obstacle) terms added (0: nothing added to ``system``).
    """
    if len(fixed_nm) == 0:
        return 0
    d = np.linalg.norm(positions_nm[:, None, :] - fixed_nm[None, :, :], axis=-1)  # [A, F]
    atoms, obstacles = np.nonzero(d < REACH_NM)
    if len(atoms) == 0:
        return 0
    contact = np.where(is_h[atoms], CONTACT_H_NM, CONTACT_HEAVY_NM)
    near = np.abs(atom_residue[atoms] - fixed_residue[obstacles]) <= 1
    r0 = np.where(near, np.minimum(contact, d[atoms, obstacles]), contact)
    force = openmm.CustomExternalForce(
        "0.5*k_obst*step(r0-d)*(r0-d)^2; d=sqrt((x-cx)^2+(y-cy)^2+(z-cz)^2)"
    )
    force.addGlobalParameter("k_obst", k * KCAL_A2_TO_KJ_NM2)
    for name in ("cx", "cy", "cz", "r0"):
        force.addPerParticleParameter(name)
    for a, o, r in zip(atoms.tolist(), obstacles.tolist(), r0.tolist(), strict=True):
        force.addParticle(a, [*(float(v) for v in fixed_nm[o]), r])
    force.setForceGroup(RESTRAINT_GROUP)
    system.addForce(force)
    return len(atoms)


def hold_anchors(
    system: openmm.System,
    positions_nm: np.ndarray,
    atom_residue: np.ndarray,
    atom_names: list[str],
    fixed_residue: np.ndarray,
    *,
    k: float = ANCHOR_K,
) -> int:
    """Restrain the ``O5'`` of every relaxed residue that has carried atoms to its start.

    In Amber that ``O5'`` is a free 5′-hydroxyl; its hydrogen turned it by ~1 Å towards a
    neighbouring phosphate, and the phosphate carried on it swung 1.4 Å into that neighbour.
    Held, the carried phosphate stays where the model put it, behind its obstacle walls.
    An ``O5'`` that is already fixed (zero mass: bonded to a frozen residue) gets no restraint
    too: one mechanism holds each atom.

    Returns:
        Number of atoms held (0: nothing added to ``system``).
    """
    carriers = set(np.asarray(fixed_residue).tolist())
    held = [
        a
        for a, (r, name) in enumerate(zip(atom_residue.tolist(), atom_names, strict=True))
        if name == "O5'"
        and r in carriers
        and system.getParticleMass(a).value_in_unit(openmm.unit.dalton) > 0
    ]
    if not held:
        return 0
    force = openmm.CustomExternalForce("0.5*k_anchor*((x-ax)^2+(y-ay)^2+(z-az)^2)")
    force.addGlobalParameter("k_anchor", k * KCAL_A2_TO_KJ_NM2)
    for name in ("ax", "ay", "az"):
        force.addPerParticleParameter(name)
    for a in held:
        force.addParticle(a, [float(v) for v in positions_nm[a]])
    force.setForceGroup(RESTRAINT_GROUP)
    system.addForce(force)
    return len(held)
