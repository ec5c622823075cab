"""`rnapredict export`: PDB ⇄ mmCIF with identical coordinates, split/merge, c1-csv, fasta."""

from __future__ import annotations

import gemmi
import numpy as np
import pytest
from typer.testing import CliRunner

from rnapredict.cli import app
from rnapredict.errors import InputError, OutputExistsError, StructureError
from rnapredict.io.c1csv import HEADER, read_c1_csv
from rnapredict.io.export import ExportOptions, export, plan_outputs, target_id
from rnapredict.io.pdbio import read_models, read_structure, write_models
from rnapredict.io.secondary import pair_list, parse_dot_bracket
from tests.conftest import shared_path

TRNA = "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGGAGGUCCUGUGUUCGAUCCACAGAAUUCGCACCA"
runner = CliRunner()


def _atoms(path):
    """Every atom of every model: ([(model, chain, resnum, icode, resname, atom)], xyz [N, 3])."""
    st = gemmi.read_structure(str(path), merge_chain_parts=True)
    keys, xyz = [], []
    for m in st:
        for c in m:
            for r in c:
                for a in r:
                    keys.append(
                        (m.num, c.name, r.seqid.num, r.seqid.icode, r.name, a.name, a.altloc)
                    )
                    xyz.append((a.pos.x, a.pos.y, a.pos.z))
    return keys, np.array(xyz)


@pytest.fixture
def ensemble(tmp_path):
    """A 3-model PDB ensemble of the 1ATO hairpin (models perturbed by 0.5 Å noise)."""
    native = read_structure(shared_path("fixtures", "score", "natives", "1ATO_A.pdb"))
    rng = np.random.default_rng(1)
    models = [native] + [
        native.with_coords(native.coords + rng.normal(0, 0.5, native.coords.shape))
        for _ in range(2)
    ]
    path = tmp_path / "ens.pdb"
    write_models(models, path)
    return path, models


@pytest.mark.parametrize(
    ("name", "there", "back"), [("1ehz.cif", "pdb", "cif"), ("1ATO.pdb", "cif", "pdb")]
)
def test_real_structure_both_ways_identical_coordinates(tmp_path, name, there, back):
    src = shared_path("data", "structures", name)
    mid, end = tmp_path / f"mid.{there}", tmp_path / f"end.{back}"
    export([src], mid, ExportOptions(there))
    export([mid], end, ExportOptions(back))
    k0, x0 = _atoms(src)
    k1, x1 = _atoms(mid)
    k2, x2 = _atoms(end)
    assert len(k0) > 300 and k0 == k1 == k2  # every atom kept (waters, ions, modified residues)
    assert np.abs(x1 - x0).max() < 5e-4 and np.array_equal(x2, x1)  # identical (3 decimals)
    assert read_models(end)[0].seq == read_models(src)[0].seq


def test_split_then_merge_restores_ensemble(tmp_path, ensemble):
    path, models = ensemble
    res = export([path], tmp_path / "split", ExportOptions("cif", split_models=True))
    assert [p.name for p in res.written] == [f"ens_model_{k}.cif" for k in (1, 2, 3)]
    for p, m in zip(res.written, models, strict=True):
        (one,) = read_models(p)
        assert np.abs(one.coords - m.coords).max() <= 1e-3
    merged = tmp_path / "merged.pdb"
    export(res.written, merged, ExportOptions("pdb", merge=True))
    back = read_models(merged)
    assert len(back) == 3
    assert [gm.num for gm in gemmi.read_structure(str(merged))] == [1, 2, 3]
    for got, m in zip(back, models, strict=True):
        assert np.abs(got.coords - m.coords).max() <= 1e-3


def test_c1_csv_layout_and_values(tmp_path, ensemble):
    path, models = ensemble
    out = tmp_path / "c1.csv"
    res = export([path], out, ExportOptions("c1-csv"))
    assert any("repeat model 1" in n for n in res.notes)
    lines = out.read_text().splitlines()
    assert lines[0].split(",") == HEADER and len(HEADER) == 18
    assert lines[1].startswith("ens_1,G,1,")
    seq, xyz = read_c1_csv(out)["ens"]
    assert seq == models[0].seq and xyz.shape == (5, models[0].n_residues, 3)
    for k, m in enumerate([*models, models[0], models[0]]):
        want, _ = m.atom_coords("C1'")
        assert np.abs(xyz[k] - want).max() <= 5e-4


