"""Round-trips of the gemmi-based structure writers/readers on real structures."""

from __future__ import annotations

import numpy as np
import pytest

from rnapredict.errors import OutputExistsError, StructureError
from rnapredict.io.pdbio import read_models, read_structure, write_models
from tests.conftest import shared_path


@pytest.mark.parametrize("fmt", ["pdb", "cif"])
def test_round_trip_preserves_coordinates_and_plddt(tmp_path, fmt):
    native = read_structure(shared_path("fixtures", "score", "natives", "1ehz_A.pdb"))
    plddt = np.linspace(3.5, 97.25, native.n_residues)
    m1 = native.with_plddt(plddt)
    rng = np.random.default_rng(0)
    m2 = m1.with_coords(native.coords + rng.normal(0, 0.5, native.coords.shape))
    out = tmp_path / f"ens.{fmt}"
    write_models([m1, m2], out)
    back = read_models(out)
    assert len(back) == 2
    for orig, got in zip([m1, m2], back, strict=True):
        assert got.atom_names == orig.atom_names
        assert got.seq == orig.seq
        assert np.abs(got.coords - orig.coords).max() <= 1e-3
        per_res_b = np.array(
            [got.b_factors[got.atom_res == i].mean() for i in range(got.n_residues)]
        )
        assert np.abs(per_res_b - plddt).max() <= 0.01


def test_modified_residues_map_to_parent(shared_data):
    m = read_models(shared_data / "structures" / "1ehz.cif")[0]
    # tRNA-Phe: 76 nt incl. 14 modified ones (some, like YYG and 5MC, untyped in gemmi's table).
    assert m.n_residues == 76
    parents = {n: b for n, b in zip(m.res_names, m.seq, strict=True)}
    assert parents["2MG"] == "G" and parents["YYG"] == "G" and parents["5MC"] == "C"
    assert parents["PSU"] == "U" and parents["1MA"] == "A"


def test_nan_coordinates_refused(tmp_path):
    native = read_structure(shared_path("fixtures", "score", "natives", "1ATO_A.pdb"))
    coords = native.coords.copy()
    coords[5, 1] = np.nan
    with pytest.raises(StructureError, match="non-finite coordinate at atom 6"):
        write_models([native.with_coords(coords)], tmp_path / "x.pdb")
    assert not list(tmp_path.iterdir())


def test_existing_output_not_clobbered(tmp_path):
    native = read_structure(shared_path("fixtures", "score", "natives", "1ATO_A.pdb"))
    out = tmp_path / "x.pdb"
    out.write_text("keep me")
    with pytest.raises(OutputExistsError):
        write_models([native], out)
    assert out.read_text() == "keep me"
    write_models([native], out, overwrite=True)
    assert read_structure(out).n_residues == native.n_residues


@pytest.mark.parametrize("name", ["6FC9.cif", "2HY9.cif"])
def test_non_rna_file_is_clear_error(shared_data, name):
    with pytest.raises(StructureError, match="no RNA residues"):
        read_models(shared_data / "structures" / name)


def test_garbage_file_is_clear_error(tmp_path):
    p = tmp_path / "junk.pdb"
    p.write_text("this is not a structure\n")
    with pytest.raises(StructureError, match="junk.pdb"):
        read_models(p)
