"""``score --align sequence`` (issue 26): a reference with an insertion, a deletion and point
mutations against the model; the correspondence comes from a global sequence alignment and
agrees with the structure alignment (TM-align) on a near-native model."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from rnapredict.cli import app
from rnapredict.errors import ScoringError
from rnapredict.io.pdbio import read_structure, write_models
from rnapredict.io.structure import RnaStructure
from rnapredict.score.api import ScoreOptions, score_structures
from rnapredict.score.seqalign import align_sequences
from tests.conftest import shared_path

MUTATE = {"A": "G", "G": "A", "C": "U", "U": "C"}


def _isolated(seq: str, near: int) -> int:
    """A position near ``near`` whose neighbours differ from it (a gap there is unambiguous)."""
    return next(i for i in range(near, len(seq) - 1) if seq[i - 1] != seq[i] != seq[i + 1])


def _pair() -> tuple[RnaStructure, RnaStructure, list[tuple[int, int]]]:
    """(model, reference, true (model, reference) index pairs) built from 1EHZ: the model
    lacks one residue (an insertion in the reference), the reference lacks another (a
    deletion) and carries two point mutations; the reference is renumbered 1..L."""
    native = read_structure(shared_path("fixtures", "score", "natives", "1ehz_A.pdb"))
    seq = native.seq
    gone_model, gone_ref = _isolated(seq, 40), _isolated(seq, 20)
    noise = np.random.default_rng(0).normal(0, 0.4, native.coords.shape)
    keep_m = [i for i in range(native.n_residues) if i != gone_model]
    keep_r = [i for i in range(native.n_residues) if i != gone_ref]
    model = native.with_coords(native.coords + noise).select_residues(keep_m)
    ref = native.select_residues(keep_r)
    mutated = {10, 60}  # reference indices
    names = [
        MUTATE[b] if j in mutated else n
        for j, (n, b) in enumerate(zip(ref.res_names, ref.seq, strict=True))
    ]
    rseq = "".join(MUTATE[b] if j in mutated else b for j, b in enumerate(ref.seq))
    ref = replace(ref, res_names=names, seq=rseq, res_ids=np.arange(1, ref.n_residues + 1))
    truth = [(keep_m.index(o), j) for j, o in enumerate(keep_r) if o in keep_m]
    return model, ref, truth


@pytest.mark.shared
def test_sequence_alignment_recovers_the_true_correspondence():
    model, ref, truth = _pair()
    m = align_sequences(model.seq, ref.seq)
    got = [(int(i), j) for j, i in enumerate(m.ref2model) if i >= 0]
    assert got == truth
    assert m.identity == pytest.approx((len(truth) - 2) / len(truth))
    assert m.coverage == pytest.approx(len(truth) / ref.n_residues)


@pytest.mark.shared
def test_score_align_sequence_agrees_with_structure_alignment():
    model, ref, truth = _pair()
    with pytest.raises(ScoringError, match="sequence differs"):
        score_structures(model, ref, ScoreOptions(align="index", atom="C1'"))
    by_seq = score_structures(model, ref, ScoreOptions(align="sequence", atom="C1'"))
    by_str = score_structures(model, ref, ScoreOptions(align="structure", atom="C1'"))
    ml, rl = model.residue_labels(), ref.residue_labels()
    assert by_seq.alignment == [(ml[i], rl[j]) for i, j in truth]
    assert by_seq.tm.aligned == len(truth) and by_seq.matched_by == "sequence"
    # TM-align finds (nearly) the same pairs on a near-native model, hence the same scores
    assert len(set(by_str.alignment) & set(by_seq.alignment)) >= 0.95 * len(truth)
    assert by_seq.tm.tm_ref == pytest.approx(by_str.tm.tm_ref, abs=0.01)
    assert by_seq.tm.rmsd == pytest.approx(by_str.tm.rmsd, abs=0.05)
    assert 0.3 < by_seq.tm.rmsd < 0.9  # the 0.4 Å per-axis noise, nothing more
    assert by_seq.lddt == pytest.approx(by_str.lddt, abs=0.02) and by_seq.lddt > 0.8
    assert by_seq.tm.gdt_ts > 0.95
    assert by_seq.inf is not None and by_seq.inf.all > 0.8
    d = by_seq.to_dict()
    assert d["seq_identity"] == pytest.approx((len(truth) - 2) / len(truth), abs=1e-4)
    assert d["seq_coverage"] == pytest.approx(len(truth) / ref.n_residues, abs=1e-4)
    assert by_str.to_dict()["seq_identity"] is None


@pytest.mark.shared
def test_cli_align_sequence_reports_identity_and_coverage(tmp_path):
    model, ref, truth = _pair()
    write_models([model], tmp_path / "m.pdb")
    write_models([ref], tmp_path / "r.pdb")
    args = ["score", str(tmp_path / "m.pdb"), "--ref", str(tmp_path / "r.pdb"), "--no-clash"]
    res = CliRunner().invoke(app, [*args, "--align", "sequence", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout.splitlines()[0])
    assert doc["align"] == "sequence" and doc["aligned"] == len(truth)
    identity, coverage = (len(truth) - 2) / len(truth), len(truth) / ref.n_residues
    assert doc["seq_identity"] == pytest.approx(identity, abs=1e-4)
    assert doc["seq_coverage"] == pytest.approx(coverage, abs=1e-4)
    res = CliRunner().invoke(app, [*args, "--align", "sequence"])
    assert res.exit_code == 0
    note = (
        f"sequence alignment with the reference: identity {identity:.3f}, coverage {coverage:.3f}"
    )
    assert note in res.output