def test_c1_csv_merge_fold_outputs_uses_record_dir_name(tmp_path, ensemble):
    _, models = ensemble
    rec = tmp_path / "fold_out" / "my_rna"
    paths = []
    for k, m in enumerate(models * 2, 1):  # 6 files: only the first 5 are used
        paths.append(write_models([m], rec / f"model_{k}.pdb"))
    out = tmp_path / "sub.csv"
    res = export(paths, out, ExportOptions("c1-csv", merge=True))
    assert target_id(paths[0]) == "my_rna" and "kept the first 5" in res.notes[0]
    seq, xyz = read_c1_csv(out)["my_rna"]
    want = [m.atom_coords("C1'")[0] for m in (models * 2)[:5]]
    assert np.abs(xyz - np.stack(want)).max() <= 5e-4


def test_fasta_from_structure_one_record_per_chain(tmp_path):
    out = tmp_path / "seq.fa"
    export([shared_path("data", "structures", "1ehz.cif")], out, ExportOptions("fasta"))
    text = out.read_text()
    assert text.startswith(">1ehz_A chain A of 1ehz.cif\n")
    assert "".join(text.splitlines()[1:]) == TRNA  # modified residues → parent bases


def test_fasta_multi_chain(tmp_path):
    out = tmp_path / "duplex.fa"
    src = shared_path("data", "structures", "1A4D_1_A-B.cif")
    export([src], out, ExportOptions("fasta"))
    m = read_models(src)[0]
    chains = list(dict.fromkeys(m.chain_ids))
    assert out.read_text().count(">") == len(chains) == 2


def test_dot_bracket_from_3d(tmp_path):
    pytest.importorskip("rnapredict.score.basepairs")
    from rnapredict.score import basepairs

    if not hasattr(basepairs, "structure_dot_bracket"):
        pytest.skip("structure_dot_bracket not there yet")
    out = tmp_path / "ss.dbn"
    export([shared_path("data", "structures", "1ehz.cif")], out, ExportOptions("dot-bracket"))
    rid, seq, ss = out.read_text().splitlines()
    assert rid == ">1ehz" and seq == TRNA and len(ss) == 76
    pairs = set(pair_list(parse_dot_bracket(ss)))
    assert {(i, 71 - i) for i in range(7)} <= pairs  # the acceptor stem


def test_plan_rules_and_refusals(tmp_path, ensemble):
    path, _ = ensemble
    other = tmp_path / "sub" / "ens.cif"
    write_models(read_models(path), other)
    with pytest.raises(InputError, match="would both be written"):
        plan_outputs([path, other], tmp_path / "o", ExportOptions("pdb"))
    with pytest.raises(InputError, match="exclude each other"):
        plan_outputs([path], tmp_path / "o", ExportOptions("pdb", split_models=True, merge=True))
    with pytest.raises(InputError, match="pdb\\|cif only"):
        plan_outputs([path], tmp_path / "o", ExportOptions("fasta", split_models=True))
    with pytest.raises(InputError, match="no such file") as ei:
        plan_outputs([tmp_path / "nope.pdb"], tmp_path / "o.cif", ExportOptions("cif"))
    assert ei.value.file == str(tmp_path / "nope.pdb")
    with pytest.raises(InputError, match="is a directory, not a structure file"):
        plan_outputs([tmp_path], tmp_path / "o.cif", ExportOptions("cif"))
    with pytest.raises(InputError, match="replace an input"):
        plan_outputs([path], path, ExportOptions("pdb", overwrite=True))
    with pytest.raises(InputError, match="replace an input"):
        plan_outputs([other, path], path, ExportOptions("fasta", overwrite=True))
    d = tmp_path / "dir"
    d.mkdir()
    assert plan_outputs([path], d, ExportOptions("cif")) == [d / "ens.cif"]
    assert plan_outputs([path], tmp_path / "x.csv", ExportOptions("c1-csv")) == [tmp_path / "x.csv"]


def test_never_clobbers_and_checks_all_outputs_first(tmp_path, ensemble):
    path, _ = ensemble
    a, b = tmp_path / "a.pdb", tmp_path / "b.pdb"
    write_models(read_models(path)[:1], a)
    write_models(read_models(path)[:1], b)
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.cif").write_text("keep")
    with pytest.raises(OutputExistsError) as ei:
        export([a, b], out, ExportOptions("cif"))
    assert ei.value.file == str(out / "b.cif")
    assert not (out / "a.cif").exists() and (out / "b.cif").read_text() == "keep"
    export([a, b], out, ExportOptions("cif", overwrite=True))
    assert read_models(out / "b.cif")[0].n_residues == 19


