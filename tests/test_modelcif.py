"""ModelCIF output (issue 26) and mmCIF conventions (issue 23): python-modelcif, the
reference implementation, reads every file back; gemmi reads them as before; the per-residue
pLDDT of ``_ma_qa_metric_local`` equals the B-factors; export keeps it all."""

from __future__ import annotations

import json
from pathlib import Path

import gemmi
import numpy as np
import pytest

from rnapredict import __version__
from rnapredict.io.export import ExportOptions, export
from rnapredict.io.modelcif import ModelProvenance
from rnapredict.io.pdbio import read_models, write_models
from rnapredict.io.structure import RnaStructure

modelcif_reader = pytest.importorskip("modelcif.reader")
qa = pytest.importorskip("modelcif.qa_metric")

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_PRIOR = {
    "source": "template",
    "template": "1EHZ_A",
    "entry": "1EHZ",
    "chain": "A",
    "identity": 0.97,
    "coverage": 1.0,
    "release_date": "1999-05-26",
    "ss_source": "vienna",
}


def _chain(n: int) -> RnaStructure:
    xyz = np.stack([np.arange(n) * 6.0, np.zeros(n), np.zeros(n)], 1)
    return RnaStructure.from_residues("GGAC"[:n], [{"C1'": x} for x in xyz])


def _read_modelcif(path: Path):
    with open(path) as fh:
        systems = modelcif_reader.read(fh)
    assert len(systems) == 1
    return systems[0]


def check_modelcif(path: Path, ptm: float | None = None) -> object:
    """python-modelcif reads ``path``; its local pLDDT equals each residue's B-factors and its
    global pLDDT their mean; gemmi reads the RNA as before. Returns the modelcif System."""
    system = _read_modelcif(path)
    models = [m for group in system.model_groups for m in group]
    assert len(models) == 1
    model = models[0]
    local = {
        (q.residue.asym.id, q.residue.seq_id): q.value
        for q in model.qa_metrics
        if isinstance(q, qa.Local) and isinstance(q, qa.PLDDT)
    }
    st = gemmi.read_structure(str(path))
    b = {(r.subchain, r.label_seq): {a.b_iso for a in r} for chain in st[0] for r in chain}
    assert set(local) == set(b)
    for key, value in local.items():
        assert len(b[key]) == 1 and abs(b[key].pop() - value) < 1e-3
    glob = {
        type(q).__mro__[1].__name__: q.value for q in model.qa_metrics if isinstance(q, qa.Global)
    }
    assert abs(glob["PLDDT"] - np.mean(list(local.values()))) < 0.01
    if ptm is not None:
        assert abs(glob["PTM"] - ptm) < 1e-4
    assert "rnapredict" in [s.name for s in system.software]
    assert next(s for s in system.software if s.name == "rnapredict").version == __version__
    assert read_models(path)[0].n_residues == len(local)
    return system


def test_template_model_is_modelcif_with_template_reference(tmp_path):
    m = _chain(4).with_plddt(np.array([10.0, 50.25, 90.5, 77.75]))
    made = ModelProvenance(
        ss="(..)",
        ss_source="vienna",
        prior=TEMPLATE_PRIOR,
        ptm=0.4321,
        model_version="t",
        relax={"ok": True},
    )
    write_models([m], tmp_path / "m.cif", title="rec rank 1", provenance=made)
    system = check_modelcif(tmp_path / "m.cif", ptm=0.4321)
    steps = [(s.method_type, s.name) for p in system.protocols for s in p.steps]
    assert steps == [
        ("other", "secondary structure"),
        ("template search", "template search"),
        ("modeling", "structure prediction"),
        ("model refinement", "clean-up"),
        ("model refinement", "relax"),
    ]
    assert {s.name for s in system.software} == {"rnapredict", "ViennaRNA", "OpenMM"}
    (tmpl,) = system.templates
    assert [(r.name, r.accession) for r in tmpl.references] == [("PDB", "1EHZ")]
    assert tmpl.strand_id == "A"
    local = read_models(tmp_path / "m.cif")[0].b_factors
    assert local.tolist() == [10.0, 50.25, 90.5, 77.75]


