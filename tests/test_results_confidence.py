"""``confidence_document(prediction, run)``: the prediction's confidence and provenance, the
run's settings, files, relaxation and timing, each in its place."""

from __future__ import annotations

import numpy as np

from rnapredict.pipeline.api import Prediction
from rnapredict.results.confidence import RecordRun, confidence_document


def _prediction(**extra: object) -> Prediction:
    return Prediction(
        record_id="hp",
        sequence="GGGAAACCC",
        ss="(((...)))",
        ss_source="vienna",
        models=[],
        plddt=np.array([[80.0] * 9, [60.0] * 8 + [69.0]]),
        ptm=np.array([0.71234, 0.5]),
        ranking_score=np.array([0.6, 0.5]),
        sample_index=[3, 0],
        seed=42,
        model_version="v1",
        extra={"weights_sha256": "abc", **extra},
        model_ss=["(((...)))", "((.....))"],
        model_prior=[
            {"source": "template", "template": "1ABC_A", "entry": "1ABC", "init_sigma": 1.0},
            {"source": "assembly"},
        ],
    )


RUN = RecordRun(
    name="hp",
    index=4,
    source="in.fa",
    sequence="GGGAAACCC",
    run_seed=7,
    settings={"n_samples": 2},
    files=[["model_1.pdb"], ["model_2.pdb"]],
    checksums={"model_1.pdb": {"bytes": 1, "sha256": "x"}},
    relax=[{"ok": True}, {"ok": False, "message": "no"}],
    time_s=1.23456,
    notes=["a note"],
)


def test_prediction_and_run_fill_their_own_fields() -> None:
    doc = confidence_document(_prediction(), RUN)
    assert (doc["id"], doc["name"], doc["index"], doc["source"]) == ("hp", "hp", 4, "in.fa")
    assert (doc["seed"], doc["run_seed"], doc["length"]) == (42, 7, 9)
    assert doc["weights_sha256"] == "abc" and doc["model_version"] == "v1"
    assert doc["ranking"] == [3, 0] and doc["time_s"] == 1.235
    assert doc["mean_plddt"] == 80.0 and doc["ptm"] == 0.7123
    assert doc["relax_failed"] == 1 and doc["notes"] == ["a note"]
    assert doc["secondary_structure"] == {"dot_bracket": "(((...)))", "source": "vienna"}
    m2 = doc["models"][1]
    assert (m2["rank"], m2["files"], m2["sample_index"], m2["mean_plddt"]) == (
        2,
        ["model_2.pdb"],
        0,
        61.0,
    )
    assert m2["secondary_structure"] == "((.....))" and m2["relax"]["ok"] is False
    assert doc["templates"] == [{"template": "1ABC_A", "entry": "1ABC"}]
    assert "probing" not in doc and "probing_agreement" not in m2


def test_probing_agreement_goes_to_each_model() -> None:
    probing = {"kind": "shape", "model_agreement": [0.9, 0.4]}
    doc = confidence_document(_prediction(probing=probing), RUN)
    assert doc["probing"] == {"kind": "shape"}
    assert [m["probing_agreement"] for m in doc["models"]] == [0.9, 0.4]


def test_without_relax_the_relax_fields_are_absent() -> None:
    run = RecordRun("hp", 0, "in.fa", "GGGAAACCC", 0, {}, [["m1"], ["m2"]])
    doc = confidence_document(_prediction(), run)
    assert doc["relax_failed"] is None and "relax" not in doc["models"][0]
    assert doc["checksums"] == {} and doc["notes"] == [] and doc["time_s"] == 0.0


def test_ranking_provenance_goes_to_the_document() -> None:
    """How models were ranked (record level) and each model's network values and consensus;
    absent where the prediction does not carry them (older outputs stay as they were)."""
    ranked_by = {"score": "0.8·pTM + 0.2·mean pLDDT/100", "ptm_blend": [0.3, 0.5, 0.0]}
    network = {"ptm": np.array([0.81234, 0.4]), "mean_plddt": np.array([77.777, 60.0])}
    doc = confidence_document(
        _prediction(ranked_by=ranked_by, network=network, consensus=np.array([0.61234, 0.5])),
        RUN,
    )
    assert doc["ranked_by"] == ranked_by
    assert doc["models"][0]["network"] == {"ptm": 0.8123, "mean_plddt": 77.78}
    assert [m["consensus"] for m in doc["models"]] == [0.6123, 0.5]
    lone = confidence_document(_prediction(consensus=np.array([np.nan, np.nan])), RUN)
    assert "ranked_by" not in lone and "consensus" not in lone["models"][0]
    assert "network" not in lone["models"][0]