def test_pdb_limits_and_bad_inputs(tmp_path):
    st = gemmi.read_structure(str(shared_path("data", "structures", "1ehz.cif")))
    st[0][0].name = "LONG"
    st.setup_entities()
    big = tmp_path / "long_chain.cif"
    big.write_text(st.make_mmcif_document().as_string())
    with pytest.raises(StructureError, match="use --to cif"):
        export([big], tmp_path / "x.pdb", ExportOptions("pdb"))
    junk = tmp_path / "junk.cif"
    junk.write_text("")
    with pytest.raises(StructureError, match="junk.cif"):
        export([junk], tmp_path / "y.pdb", ExportOptions("pdb"))
    assert not (tmp_path / "x.pdb").exists() and not (tmp_path / "y.pdb").exists()


def test_cli_export_and_errors(tmp_path):
    src = str(shared_path("data", "structures", "1ATO.pdb"))
    out = tmp_path / "x.cif"
    r = runner.invoke(app, ["export", src, "--to", "cif", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and read_models(out)[0].n_residues == 19
    r = runner.invoke(app, ["export", src, "--to", "cif", "-o", str(out)])
    assert r.exit_code == 2 and "output exists" in r.output and str(out) in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(app, ["export", str(tmp_path / "missing.pdb"), "--to", "pdb", "-o", "y.pdb"])
    assert r.exit_code == 2 and "missing.pdb: no such file" in r.output
    r = runner.invoke(app, ["export", src, "--to", "xyz", "-o", "y"])
    assert r.exit_code == 2
    prot = str(shared_path("data", "structures", "6FC9.cif"))
    r = runner.invoke(app, ["export", prot, "--to", "c1-csv", "-o", str(tmp_path / "p.csv")])
    assert r.exit_code == 2 and "6FC9.cif: no RNA residues" in r.output


def test_all_or_nothing_when_one_input_is_bad(tmp_path, ensemble):
    path, _ = ensemble
    junk = tmp_path / "junk.pdb"
    junk.write_text("HEADER nothing here\n")
    out = tmp_path / "out"
    with pytest.raises(StructureError, match="junk.pdb"):
        export([path, junk], out, ExportOptions("cif"))
    assert not (out / "ens.cif").exists()
    with pytest.raises(InputError, match="same model files"):
        export([path, tmp_path / "ens.pdb"], out, ExportOptions("cif", split_models=True))


def test_text_targets_refuse_ambiguous_target_names(tmp_path, ensemble):
    path, models = ensemble
    twin = write_models(models[:1], tmp_path / "elsewhere" / "ens.pdb")
    with pytest.raises(InputError, match="same target name 'ens'"):
        export([path, twin], tmp_path / "x.csv", ExportOptions("c1-csv"))
    assert not (tmp_path / "x.csv").exists()


def test_cli_dash_means_standard_output(tmp_path, monkeypatch):
    """``-o -`` prints the one output on stdout; it used to write a file named '-'."""
    monkeypatch.chdir(tmp_path)
    src = str(shared_path("data", "structures", "1ATO.pdb"))
    r = runner.invoke(app, ["export", src, "--to", "fasta", "-o", "-"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith(">1ATO_A") and not (tmp_path / "-").exists()
    r = runner.invoke(app, ["export", src, "--to", "cif", "-o", "-"])
    assert r.exit_code == 0, r.output
    back = gemmi.make_structure_from_block(gemmi.cif.read_string(r.stdout).sole_block())
    assert back[0].count_atom_sites() == gemmi.read_structure(src)[0].count_atom_sites()
    r = runner.invoke(app, ["export", src, src, "--to", "pdb", "-o", "-"])
    assert r.exit_code == 2 and "standard output" in r.stderr
    r = runner.invoke(app, ["export", src, "--to", "pdb", "--split-models", "-o", "-"])
    assert r.exit_code == 2 and not list(tmp_path.iterdir())


def test_gz_output_is_gzipped_and_suffix_must_match_format(tmp_path):
    """``-o x.pdb.gz`` wrote plain text under a .gz name, and ``--to cif -o y.pdb`` wrote
    mmCIF into a .pdb file (which then failed to parse as PDB)."""
    src = shared_path("data", "structures", "1ATO.pdb")
    gz = tmp_path / "x.pdb.gz"
    export([src], gz, ExportOptions("pdb"))
    first = gz.read_bytes()
    assert first[:2] == b"\x1f\x8b"
    keys, xyz = _atoms(gz)
    keys0, xyz0 = _atoms(src)
    assert keys == keys0 and np.abs(xyz - xyz0).max() < 1e-3
    export([src], gz, ExportOptions("pdb", overwrite=True))
    assert gz.read_bytes() == first  # same input, same bytes (no timestamp in the header)
    for name, to in (("y.pdb", "cif"), ("y.cif.gz", "pdb"), ("y.cif", "fasta")):
        with pytest.raises(InputError, match=f"output name says .* but --to is {to}") as ei:
            export([src], tmp_path / name, ExportOptions(to))
        assert ei.value.file == str(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pdb.gz"]


def test_pdb_to_cif_has_entities_and_label_seq_ids(tmp_path):
    """A PDB without SEQRES exported to mmCIF had '.' for label_entity_id and label_seq_id
    (readers and validation tools then see no polymer); fold outputs already had them."""
    src = shared_path("data", "structures", "1ATO.pdb")
    out = tmp_path / "x.cif"
    export([src], out, ExportOptions("cif"))
    block = gemmi.cif.read(str(out)).sole_block()
    table = block.find("_atom_site.", ["label_entity_id", "label_seq_id", "auth_seq_id"])
    polymer = [row for row in table if row[0] == "1"]
    assert len(polymer) == len(table) > 0  # one RNA chain, nothing else
    first_auth = int(polymer[0][2])
    assert all(int(r[1]) == int(r[2]) - first_auth + 1 for r in polymer)
    assert block.find_value("_entity_poly.type") == "polyribonucleotide"
    keys, xyz = _atoms(out)
    keys0, xyz0 = _atoms(src)
    assert keys == keys0 and np.abs(xyz - xyz0).max() < 1e-6


@pytest.fixture
def gapped(tmp_path):
    """1EHZ with residues 20–22 deleted (author numbering 1–19, 23–76)."""
    native = read_structure(shared_path("data", "structures", "1ehz.cif"))
    keep = [i for i, n in enumerate(native.res_ids) if n not in (20, 21, 22)]
    path = tmp_path / "gap.pdb"
    write_models([native.select_residues(keep)], path)
    return path, native


def test_c1_csv_keeps_numbering_across_missing_residues(tmp_path, gapped):
    path, native = gapped
    out = tmp_path / "gap.csv"
    res = export([path], out, ExportOptions("c1-csv"))
    assert res.warnings == [
        "gap: chain A residues 20–22 missing: no rows for them; resid counts them"
    ]
    rows = {r.split(",")[2]: r.split(",") for r in out.read_text().splitlines()[1:]}
    assert "20" not in rows and "22" not in rows and len(rows) == 73
    c1, _ = native.atom_coords("C1'")
    i23 = int(np.flatnonzero(native.res_ids == 23)[0])
    assert rows["23"][0] == "gap_23" and rows["23"][1] == native.seq[i23]
    np.testing.assert_allclose([float(v) for v in rows["23"][3:6]], c1[i23], atol=5e-4)
    seq, xyz = read_c1_csv(out)["gap"]  # read back: the gap is N / NaN, positions line up
    assert len(seq) == 76 and seq[19:22] == "NNN" and np.isnan(xyz[:, 19:22]).all()
    assert seq[22:] == native.seq[22:]
    np.testing.assert_allclose(xyz[0, 22:], c1[22:], atol=5e-4)
    cli = runner.invoke(app, ["export", str(path), "--to", "c1-csv", "-o", str(tmp_path / "b.csv")])
    assert cli.exit_code == 0 and "warning: gap: chain A residues 20–22 missing" in cli.stderr


def test_fasta_marks_missing_residues_with_n(tmp_path, gapped):
    path, native = gapped
    out = tmp_path / "gap.fa"
    res = export([path], out, ExportOptions("fasta"))
    assert res.warnings == ["gap: chain A residues 20–22 missing: written as N"]
    seq = "".join(out.read_text().splitlines()[1:])
    assert seq == TRNA[:19] + "NNN" + TRNA[22:]
