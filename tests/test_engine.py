"""Engine: tiny random engine end to end (ranked models, confidence ranges, determinism)."""

from __future__ import annotations

import gemmi
import numpy as np
import pytest

from rnapredict.engine import tiny_engine
from rnapredict.io.pdbio import structure_text
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions, record_seed

REC = Record("hp1", "GGGCGCAAGCCUUCGGGCGCCCAAUU", ss="((((((....))))))..........")


@pytest.fixture(scope="module")
def engine():
    return tiny_engine(0)


def test_prediction_is_ranked_and_in_range(engine) -> None:
    p = engine.predict(REC, FoldOptions(n_samples=3, steps=6))
    assert p.ss == REC.ss and p.ss_source == "input"
    assert p.seed == record_seed(0, "hp1")
    assert sorted(p.sample_index) == [0, 1, 2]
    assert np.all(np.diff(p.ranking_score) <= 0)
    assert p.plddt.shape == (3, len(REC.seq))
    assert (p.plddt >= 0).all() and (p.plddt <= 100).all()
    assert ((p.ptm >= 0) & (p.ptm <= 1)).all()
    for m, pl in zip(p.models, p.plddt, strict=True):
        assert m.seq == REC.seq
        np.testing.assert_allclose(m.plddt, pl)
    # C1′ of the all-atom model is the sampled trace (the geometry's backbone closure may
    # nudge it, by well under a bond length even on this untrained model's wild traces);
    # the default clean-up moves C1′ a little (tests/test_geometry_cleanup.py), so not here.
    p = engine.predict(REC, FoldOptions(n_samples=3, steps=6, cleanup=False))
    c1, ok = p.models[0].atom_coords("C1'")
    assert ok.all()
    dev = np.linalg.norm(c1 - p.extra["c1"][0], axis=1)
    assert (dev < 1e-3).sum() >= len(dev) // 3 and dev.max() < 1.5
    cleaned = engine.predict(REC, FoldOptions(n_samples=3, steps=6)).models[0]
    moved = np.linalg.norm(cleaned.atom_coords("C1'")[0] - p.extra["c1"][0], axis=1)
    assert np.sqrt(np.mean(moved**2)) <= 0.5


def test_models_parse_with_gemmi_and_bonds_are_sane(engine) -> None:
    p = engine.predict(REC, FoldOptions(n_samples=1, steps=6))
    st = gemmi.read_pdb_string(structure_text(p.models[:1], "pdb"))
    res = list(st[0][0])
    assert len(res) == len(REC.seq)
    for r in res:
        d = r["C1'"][0].pos.dist(r["C2'"][0].pos)
        assert 1.3 < d < 1.7  # C1′–C2′ single bond
        assert 0.0 <= r["C1'"][0].b_iso <= 100.0


def test_same_seed_same_output_different_seed_differs(engine) -> None:
    a = engine.predict(REC, FoldOptions(n_samples=2, steps=5, seed=3))
    b = engine.predict(REC, FoldOptions(n_samples=2, steps=5, seed=3))
    c = engine.predict(REC, FoldOptions(n_samples=2, steps=5, seed=4))
    assert structure_text(a.models, "pdb") == structure_text(b.models, "pdb")
    assert not np.allclose(a.extra["c1"], c.extra["c1"])


def test_vienna_fallback_when_no_ss(engine) -> None:
    p = engine.predict(Record("v", "GGGGAAACCCC"), FoldOptions(n_samples=1, steps=4))
    assert p.ss_source == "vienna" and len(p.ss) == 11


def test_chunk_size_does_not_change_prediction(engine) -> None:
    a = engine.predict(REC, FoldOptions(n_samples=2, steps=5, chunk_size=None))
    b = engine.predict(REC, FoldOptions(n_samples=2, steps=5, chunk_size=4))
    np.testing.assert_allclose(a.extra["c1"], b.extra["c1"], atol=1e-3)


