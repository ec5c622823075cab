"""``fold --relax``: every ranked model is relaxed (ranking unchanged); a model whose relaxation
fails is kept unrelaxed and flagged in confidence.json, summary.tsv and the exit code."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.io.pdbio import read_models
from rnapredict.io.records import Record
from rnapredict.io.structure import RnaStructure
from rnapredict.pipeline.api import FoldOptions, Prediction, record_seed
from rnapredict.results.summary import read_summary
from tests.conftest import shared_path


class StructureEngine:
    """Returns an experimental all-atom model (relaxable) ranked first and, ranked second, the
    same physical model shifted 5 Å with residue names the force field has no template for
    (its relaxation fails; a collapsed model would now fail the record's model check)."""

    def __init__(self, model: RnaStructure) -> None:
        self.model = model

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        n = self.model.n_residues
        plddt = np.stack([np.linspace(60, 90, n), np.linspace(30, 50, n)])
        untemplated = dataclasses.replace(
            self.model.with_coords(self.model.coords + 5.0), res_names=["XYZ"] * n
        )
        models = [self.model.with_plddt(plddt[0]), untemplated.with_plddt(plddt[1])]
        return Prediction(
            record_id=record.id,
            sequence=record.seq,
            ss="." * n,
            ss_source="vienna",
            models=models,
            plddt=plddt,
            ptm=np.array([0.8, 0.4]),
            ranking_score=np.array([0.8, 0.4]),
            sample_index=[1, 0],
            seed=record_seed(options.seed, record.id),
            model_version="structure-0",
        )


@pytest.mark.slow
def test_relax_flags_failures_and_keeps_ranking(tmp_path: Path) -> None:
    model = read_models(shared_path("data", "structures", "1E7K_1_C.cif"))[0]
    fa = tmp_path / "in.fa"
    fa.write_text(f">x\n{model.seq}\n")
    out = tmp_path / "out"
    result = fold_inputs(
        [fa],
        out,
        FoldRunOptions(n_samples=2, relax=True, device="cpu"),
        engine=StructureEngine(model),
    )
    assert (result.ok, result.failed, result.relax_failed, result.exit_code) == (1, 0, 1, 3)
    (row,) = list(read_summary(out / "summary.tsv"))
    assert (row.status, row.relax) == ("ok", "failed 1/2")
    doc = json.loads((out / "x" / "confidence.json").read_text())
    assert doc["ranking"] == [1, 0] and doc["relax_failed"] == 1
    first, second = doc["models"][0]["relax"], doc["models"][1]["relax"]
    assert first["ok"] and first["energy_after"] < first["energy_before"]
    assert not second["ok"] and second["message"]
    relaxed = read_models(out / "x" / "model_1.pdb")[0]
    assert relaxed.atom_names == model.atom_names
    rmsd = float(np.sqrt(((relaxed.coords - model.coords) ** 2).sum(axis=1).mean()))
    assert 0.01 < rmsd < 1.0  # moved, but the fold is kept
    # pLDDT still in the B-factor column of the relaxed model.
    np.testing.assert_allclose(
        relaxed.b_factors[relaxed.residue_starts()[:-1]], doc["models"][0]["plddt"], atol=0.011
    )
    unrelaxed = read_models(out / "x" / "model_2.pdb")[0]
    np.testing.assert_allclose(unrelaxed.coords, model.coords + 5.0, atol=1e-3)
    assert "no standard A/C/G/U residue" in second["message"]
