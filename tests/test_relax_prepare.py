"""Relax preparation without minimization: segments, templates, PDBFixer, restraints, platforms.

Fast (no L-BFGS run): PDBFixer on a 19–24 nt RNA with the Reference platform takes < 1 s.
"""

from __future__ import annotations

import numpy as np
import openmm
import openmm.unit as unit
import pytest

from rnapredict.errors import RelaxError
from rnapredict.io.pdbio import read_structure
from rnapredict.io.structure import RnaStructure
from rnapredict.relax.convert import heavy_rmsd, to_structure
from rnapredict.relax.fixer import (
    PreparedModel,
    check_templates,
    closed_gaps,
    prepare,
    segments,
)
from rnapredict.relax.minimize import potential_energy, separate_overlaps
from rnapredict.relax.system import (
    KCAL_A2_TO_KJ_NM2,
    RESTRAINT_GROUP,
    SystemConfig,
    bond_table,
    build_system,
    debye_kappa,
    select_platform,
)
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def hairpin() -> RnaStructure:
    """1a9n chain R (24 nt), starts at O5' of residue 0, ends with O3'."""
    return read_structure(shared_path("fixtures", "score", "natives", "1a9nR_R.pdb"))


@pytest.fixture(scope="module")
def prepared(hairpin: RnaStructure) -> PreparedModel:
    return prepare(hairpin)


def test_segments_split_at_break_chain_and_unknown(hairpin: RnaStructure) -> None:
    segs, frozen = segments(hairpin)
    assert segs == [list(range(24))] and frozen == []
    # Move residues 10.. 20 Å away: a backbone break between 9 and 10.
    xyz = hairpin.coords.copy()
    xyz[hairpin.atom_res >= 10] += 20.0
    segs, _ = segments(hairpin.with_coords(xyz))
    assert segs == [list(range(10)), list(range(10, 24))]
    # An N residue is frozen and cuts the chain.
    names = list(hairpin.res_names)
    names[5] = "N"
    model = RnaStructure(**{**hairpin.__dict__, "res_names": names})
    segs, frozen = segments(model)
    assert frozen == [5] and segs == [list(range(5)), list(range(6, 24))]


def test_template_mismatch_names_the_residue(hairpin: RnaStructure) -> None:
    names = list(hairpin.atom_names)
    k = names.index("N4")  # residue 0 is a C: give it a G's O6 instead of N4
    names[k] = "O6"
    bad = RnaStructure(**{**hairpin.__dict__, "atom_names": names, "elements": []})
    with pytest.raises(RelaxError, match=r"template does not match.*A:C:0.*'O6'"):
        check_templates(bad)


@pytest.mark.parametrize("start", ["O5'", "P"])
def test_prepare_both_5prime_starts(hairpin: RnaStructure, start: str) -> None:
    """A chain starting at O5' (no phosphate) or at P both build a complete Amber topology."""
    model = hairpin if start == "O5'" else hairpin.select_residues(range(1, 24))
    assert model.atom_names[0] == start
    prep = prepare(model)
    residues = list(prep.topology.residues())
    first = {a.name for a in residues[0].atoms()}
    last = {a.name for a in residues[-1].atoms()}
    assert "HO5'" in first and "P" not in first  # Amber 5' terminal template
    assert "HO3'" in last and "O3'" in last  # 3' terminal template
    carried = [model.atom_names[k] for k in prep.carried]
    assert carried == ([] if start == "O5'" else ["P", "OP1", "OP2"])
    # Every input heavy atom but the carried ones maps to exactly one OpenMM atom.
    mapped = prep.source_atom[prep.source_atom >= 0]
    assert sorted(mapped.tolist() + prep.carried) == list(range(model.n_atoms))
    # Input positions pass through PDBFixer unchanged (PDB text: 0.001 Å rounding).
    got = prep.positions[prep.source_atom >= 0] * 10.0
    assert np.abs(got - model.coords[mapped]).max() < 1e-3
    # Amber14 + GBn2 accepts the topology; the hydrogens are where the templates want them.
    system = build_system(prep.topology, prep.positions, prep.heavy_mask, SystemConfig())
    assert system.getNumParticles() == prep.topology.getNumAtoms()
    pairs, r0 = bond_table(system)
    d = np.linalg.norm(prep.positions[pairs[:, 0]] - prep.positions[pairs[:, 1]], axis=1) * 10
    is_h = ~prep.heavy_mask
    h_bond = is_h[pairs[:, 0]] | is_h[pairs[:, 1]]
    assert np.abs(d - r0)[h_bond].max() < 0.1  # placed by a short H-only minimization
    # Back-conversion with the unminimized positions reproduces the input (P carried rigidly).
    back = to_structure(model.heavy_atoms(), prep, prep.positions)
    assert back.atom_names == model.atom_names
    assert heavy_rmsd(model, back) < 1e-3


def test_prepare_is_deterministic(hairpin: RnaStructure, prepared: PreparedModel) -> None:
    np.testing.assert_array_equal(prepare(hairpin).positions, prepared.positions)


