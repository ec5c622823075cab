"""score_structures / score_models / `rnapredict score`: self-score, invariance, bad inputs."""

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
from rnapredict.io.structure import RnaStructure
from rnapredict.score.api import ScoreOptions, score_models, score_structures
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
def test_residue_matching_fallbacks() -> None:
    ref = read_structure(fixture("natives", "5m0h_A.pdb"))
    renumbered = replace(ref, res_ids=ref.res_ids + 100)
    assert score_structures(renumbered, ref).matched_by == "order"
    renamed = replace(ref, chain_ids=["Z"] * ref.n_residues)
    assert score_structures(renamed, ref).matched_by == "number (chain ignored)"
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
@pytest.mark.shared
def test_cli_json_tsv_and_best_of(tmp_path: Path) -> None:
    ref = str(fixture("natives", "1ehz_A.pdb"))
    models = [str(fixture("models", f"1ehz_A__{k}.pdb")) for k in ("noise1", "hinge30")]
    r = runner.invoke(app, ["score", *models, "--ref", ref, "--json", "--atom", "C1'"])
    assert r.exit_code == 0, r.output
    payload = json.loads(r.stdout)
    tms = [x["tm_ref"] for x in payload["results"]]
    assert tms == pytest.approx([0.6608, 0.5420], abs=1e-4)
    assert payload["best"]["model"] == models[0]
    assert len(payload["results"][0]["lddt_per_residue"]) == 62
    r = runner.invoke(app, ["score", *models, "--ref", ref, "--tsv", "--no-clash"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["model", "tm_ref", "tm_model"] and len(lines) == 3
    assert lines[1].split("\t")[1] == "0.6855" and lines[1].split("\t")[-1] == "NA"
    assert "best of 2" in r.stderr


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
    assert r.exit_code == 0 and json.loads(r.stdout)["results"][0]["aligned"] == 57


@pytest.mark.shared
def test_c1_only_model_gets_a_hint_and_scores_with_c1() -> None:
    ref = read_structure(fixture("natives", "1ehz_A.pdb"))
    c1 = ref.select_atoms(np.array([a == "C1'" for a in ref.atom_names]))
    with pytest.raises(ScoringError, match=r"c1only\.pdb.*--atom \"C1'\""):
        score_structures(c1, ref, model_name="c1only.pdb")
    res = score_structures(c1, ref, ScoreOptions(atom="C1'"))
    assert res.tm.tm_ref == pytest.approx(1.0) and res.rmsd_all_atom == pytest.approx(0.0)
    assert res.inf is not None and res.inf.all == 0.0  # no bases: no interactions found