def test_a_cleanup_that_breaks_a_bond_is_reverted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: a clean-up result with a stretched bond is never written; the raw
    model (intact geometry) is kept and the reason recorded."""
    import numpy as np
    import torch

    import rnapredict.geometry.cleanup as cleanup_mod
    from rnapredict.geometry.aform import aform_c1
    from rnapredict.geometry.check import model_problem
    from rnapredict.pipeline.allatom import c1_models

    seq, ss = "GGGCGAAAGCCC", "((((....))))"
    c1 = np.asarray(aform_c1(seq, ss), dtype=np.float64)[None].repeat(2, 0)
    plddt = np.full((2, len(seq)), 70.0)
    real = cleanup_mod.clean_atoms
    calls = {"n": 0}

    def break_first(seq_, atoms, partner, config=None, **kwargs):  # noqa: ANN001, ANN202
        out = real(seq_, atoms, partner, config, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:  # stretch residue 3's C4′ bonds: move the atom by 2 Å
            out = out.clone()
            out[3, 5] += torch.tensor([2.0, 0.0, 0.0], dtype=out.dtype)
        return out

    monkeypatch.setattr(cleanup_mod, "clean_atoms", break_first)
    models, notes, passed = c1_models(seq, c1, [ss, ss], plddt, cleanup=True)
    assert all(model_problem(m) is None for m in models)
    assert notes[0] is not None and notes[0].startswith("clean-up reverted")
    assert notes[1] is None


def test_a_cleanup_that_breaks_one_residue_is_reverted_there_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the residue whose bond the clean-up stretched takes its raw coordinates; the
    others keep their clean-up (reverting the whole model kept every clash of the raw trace:
    clashscore 857 on a 990-nt fold for one stretched O5'–C5')."""
    import numpy as np
    import torch

    import rnapredict.geometry.cleanup as cleanup_mod
    from rnapredict.geometry.aform import aform_c1
    from rnapredict.geometry.check import bad_residues, model_problem
    from rnapredict.pipeline.allatom import c1_models

    seq, ss = "GGGCGAAAGCCC", "((((....))))"
    c1 = np.asarray(aform_c1(seq, ss), dtype=np.float64)[None]
    plddt = np.full((1, len(seq)), 70.0)
    real = cleanup_mod.clean_atoms

    def break_residue_3(seq_, atoms, partner, config=None, **kwargs):  # noqa: ANN001, ANN202
        out = real(seq_, atoms, partner, config, **kwargs).clone()
        out[3, 5] += torch.tensor([2.0, 0.0, 0.0], dtype=out.dtype)  # residue 3's C4′
        return out

    (raw,), _, _ = c1_models(seq, c1, [ss], plddt, cleanup=False)
    (clean,), (note,), _ = c1_models(seq, c1, [ss], plddt, cleanup=True)
    monkeypatch.setattr(cleanup_mod, "clean_atoms", break_residue_3)
    (mixed,), (note,), (passed,) = c1_models(seq, c1, [ss], plddt, cleanup=True)
    assert model_problem(mixed) is None and bad_residues(mixed) == []
    assert note is not None and note.startswith("clean-up reverted for 1 residue(s) (bond")
    starts = mixed.residue_starts()
    for i in range(len(seq)):
        want = raw if i == 3 else clean
        np.testing.assert_allclose(
            mixed.coords[starts[i] : starts[i + 1]], want.coords[starts[i] : starts[i + 1]]
        )


def test_a_reverted_cleanup_reaches_the_record_notes(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """The per-model clean-up note (confidence.json ``prior.geometry``) is also a record note,
    so progress output and ``--json`` show it."""
    import json

    import torch

    import rnapredict.geometry.cleanup as cleanup_mod
    from rnapredict.fold import FoldRunOptions, fold_inputs

    real = cleanup_mod.clean_atoms
    calls = {"n": 0}

    def break_first(seq_, atoms, partner, config=None, **kwargs):  # noqa: ANN001, ANN202
        out = real(seq_, atoms, partner, config, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:  # first model built (sample 1): stretch residue 3's C4′ bonds by 2 Å
            out = out.clone()
            out[3, 5] += torch.tensor([2.0, 0.0, 0.0], dtype=out.dtype)
        return out

    monkeypatch.setattr(cleanup_mod, "clean_atoms", break_first)
    fasta = tmp_path / "in.fa"
    fasta.write_text(">hp\nGGGCGAAAGCCC\n((((....))))\n")
    result = fold_inputs(
        [fasta], tmp_path / "out", FoldRunOptions(n_samples=2, steps=4, seed=0),
        engine=tiny_engine(seed=0),
    )  # fmt: skip
    assert result.exit_code == 0
    doc = json.loads((tmp_path / "out" / "hp" / "confidence.json").read_text())
    geometry = [m["prior"].get("geometry") for m in doc["models"]]
    (k,) = [k for k, g in enumerate(geometry, 1) if g and "clean-up reverted" in g]
    assert f"model {k}: {geometry[k - 1]}" in doc["notes"]
    assert doc["notes"] == [f"model {j}: {g}" for j, g in enumerate(geometry, 1) if g]


def test_one_device_rule_for_fold_and_engine() -> None:
    """fold and the engine resolve devices with one function (pipeline.api.resolve_device)."""
    import torch

    from rnapredict.engine.engine import FoldEngine
    from rnapredict.errors import RnapredictError
    from rnapredict.pipeline.api import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RnapredictError, match="no usable CUDA device"):
            resolve_device("cuda")
        with pytest.raises(RnapredictError, match="no usable CUDA device"):
            FoldEngine(tiny_engine(0).net, "t", device="cuda")  # was accepted, failed later