def test_prepare_completes_missing_heavy_atoms(hairpin: RnaStructure) -> None:
    """Base atoms N4 and O2 of residue 1 (a C) removed: PDBFixer puts them back in place."""
    assert hairpin.seq[1] == "C"
    gone = {"N4", "O2"}
    keep = np.array(
        [
            not (r == 1 and n in gone)
            for r, n in zip(hairpin.atom_res, hairpin.atom_names, strict=True)
        ]
    )
    model = hairpin.select_atoms(keep)
    prep = prepare(model)
    added = [
        a.name
        for a, s in zip(prep.topology.atoms(), prep.source_atom, strict=True)
        if s < 0 and a.element.symbol != "H"
    ]
    assert sorted(added) == sorted(gone)
    back = to_structure(model, prep, prep.positions)
    assert back.n_atoms == hairpin.n_atoms
    native, rebuilt = hairpin.residue_atoms(1), back.residue_atoms(1)
    for name in gone:  # template placement on a planar base: within a few tenths of an Å
        assert np.linalg.norm(native[name] - rebuilt[name]) < 0.3


def test_no_standard_residue_is_an_error(hairpin: RnaStructure) -> None:
    one = hairpin.select_residues([0])
    model = RnaStructure(**{**one.__dict__, "res_names": ["N"], "seq": "N"})
    with pytest.raises(RelaxError, match="no standard"):
        prepare(model)


def test_restraint_energy_is_half_k_d2(prepared: PreparedModel) -> None:
    """½·k·d² with k in kcal/mol/Å²: one heavy atom moved by 0.5 Å, k = 10 → 1.25 kcal/mol."""
    prep = prepared
    system = build_system(
        prep.topology, prep.positions, prep.heavy_mask, SystemConfig(restrain_heavy=10.0)
    )
    for f in system.getForces():
        f.setForceGroup(0 if f.getForceGroup() != RESTRAINT_GROUP else RESTRAINT_GROUP)
    ctx = openmm.Context(system, openmm.VerletIntegrator(0.001), select_platform("Reference"))
    pos = prep.positions.copy()
    pos[0, 0] += 0.05  # atom 0 (O5', heavy) moved 0.5 Å
    ctx.setPositions(pos * unit.nanometer)
    e = ctx.getState(getEnergy=True, groups={RESTRAINT_GROUP}).getPotentialEnergy()
    assert e.value_in_unit(unit.kilocalorie_per_mole) == pytest.approx(1.25, rel=1e-4)
    assert KCAL_A2_TO_KJ_NM2 == pytest.approx(418.4)


def test_energy_without_restraints_matches_plain_forcefield(prepared: PreparedModel) -> None:
    """The reported energy excludes the restraints: same with k = 0 and k = 100."""
    prep = prepared
    pos = prep.positions + 0.01  # rigid shift: restraints are non-zero, physics unchanged
    e = [
        potential_energy(
            build_system(prep.topology, prep.positions, prep.heavy_mask, SystemConfig(k)),
            pos,
            "CPU",
        )
        for k in (0.0, 100.0)
    ]
    assert e[0] == pytest.approx(e[1], abs=1e-3)
    assert np.isfinite(e[0]) and e[0] < 0  # a native RNA in implicit solvent is bound


def test_debye_kappa() -> None:
    # 0.15 M NaCl in water at 300 K: Debye length 7.9 Å.
    assert 1.0 / debye_kappa(0.15) == pytest.approx(0.787, abs=0.005)
    assert debye_kappa(0.0) == 0.0


def test_platforms() -> None:
    assert select_platform("cpu").getName() == "CPU"
    assert select_platform("auto").getName() in ("CUDA", "HIP", "OpenCL", "CPU")
    with pytest.raises(ValueError, match="not available"):
        select_platform("warpdrive")


def test_separate_overlaps_is_deterministic_and_minimal() -> None:
    pos = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
    out, n = separate_overlaps(pos)
    assert n == 1
    np.testing.assert_array_equal(out[[0, 2]], pos[[0, 2]])  # only the second of the pair moves
    assert np.linalg.norm(out[1] - out[0]) == pytest.approx(0.05)
    again, _ = separate_overlaps(pos)
    np.testing.assert_array_equal(out, again)


def test_backbone_gap_closed_by_the_force_field_is_reported(
    hairpin: RnaStructure, prepared: PreparedModel
) -> None:
    """A residue moved 3 Å stays in its segment (links up to 4 Å are bonded, so minimize pulls
    it back); that used to pass silently as ``ok``, now both stretched links are named."""
    assert not any("backbone gap" in w for w in prepared.warnings)
    xyz = hairpin.coords.copy()
    xyz[hairpin.atom_res == 12] += np.array([3.0, 0.0, 0.0])
    moved = hairpin.with_coords(xyz)
    segs, _ = segments(moved)
    assert segs == [list(range(24))]
    gaps = closed_gaps(moved, segs)
    assert (
        len(gaps) == 2 and gaps[0].startswith("O3'(A:A:11)–P(A:G:12) ") and gaps[0].endswith(" Å")
    )
    d = [float(g.split()[-2]) for g in gaps]
    assert all(2.5 < x < 4.0 for x in d)
    (text,) = [w for w in prepare(moved).warnings if "backbone gap" in w]
    assert text.startswith("2 backbone gap(s) in the input closed by the force field")
