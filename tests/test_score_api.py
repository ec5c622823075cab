"""score_structures / score_models / `rnapredict score`: self-score, invariance, bad inputs,
NA metrics on coarse structures, JSON Lines."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rnapredict.cli import app
from rnapredict.errors import ScoringError
from rnapredict.io.pdbio import read_structure, write_models
from rnapredict.io.structure import BASE_ATOMS, NUCLEOTIDE_ATOMS, RnaStructure
from rnapredict.score.api import ScoreOptions, score_models, score_structures
from rnapredict.score.completeness import atom_fraction
from rnapredict.score.report import summary_line
from tests.conftest import shared_path

runner = CliRunner()


def fixture(*parts: str) -> Path:
    return shared_path("fixtures", "score", *parts)


def rotated(model: RnaStructure, seed: int) -> RnaStructure:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    return model.with_coords(model.coords @ q.T + np.array([30.0, -12.0, 7.5]))


@pytest.mark.shared
@pytest.mark.parametrize("align", ["index", "structure"])
def test_self_score_is_perfect(align: str) -> None:
    ref = read_structure(fixture("natives", "1ehz_A.pdb"))
    res = score_structures(rotated(ref, 0), ref, ScoreOptions(align=align))
    assert res.tm.tm_ref == pytest.approx(1.0) and res.tm.tm_model == pytest.approx(1.0)
    assert res.tm.rmsd == pytest.approx(0.0, abs=1e-6)
    assert res.rmsd_all_atom == pytest.approx(0.0, abs=1e-6)
    assert res.lddt == pytest.approx(1.0) and res.tm.gdt_ts == pytest.approx(1.0)
    assert res.inf is not None
    assert (res.inf.all, res.inf.wc, res.inf.nwc, res.inf.stack) == pytest.approx((1, 1, 1, 1))
    assert res.tm.aligned == ref.n_residues


@pytest.mark.shared
@pytest.mark.parametrize(
    ("align", "name"), [("index", "1ehz_A__res3"), ("structure", "1ATO_A__noise1")]
)
def test_scores_invariant_to_rigid_motion(align: str, name: str) -> None:
    ref_name = name.split("__")[0]
    ref = read_structure(fixture("natives", f"{ref_name}.pdb"))
    model = read_structure(fixture("models", f"{name}.pdb"))
    opts = ScoreOptions(align=align)
    a = score_structures(model, ref, opts).to_dict(details=False)
    b = score_structures(rotated(model, 1), ref, opts).to_dict(details=False)
    for key, value in a.items():
        if isinstance(value, float):
            assert b[key] == pytest.approx(value, abs=1e-6), key
        else:
            assert b[key] == value, key


@pytest.mark.shared
def test_missing_representative_atom_is_skipped_and_counted() -> None:
    ref = read_structure(fixture("natives", "1ehz_A.pdb"))
    drop = np.array(
        [not (a == "C3'" and ref.atom_res[k] in (4, 9)) for k, a in enumerate(ref.atom_names)]
    )
    model = ref.select_atoms(drop)
    res = score_structures(model, ref, ScoreOptions())
    assert res.skipped_model == 2 and res.tm.aligned == ref.n_residues - 2
    assert res.tm.tm_ref == pytest.approx((ref.n_residues - 2) / ref.n_residues)
    per_res = dict(res.lddt_per_residue)
    assert per_res[ref.residue_labels()[4]] == pytest.approx(0.0)


@pytest.mark.shared
@pytest.mark.parametrize("align", ["index", "structure"])
def test_renumbered_or_renamed_copy_scores_perfectly(align: str) -> None:
    ref = read_structure(fixture("natives", "5m0h_A.pdb"))
    shifted = replace(ref, res_ids=ref.res_ids + 100)
    renamed = replace(ref, chain_ids=["Z"] * ref.n_residues)
    both = replace(renamed, res_ids=ref.res_ids + 100)
    how = {"index": ["order", "number (chain ignored)", "order"], "structure": ["structure"] * 3}
    for k, copy in enumerate((shifted, renamed, both)):
        res = score_structures(rotated(copy, k), ref, ScoreOptions(align=align))
        assert res.matched_by == how[align][k]
        assert res.tm.tm_ref == pytest.approx(1.0, abs=1e-6)
        assert res.tm.tm_model == pytest.approx(1.0, abs=1e-6)
        assert res.tm.aligned == ref.n_residues and res.tm.rmsd == pytest.approx(0, abs=1e-6)
        assert res.rmsd_all_atom == pytest.approx(0.0, abs=1e-6)
        assert res.lddt == pytest.approx(1.0)
        assert res.inf is not None and res.inf.all == pytest.approx(1.0)


@pytest.mark.shared
def test_other_rna_is_refused_in_index_mode() -> None:
    ref = read_structure(fixture("natives", "5m0h_A.pdb"))
    other = read_structure(fixture("natives", "1ehz_A.pdb"))
    with pytest.raises(ScoringError, match="other.pdb"):
        score_structures(other, ref, model_name="other.pdb")


@pytest.mark.shared
def test_score_models_reads_files_and_names_bad_ones(tmp_path: Path) -> None:
    ref = fixture("natives", "1ehz_A.pdb")
    good = fixture("models", "1ehz_A__noise1.pdb")
    results = score_models([good, ref], ref, ScoreOptions(interactions=False, clashes=False))
    assert results[0].tm.tm_ref == pytest.approx(0.6855, abs=1e-4)
    assert results[1].tm.tm_ref == pytest.approx(1.0)
    tiny = read_structure(ref).select_residues([0, 1])
    write_models([tiny], tmp_path / "tiny.pdb")
    with pytest.raises(ScoringError, match="tiny.pdb"):
        score_models([tmp_path / "tiny.pdb"], ref)


# ----------------------------------------------------------------------------- CLI
def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.shared
def test_cli_json_lines_tsv_and_best_of(tmp_path: Path) -> None:
    ref = str(fixture("natives", "1ehz_A.pdb"))
    models = [str(fixture("models", f"1ehz_A__{k}.pdb")) for k in ("noise1", "hinge30")]
    r = runner.invoke(app, ["score", *models, "--ref", ref, "--json", "--atom", "C1'"])
    assert r.exit_code == 0, r.output
    rows = json_lines(r.stdout)
    assert [x["model"] for x in rows] == models and {x["ref"] for x in rows} == {ref}
    assert {x["status"] for x in rows} == {"ok"} and {x["atom"] for x in rows} == {"C1'"}
    assert [x["tm_ref"] for x in rows] == pytest.approx([0.6608, 0.5420], abs=1e-4)
    assert len(rows[0]["lddt_per_residue"]) == 62
    assert rows[0]["inf_all"] == pytest.approx(0.4596, abs=1e-4) and rows[0]["na"] == {}
    assert rows[0]["clashscore"] > 100 and rows[0]["n_clashes"] > 0  # per-atom noise 1 Å
    assert "best of 2: " + models[0] in r.stderr
    r = runner.invoke(app, ["score", *models, "--ref", ref, "--tsv", "--no-clash"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["model", "tm_ref", "tm_model"] and len(lines) == 3
    assert lines[1].split("\t")[1] == "0.6855" and lines[1].split("\t")[-1] == "NA"
    assert "best of 2" in r.stderr


@pytest.mark.shared
def test_cli_c1_only_model_and_reference_print_na(tmp_path: Path) -> None:
    native = read_structure(fixture("natives", "1ehz_A.pdb"))
    c1 = native.select_atoms(np.array([a == "C1'" for a in native.atom_names]))
    write_models([c1], tmp_path / "c1.pdb")
    # reference missing C1' in residues 3 and 7: warned once, counted in every result
    holes = native.select_atoms(
        np.array([not (a == "C1'" and native.atom_res[k] in (3, 7))
                  for k, a in enumerate(native.atom_names)])
    )  # fmt: skip
    write_models([holes], tmp_path / "ref.pdb")
    ref, c1_path = str(tmp_path / "ref.pdb"), str(tmp_path / "c1.pdb")
    good = str(fixture("models", "1ehz_A__noise1.pdb"))
    args = ["score", c1_path, good, "--ref", ref, "--atom", "C1'"]
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    bad, ok = json_lines(r.stdout)
    assert bad["inf_all"] is None and bad["clashscore"] is None and bad["rmsd_all_atom"] is None
    assert set(bad["na"]) == {"inf", "clashscore", "rmsd_all_atom"}
    assert ok["inf_all"] > 0.3 and ok["clashscore"] > 100 and ok["na"] == {}
    assert bad["skipped_ref_residues"] == ok["skipped_ref_residues"] == 2
    assert r.stderr.count("ref.pdb (reference): 2 residue(s) without atom C1' skipped") == 1
    assert f"note: {c1_path}: NA: all-heavy-atom RMSD" in r.stderr
    assert "best of 2: " + c1_path in r.stderr
    r = runner.invoke(app, [*args, "--tsv"])
    cols = dict(zip(*(line.split("\t") for line in r.stdout.splitlines()[:2]), strict=True))
    assert [cols[k] for k in ("rmsd_all_atom", "inf_all", "clashscore")] == ["NA"] * 3
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and r.stdout.count(" NA ") == 2  # c1.pdb's INF and clash
    # a C1'-only reference: INF NA for every model, said once
    r = runner.invoke(app, ["score", good, good, "--ref", c1_path, "--atom", "C1'", "--json"])
    assert [x["inf_all"] for x in json_lines(r.stdout)] == [None, None]
    assert r.stderr.count("INF NA for every model") == 1 and "INF NA" in r.stderr


@pytest.mark.shared
def test_cli_errors_name_the_file(tmp_path: Path) -> None:
    ref = str(fixture("natives", "1ehz_A.pdb"))
    empty = tmp_path / "empty.pdb"
    empty.write_text("")
    garbage = tmp_path / "garbage.cif"
    garbage.write_text("not a structure\n")
    trim = str(fixture("models", "1ehz_A__trim5.pdb"))
    good = str(fixture("models", "1ehz_A__noise1.pdb"))
    r = runner.invoke(app, ["score", str(empty), str(garbage), trim, good, "--ref", ref, "--tsv"])
    assert r.exit_code == 3
    assert "empty.pdb" in r.stderr and "garbage.cif" in r.stderr and "trim5.pdb" in r.stderr
    assert "sequence differs" in r.stderr and "Traceback" not in r.output
    assert len(r.stdout.strip().splitlines()) == 2  # header + the good model
    r = runner.invoke(app, ["score", good, "--ref", str(empty)])
    assert r.exit_code == 2 and "empty.pdb" in r.stderr
    r = runner.invoke(app, ["score", good, "--ref", ref, "--align", "sideways"])
    assert r.exit_code == 2 and "--align" in r.stderr
    r = runner.invoke(app, ["score", trim, "--ref", ref, "--align", "structure", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["aligned"] == 57
    r = runner.invoke(app, ["score", str(garbage), good, "--ref", ref, "--json", "--no-inf"])
    failed, ok = json_lines(r.stdout)
    assert r.exit_code == 3 and failed["status"] == "failed" and ok["status"] == "ok"
    assert failed["model"] == str(garbage) and "garbage.cif" in failed["error"]
    assert failed["ref"] == ok["ref"] == ref and ok["error"] is None


@pytest.mark.shared
def test_c1_only_model_gets_a_hint_and_scores_with_c1() -> None:
    ref = read_structure(fixture("natives", "1ehz_A.pdb"))
    c1 = ref.select_atoms(np.array([a == "C1'" for a in ref.atom_names]))
    with pytest.raises(ScoringError, match=r"c1only\.pdb.*--atom \"C1'\""):
        score_structures(c1, ref, model_name="c1only.pdb")
    res = score_structures(c1, ref, ScoreOptions(atom="C1'"))
    assert res.tm.tm_ref == pytest.approx(1.0) and res.lddt == pytest.approx(1.0)
    # no bases, no heavy atoms: NA with a reason, not INF 0 / clashscore 0 / RMSD over C1' only
    assert res.inf is None and res.clash is None and res.rmsd_all_atom is None
    assert set(res.na) == {"inf", "clashscore", "rmsd_all_atom"}
    assert "model has 0% of the standard base atoms" in res.na["inf"]
    d = res.to_dict(details=False)
    assert [d[k] for k in ("inf_all", "inf_wc", "clashscore", "n_clashes", "rmsd_all_atom")] == [
        None
    ] * 5
    # the same the other way round: an all-atom model against a C1'-only reference
    back = score_structures(ref, c1, ScoreOptions(atom="C1'"))
    assert back.inf is None and back.rmsd_all_atom is None and back.clash is not None
    assert back.na["inf"].startswith("the reference has 0%") and "clashscore" not in back.na
    # switched off: None without a reason
    off = score_structures(c1, ref, ScoreOptions(atom="C1'", interactions=False, clashes=False))
    assert set(off.na) == {"rmsd_all_atom"}


@pytest.mark.shared
def test_atom_fraction_counts_standard_heavy_atoms() -> None:
    ref = read_structure(fixture("natives", "1ehz_A.pdb"))
    assert atom_fraction(ref) == 1.0 and atom_fraction(ref, part="base") == 1.0
    c1 = ref.select_atoms(np.array([a == "C1'" for a in ref.atom_names]))
    per_nt = sum(len(NUCLEOTIDE_ATOMS[b]) for b in ref.seq)
    assert atom_fraction(c1) == pytest.approx(ref.n_residues / per_nt)
    assert atom_fraction(c1, part="base") == 0.0
    # bases removed from the first half of the residues
    half = np.arange(ref.n_residues // 2)
    base_names = {a for atoms in BASE_ATOMS.values() for a in atoms}
    keep = np.array(
        [not (ref.atom_res[k] in half and a in base_names) for k, a in enumerate(ref.atom_names)]
    )
    stripped = ref.select_atoms(keep)
    assert atom_fraction(stripped, half, part="base") == 0.0
    assert atom_fraction(stripped, half + len(half), part="base") == 1.0
    kept = sum(len(BASE_ATOMS[b]) for b in ref.seq[len(half) :])
    frac = kept / sum(len(BASE_ATOMS[b]) for b in ref.seq)
    assert atom_fraction(stripped, part="base") == pytest.approx(frac)
    res = score_structures(stripped, ref)  # about half the bases: INF NA
    assert res.inf is None and f"model has {100 * frac:.0f}% of the standard base" in res.na["inf"]


@pytest.mark.shared
def test_best_of_line_copes_with_na() -> None:
    ref = read_structure(fixture("natives", "1ehz_A.pdb"))
    c1 = ref.select_atoms(np.array([a == "C1'" for a in ref.atom_names]))
    res = score_structures(rotated(c1, 0), ref, ScoreOptions(atom="C1'"), model_name="c1.pdb")
    assert summary_line([res]) == (
        "best of 1: c1.pdb TM-score 1.0000 (mean 1.0000), lDDT 1.000, INF NA"
    )
    no_lddt = replace(res, lddt=float("nan"), model="x.pdb")
    no_tm = replace(res, tm=replace(res.tm, tm_ref=float("nan")), model="y.pdb")
    assert summary_line([no_tm, no_lddt]) == (
        "best of 1 scored of 2: x.pdb TM-score 1.0000 (mean 1.0000), lDDT NA, INF NA"
    )
    assert summary_line([no_tm]) == "none of 1 has a TM-score"
    assert summary_line([]) == "no model scored"


@pytest.mark.shared
def test_cli_multi_model_files_say_only_model_1_is_scored(tmp_path: Path) -> None:
    native = read_structure(fixture("natives", "1ehz_A.pdb"))
    ens = tmp_path / "ens.pdb"
    write_models([native, rotated(native, 3)], ens)
    r = runner.invoke(app, ["score", str(ens), "--ref", str(ens), "--json", "--no-inf"])
    assert r.exit_code == 0, r.output
    (row,) = json_lines(r.stdout)
    assert row["tm_ref"] == pytest.approx(1.0)
    assert f"warning: {ens}: 2 models in the file; only model 1 is scored" in r.stderr
    assert f"note: {ens} (reference): 2 models in the file; model 1 is the reference" in r.stderr
    single = tmp_path / "one.pdb"
    write_models([native], single)
    r = runner.invoke(app, ["score", str(single), "--ref", str(single), "--no-inf"])
    assert r.exit_code == 0 and "models in the file" not in r.stderr


@pytest.mark.shared
def test_cli_directory_given_as_structure_is_named_as_such(tmp_path: Path) -> None:
    ref = str(fixture("natives", "1ehz_A.pdb"))
    r = runner.invoke(app, ["score", str(tmp_path), "--ref", ref])
    assert r.exit_code == 3 and f"{tmp_path}: is a directory, not a structure file" in r.stderr
    r = runner.invoke(app, ["score", ref, "--ref", str(tmp_path)])
    assert r.exit_code == 2 and "is a directory" in r.stderr
