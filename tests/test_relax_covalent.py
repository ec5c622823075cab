"""Covalent check after relaxation (relax/covalent.py): a stretched O3′–P link or bond is
found and named; links that were already open in the input, and frozen residues, are not."""

from __future__ import annotations

import numpy as np
import pytest

from rnapredict.io.pdbio import read_structure
from rnapredict.io.structure import RnaStructure
from rnapredict.relax.covalent import bond_deviations, broken_bonds, linked_residues
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def native() -> RnaStructure:
    return read_structure(shared_path("fixtures", "score", "natives", "1ATO_A.pdb"))


def _shift_from(model: RnaStructure, first: int, by: float) -> RnaStructure:
    xyz = model.coords.copy()
    xyz[model.atom_res >= first] += np.array([by, 0.0, 0.0])
    return model.with_coords(xyz)


def test_native_has_no_broken_bonds(native: RnaStructure) -> None:
    assert broken_bonds(native, native) == []
    devs = bond_deviations(native, linked_residues(native))
    assert len(devs) > 20 * native.n_residues  # every bond and link is checked
    assert max(d for d, _ in devs.values()) < 0.1


def test_stretched_link_is_named(native: RnaStructure) -> None:
    """Residues 12… moved 1.8 Å away: the O3′(11)–P(12) link is broken (as the 3.42 Å link
    57–58 of issue 15 was)."""
    broken = broken_bonds(native, _shift_from(native, 11, 1.8))
    assert len(broken) == 1
    label = f"O3'({native.res_ids[10]})–P({native.res_ids[11]})"
    assert broken[0].startswith(label)
    assert "(input 1.6" in broken[0]


def test_open_input_link_and_frozen_residue_are_not_flagged(native: RnaStructure) -> None:
    opened = _shift_from(native, 11, 5.0)  # a chain break already in the input
    assert broken_bonds(opened, _shift_from(opened, 11, 2.0)) == []
    names = list(native.res_names)
    names[10] = "N"  # frozen residue: its links are chain ends in the force field
    frozen = RnaStructure(**{**native.__dict__, "res_names": names})
    assert broken_bonds(frozen, _shift_from(frozen, 11, 1.8)) == []


def _links(model: RnaStructure) -> dict[str, float]:
    """O3′(i)–P(i+1) length (Å) of every consecutive pair in a chain, by residue labels."""
    o3, _ = model.atom_coords("O3'")
    p, _ = model.atom_coords("P")
    labels = model.residue_labels()
    return {
        f"{labels[i]}-{labels[i + 1]}": float(np.linalg.norm(o3[i] - p[i + 1]))
        for i in range(model.n_residues - 1)
        if model.chain_ids[i] == model.chain_ids[i + 1]
    }


def test_links_to_a_frozen_modified_residue_keep_their_length() -> None:
    """3cgs has a pseudouridine (PSU 6, frozen: no Amber template). Its neighbours were free
    chain ends in the force field, so relaxing moved the O3′–P links to it off ideal (1.3–1.85 Å
    on 1EVV) while the model was reported ok; the bonded O3′/O5′ are now anchored."""
    from rnapredict.relax.api import FOLD_RELAX, relax_model

    native = read_structure(shared_path("data", "structures", "3cgs.cif"))
    result = relax_model(native, FOLD_RELAX)
    assert result.ok, result.message
    assert "1 N/modified residue(s) kept unrelaxed" in result.message
    assert "terminal phosphate" not in result.message  # A7's phosphate is not moved
    before, after = _links(native), _links(result.model)
    near = {k: v for k, v in before.items() if ":PSU:" in k}
    assert len(near) == 2
    for key, d in near.items():
        assert after[key] == pytest.approx(d, abs=0.01), key
    assert all(1.5 < d < 1.7 for k, d in after.items() if k in before and 1.5 < before[k] < 1.7)
    assert broken_bonds(native, result.model) == []
    # the 5' phosphate after the PSU (kept in place) stays bonded to its own O5'
    k = result.model.residue_labels().index("A:A:7")
    atoms = result.model.residue_atoms(k)
    assert float(np.linalg.norm(atoms["P"] - atoms["O5'"])) == pytest.approx(1.59, abs=0.05)
