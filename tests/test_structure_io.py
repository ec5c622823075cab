"""Round-trips of the gemmi-based structure writers/readers on real structures."""

from __future__ import annotations

import gemmi
import numpy as np
import pytest

from rnapredict.errors import OutputExistsError, StructureError
from rnapredict.io.pdbio import read_models, read_structure, write_models
from rnapredict.io.structure import RnaStructure
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


# ------------------------------------------------------------------ hardening (issue 3)
def _chain(n: int) -> RnaStructure:
    xyz = np.stack([np.arange(n) * 6.0 % 900, np.arange(n) // 150 * 6.0, np.zeros(n)], 1)
    return RnaStructure.from_residues("A" * n, [{"C1'": x} for x in xyz])


def test_too_large_for_pdb_requires_mmcif(tmp_path):
    big = _chain(10_000)
    with pytest.raises(StructureError, match="mmCIF is required") as ei:
        write_models([big], tmp_path / "big.pdb")
    assert ei.value.file == str(tmp_path / "big.pdb")
    assert not list(tmp_path.iterdir())
    write_models([big], tmp_path / "big.cif")
    back = read_structure(tmp_path / "big.cif")
    assert back.n_residues == 10_000 and np.abs(back.coords - big.coords).max() <= 1e-3


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_refused_in_both_formats(tmp_path, bad):
    m = _chain(5)
    coords = m.coords.copy()
    coords[3, 2] = bad
    for fmt in ("pdb", "cif"):
        with pytest.raises(StructureError, match="non-finite coordinate at atom 4"):
            write_models([m.with_coords(coords)], tmp_path / f"x.{fmt}")
    assert not list(tmp_path.iterdir())


def test_header_names_rnapredict_and_version(tmp_path):
    from rnapredict import __version__

    m = _chain(3).with_plddt(np.array([10.0, 50.0, 90.0]))
    write_models([m], tmp_path / "a.pdb", title="test record")
    write_models([m], tmp_path / "a.cif", title="test record")
    pdb = (tmp_path / "a.pdb").read_text()
    assert f"rnapredict {__version__}" in pdb and "PLDDT" in pdb
    block = gemmi.cif.read(str(tmp_path / "a.cif")).sole_block()
    sw = block.find("_software.", ["name", "version"])
    assert [gemmi.cif.as_string(v) for v in sw[0]] == ["rnapredict", __version__]
    for p in ("a.pdb", "a.cif"):
        got = read_structure(tmp_path / p)
        assert got.b_factors.tolist() == [10.0, 50.0, 90.0] and got.atom_names == ["C1'"] * 3


def test_gzip_input_and_model_selection(tmp_path):
    import gzip

    src = shared_path("fixtures", "score", "natives", "1ATO_A.pdb")
    gz = tmp_path / "x.pdb.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    a, b = read_structure(src), read_structure(gz)
    assert np.array_equal(a.coords, b.coords) and a.seq == b.seq
    with pytest.raises(StructureError, match="model 2 requested but the file has 1"):
        read_structure(gz, model=2)


@pytest.mark.parametrize("content", ["", "\n\n", "data_x\n", "HEADER    nothing\nEND\n"])
def test_empty_files_are_clear_errors(tmp_path, content):
    for suffix in (".pdb", ".cif"):
        p = tmp_path / f"e{suffix}"
        p.write_text(content)
        with pytest.raises(StructureError) as ei:
            read_models(p)
        assert ei.value.file == str(p)


def test_missing_file_is_clear_error(tmp_path):
    with pytest.raises(StructureError, match="no such file") as ei:
        read_models(tmp_path / "none.cif")
    assert ei.value.file == str(tmp_path / "none.cif")
    with pytest.raises(StructureError, match="is a directory, not a structure file"):
        read_models(tmp_path)


def test_pdb_column_limits_need_mmcif(tmp_path):
    from dataclasses import replace

    m = _chain(4)
    far = m.with_coords(m.coords - np.array([1000.0, 0, 0]))  # x = -1000: 9 characters
    long_chain = replace(m, chain_ids=["ABC"] * 4)
    big_number = replace(m, res_ids=np.array([9998, 9999, 10000, 10001]))
    for bad, what in [
        (far, "coordinates"),
        (long_chain, "chain id 'ABC'"),
        (big_number, "numbered"),
    ]:
        with pytest.raises(StructureError, match="mmCIF is required") as ei:
            write_models([bad], tmp_path / "x.pdb")
        assert what in str(ei.value)
        write_models([bad], tmp_path / "x.cif", overwrite=True)
        back = read_structure(tmp_path / "x.cif")
        assert np.abs(back.coords - bad.coords).max() <= 1e-3
        assert back.chain_ids == bad.chain_ids and back.res_ids.tolist() == bad.res_ids.tolist()
    assert not (tmp_path / "x.pdb").exists()
    edge = m.with_coords(m.coords - np.array([999.9, 0, 0]))  # fits exactly: -999.900
    write_models([edge], tmp_path / "edge.pdb")
    assert np.abs(read_structure(tmp_path / "edge.pdb").coords - edge.coords).max() <= 1e-3


def test_nan_plddt_refused_and_title_stays_one_line(tmp_path):
    m = _chain(3)
    with pytest.raises(StructureError, match="non-finite pLDDT at residue 2"):
        write_models([m.with_plddt(np.array([1.0, np.nan, 3.0]))], tmp_path / "x.pdb")
    write_models([m], tmp_path / "t.pdb", title="evil\nATOM      1  P   ...")
    text = (tmp_path / "t.pdb").read_text()
    assert sum(line.startswith("ATOM") for line in text.splitlines()) == 3
    assert read_structure(tmp_path / "t.pdb").n_atoms == 3


def test_old_v2_atom_names_read_as_v3(tmp_path):
    src = shared_path("fixtures", "score", "natives", "1ATO_A.pdb")
    native = read_structure(src)
    old = []
    for line in src.read_text().splitlines():
        if line.startswith(("ATOM", "HETATM")):
            name = line[12:16].replace("'", "*").replace("OP1", "O1P").replace("OP2", "O2P")
            line = line[:12] + name + line[16:]
        old.append(line)
    p = tmp_path / "v2.pdb"
    p.write_text("\n".join(old) + "\n")
    assert "C1*" in p.read_text() and "O1P" in p.read_text()
    got = read_structure(p)
    assert got.atom_names == native.atom_names and got.seq == native.seq
    assert np.array_equal(got.coords, native.coords)


def test_written_files_get_normal_permissions(tmp_path):
    import os
    import stat

    from rnapredict.io.atomic import atomic_write_text

    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "x.txt", "hi")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_mmcif_has_rna_entity_sequence_and_label_seq_ids(tmp_path):
    """Mol*/ChimeraX/validation read entity, polymer sequence and label numbering from mmCIF;
    gemmi reads them back as written (was: label_seq_id '.', entity 'A', sequence '?')."""
    import gemmi

    native = read_structure(shared_path("fixtures", "score", "natives", "1ehz_A.pdb"))
    out = tmp_path / "m.cif"
    write_models([native, native], out, title="tRNA rank 1")
    block = gemmi.cif.read(str(out)).sole_block()
    assert block.find_value("_entity_poly.type") == "polyribonucleotide"
    assert list(block.find_values("_entity.id")) == ["1"]
    assert "." not in set(block.find_values("_atom_site.label_seq_id"))
    st = gemmi.read_structure(str(out))
    (ent,) = st.entities
    assert ent.entity_type == gemmi.EntityType.Polymer
    assert ent.polymer_type == gemmi.PolymerType.Rna
    assert ent.full_sequence == native.res_names
    assert len(st) == 2
    for model in st:
        (chain,) = model
        assert [r.label_seq for r in chain] == list(range(1, native.n_residues + 1))
        assert {r.entity_id for r in chain} == {"1"}
    # The one-letter sequence of the entity is the parent-base sequence of the record.
    assert block.find_value("_entity_poly.pdbx_seq_one_letter_code").strip(";\n ") != "?"
    assert read_structure(out).seq == native.seq


def test_title_control_characters_escaped_in_remark(tmp_path):
    """An id with control characters goes into REMARK escaped, as on stderr and in TSV."""
    m = _chain(3)
    write_models([m], tmp_path / "t.pdb", title="evil\x1b[31m\x07id rank 1")
    write_models([m], tmp_path / "t.cif", title="evil\x1b[31m\x07id rank 1")
    pdb = (tmp_path / "t.pdb").read_text()
    assert "\x1b" not in pdb and "\x07" not in pdb
    assert "REMARK   1 evil\\x1b[31m\\x07id rank 1" in pdb
    cif = (tmp_path / "t.cif").read_text()
    assert "\x1b" not in cif and "\x07" not in cif and "evil\\x1b[31m\\x07id" in cif


def test_duplicate_residue_number_is_an_error_not_a_lost_residue(tmp_path):
    """Two residues numbered 20 without altlocs: gemmi keeps one as 'microheterogeneity', so a
    76-nt reference was read as 75 nt and scored with the wrong length. True microheterogeneity
    (alternate locations) still keeps the first conformer."""
    import gemmi

    st = gemmi.read_structure(str(shared_path("data", "structures", "1ehz.cif")))
    st.remove_ligands_and_waters()
    chain = st[0]["A"]
    chain[20].seqid = gemmi.SeqId(20, " ")  # residue 21 renumbered onto residue 20
    bad = tmp_path / "dup.pdb"
    st.write_pdb(str(bad))
    with pytest.raises(StructureError, match="chain A: two residues numbered 20") as ei:
        read_models(bad)
    assert ei.value.file == str(bad)
    for atom in chain[19]:
        atom.altloc, atom.occ = "A", 0.5
    for atom in chain[20]:
        atom.altloc, atom.occ = "B", 0.5
    alt = tmp_path / "microhet.pdb"
    st.write_pdb(str(alt))
    assert read_structure(alt).n_residues == 75
