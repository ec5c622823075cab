"""Atoms outside the OpenMM physics (a chain's 5′ phosphate, N/modified residues) are walls:
relaxation must not push a neighbour into them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openmm
import pytest

from rnapredict.io.pdbio import read_models
from rnapredict.io.structure import RnaStructure
from rnapredict.relax.api import FOLD_RELAX, relax_model
from rnapredict.relax.obstacles import add_obstacles
from rnapredict.relax.options import RelaxOptions
from rnapredict.relax.system import recenter_restraints

DATA = Path(__file__).parent / "data"
PHOSPHATE = ("P", "OP1", "OP2")


@pytest.fixture(scope="module")
def model() -> RnaStructure:
    # Residues 1-3 and 88-92 of a fold model: residue 1's 5' phosphate is 2.9 Å from
    # residue 90's phosphate. Before the walls, fold --relax swung it to 1.4 Å (clashscore
    # 0 → 91 on this fragment).
    (m,) = read_models(DATA / "relax_5p_phosphate_neighbour.pdb")
    return m.heavy_atoms()


def _closest_to_5p(m: RnaStructure) -> float:
    """Å from residue 1's phosphate atoms to any atom of residue 90."""
    mine = [k for k, n in enumerate(m.atom_names) if m.atom_res[k] == 0 and n in PHOSPHATE]
    far = np.flatnonzero(m.res_ids[m.atom_res] == 90)
    d = np.linalg.norm(m.coords[mine][:, None] - m.coords[far][None], axis=-1)
    return float(d.min())


@pytest.mark.parametrize("options", [FOLD_RELAX, RelaxOptions()], ids=["fold", "minimize"])
def test_relax_keeps_neighbours_out_of_the_5prime_phosphate(
    model: RnaStructure, options: RelaxOptions
) -> None:
    assert _closest_to_5p(model) == pytest.approx(2.93, abs=0.01)
    res = relax_model(model, options)
    assert res.ok, res.message
    assert res.clash_before == 0.0 and res.clash_after is not None and res.clash_after <= 2.0
    assert _closest_to_5p(res.model) >= 2.9  # P–O contact; 1.4 Å before the fix


def test_obstacle_walls_are_one_sided_and_keep_closer_starts() -> None:
    """A wall at contact distance; an atom of the same or an adjacent residue starting closer
    (a bonded neighbour) may not come closer than it started; nobody is held from moving away."""
    system = openmm.System()
    for _ in range(3):
        system.addParticle(12.0)
    fixed = np.array([[0.0, 0.0, 0.0]])
    start = np.array([[0.16, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 2.0]])  # nm
    residue = np.array([4, 9, 9])  # atom 0 is in the residue after the obstacle's
    n = add_obstacles(system, start, residue, np.zeros(3, bool), fixed, np.array([3]))
    assert n == 2  # atom 2 is out of reach
    ctx = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )

    def energy(pos: np.ndarray) -> float:
        ctx.setPositions(pos)
        return ctx.getState(getEnergy=True).getPotentialEnergy()._value

    assert energy(start) == 0.0
    k = 100.0 * 418.4  # kcal/mol/Å² → kJ/mol/nm²
    closer = start * np.array([[0.5], [0.5], [0.1]])  # 0.08 nm, 0.25 nm, 0.2 nm
    assert energy(closer) == pytest.approx(0.5 * k * (0.08**2 + 0.08**2), rel=1e-6)
    # A non-adjacent atom starting inside contact distance is pushed out to it.
    inside = start * np.array([[1.0], [0.5], [1.0]])
    assert energy(inside) == pytest.approx(0.5 * k * 0.08**2, rel=1e-6)
    assert energy(start * 2.0) == 0.0
    # The walls are not position restraints: re-centring the restraints leaves them alone.
    assert recenter_restraints(system, start + 1.0) == 0
    assert add_obstacles(system, start, residue, np.zeros(3, bool), fixed[:0], residue[:0]) == 0


def test_a_fixed_o5_is_not_also_restrained() -> None:
    """The O5′ after a frozen residue is held by zero mass; hold_anchors adds no restraint on
    it (it used to hold it twice), only on the movable O5′ of residues with carried atoms."""
    from rnapredict.relax.obstacles import hold_anchors

    system = openmm.System()
    for _ in range(4):
        system.addParticle(15.999)
    system.setParticleMass(1, 0.0)  # bonded to a frozen residue
    pos = np.arange(12, dtype=float).reshape(4, 3) / 10
    names = ["O5'", "O5'", "C5'", "O5'"]
    residue = np.array([0, 1, 1, 2])
    held = hold_anchors(system, pos, residue, names, np.array([0, 1]))
    assert held == 1  # residue 0's O5' only; residue 2 has no carried atoms
    (force,) = [f for f in system.getForces() if isinstance(f, openmm.CustomExternalForce)]
    assert force.getNumParticles() == 1 and force.getParticleParameters(0)[0] == 0