def test_fold_cif_models_are_modelcif_and_export_keeps_them(tmp_path):
    engine_mod = pytest.importorskip("rnapredict.engine")
    from rnapredict.fold import FoldRunOptions, fold_inputs
    from tests.test_fold_support import StubEngine

    out = tmp_path / "out"
    result = fold_inputs(
        [REPO / "examples" / "hairpins.fa"],
        out,
        FoldRunOptions(n_samples=2, steps=2, seed=0, device="cpu", fmt="cif"),
        engine=engine_mod.tiny_engine(seed=0),
    )
    assert result.failed == 0
    files = sorted(out.glob("*/model_*.cif"))
    assert len(files) == 8
    for path in files:
        doc = json.loads((path.parent / "confidence.json").read_text())
        model = next(m for m in doc["models"] if path.name in m["files"])
        system = check_modelcif(path, ptm=model["ptm"])
        names = [s.name for p in system.protocols for s in p.steps]
        assert names[0] == "secondary structure" and "structure prediction" in names
        assert model["secondary_structure"] in system.protocols[0].steps[0].details
    # export --to cif keeps the ModelCIF categories; to PDB and back keeps the REMARKs
    src = files[0]
    export([src], tmp_path / "x.cif", ExportOptions(to="cif"))
    check_modelcif(tmp_path / "x.cif")
    before = gemmi.cif.read(str(src)).sole_block()
    after = gemmi.cif.read(str(tmp_path / "x.cif")).sole_block()
    for cat in ("_ma_qa_metric_local.", "_ma_protocol_step.", "_ma_qa_metric_global."):
        rows = [list(r) for r in after.find_mmcif_category(cat)]
        assert rows and rows == [list(r) for r in before.find_mmcif_category(cat)]
    # a fold model written as PDB becomes ModelCIF from the confidence.json beside it
    pdb_dir = tmp_path / "pdb_out"
    fold_inputs(
        [REPO / "examples" / "hairpins.fa"],
        pdb_dir,
        FoldRunOptions(n_samples=1, steps=2, seed=0, device="cpu", fmt="pdb"),
        engine=StubEngine(),  # a sane trace: the tiny random model's does not fit PDB columns
    )
    model_pdb = pdb_dir / "UUCG_hairpin" / "model_1.pdb"
    doc = json.loads((model_pdb.parent / "confidence.json").read_text())
    export([model_pdb], tmp_path / "from_pdb.cif", ExportOptions(to="cif"))
    check_modelcif(tmp_path / "from_pdb.cif", ptm=doc["models"][0]["ptm"])
    # ... but not once the file was edited (it is no longer the model described)
    edited = tmp_path / "edited" / "UUCG_hairpin"
    edited.mkdir(parents=True)
    (edited / "confidence.json").write_text(json.dumps(doc))
    (edited / "model_1.pdb").write_text(model_pdb.read_text().replace(" 1.00 ", " 0.50 ", 1))
    export([edited / "model_1.pdb"], tmp_path / "edited.cif", ExportOptions(to="cif"))
    assert "_ma_qa_metric" not in (tmp_path / "edited.cif").read_text()
    export([src], tmp_path / "x.pdb", ExportOptions(to="pdb"))
    pdb = (tmp_path / "x.pdb").read_text().splitlines()
    assert f"REMARK   1 GENERATED BY rnapredict {__version__}" in [ln.rstrip() for ln in pdb]
    assert not any(ln.startswith("CRYST1") for ln in pdb)


PDB_WITH_WATER = """\
REMARK   1 TEMPLATE 1ABC CHAIN A IDENTITY 0.90
REMARK 250 EXPERIMENT TYPE: COMPUTATIONAL
ATOM      1  P     G A   1       0.000   0.000   0.000  1.00 50.00           P
ATOM      2  C1'   G A   1       1.000   0.000   0.000  1.00 50.00           C
ATOM      3  P     C A   2       6.000   0.000   0.000  1.00 50.00           P
ATOM      4  C1'   C A   2       7.000   0.000   0.000  1.00 50.00           C
HETATM    5  O   HOH A 101      10.000   0.000   0.000  1.00 50.00           O
ATOM      6  P     U B   1      20.000   0.000   0.000  1.00 50.00           P
ATOM      7  C1'   U B   1      21.000   0.000   0.000  1.00 50.00           C
END
"""


def test_pdb_to_cif_to_pdb_keeps_remarks_no_cell_proper_asym_ids(tmp_path):
    (tmp_path / "a.pdb").write_text(PDB_WITH_WATER)
    export([tmp_path / "a.pdb"], tmp_path / "a.cif", ExportOptions(to="cif"))
    st = gemmi.read_structure(str(tmp_path / "a.cif"))
    asym = {(c.name, r.name): r.subchain for c in st[0] for r in c}
    # polymers keep their chain's name; the water gets the next free id
    assert asym == {("A", "G"): "A", ("A", "C"): "A", ("A", "HOH"): "C", ("B", "U"): "B"}
    export([tmp_path / "a.cif"], tmp_path / "b.pdb", ExportOptions(to="pdb"))
    lines = [ln.rstrip() for ln in (tmp_path / "b.pdb").read_text().splitlines()]
    assert "REMARK   1 TEMPLATE 1ABC CHAIN A IDENTITY 0.90" in lines
    assert "REMARK 250 EXPERIMENT TYPE: COMPUTATIONAL" in lines
    assert not any(ln.startswith("CRYST1") for ln in lines)
    back = gemmi.read_structure(str(tmp_path / "b.pdb"))
    assert [a.pos.x for r in back[0]["A"] for a in r] == [0.0, 1.0, 6.0, 7.0, 10.0]
