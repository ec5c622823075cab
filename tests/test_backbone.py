"""Backbone continuity (issue 23): gap closing of C1′ traces, the link check, per-residue
repair and replacement samples, confidence of unknown residues."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import rnapredict.geometry.cleanup as cleanup_mod
import rnapredict.geometry.from_c1 as from_c1_mod
from rnapredict.engine import load_engine, tiny_engine
from rnapredict.engine.engine import N_PLDDT_CAP
from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.geometry.check import C1_STEP_MAX, bad_residues, model_problem
from rnapredict.geometry.trace import TraceConfig, close_trace, step_lengths
from rnapredict.geometry.window import DEFAULT_WINDOW
from rnapredict.io.pdbio import read_structure
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions
from rnapredict.results.summary import read_summary
from tests.conftest import REPO, shared_path

WEIGHTS = REPO / "weights"
needs_weights = pytest.mark.skipif(
    not (WEIGHTS / "model.safetensors").is_file(), reason="no shipped weights"
)


def helix_trace(n: int, gap_at: int | None = None, gap: float = 0.0) -> torch.Tensor:
    """[n, 3] A-form-like C1′ helix (5.5 Å steps); residues after ``gap_at`` shifted by
    ``gap`` Å along the axis."""
    k = torch.arange(n, dtype=torch.float64)
    a = k * math.radians(32.7)
    x = torch.stack([8.7 * torch.cos(a), 8.7 * torch.sin(a), 2.8 * k], -1)
    if gap_at is not None:
        x[gap_at + 1 :, 2] += gap
    return x


# ------------------------------------------------------------------- trace closing
def test_a_22_angstrom_gap_is_closed_and_the_rest_left_alone() -> None:
    x = helix_trace(60, gap_at=29, gap=20.0)
    assert float(step_lengths(x)[29]) > 22.0
    y = close_trace(x)
    cfg = TraceConfig()
    d = step_lengths(y)
    assert float(d.max()) <= cfg.max_step + cfg.tolerance
    assert float(d.min()) >= cfg.min_step - cfg.tolerance
    moved = torch.linalg.vector_norm(y - x, dim=-1)
    assert float(moved[:10].max()) == 0.0 and float(moved[-10:].max()) == 0.0  # far ends


def test_collapsed_steps_are_opened() -> None:
    x = helix_trace(30) * torch.tensor([0.25, 0.25, 0.25], dtype=torch.float64)  # ~1.4 Å steps
    y = close_trace(x)
    assert float(step_lengths(y).min()) >= TraceConfig().min_step - TraceConfig().tolerance


def test_a_trace_in_range_is_returned_unchanged() -> None:
    x = helix_trace(40)[None].repeat(3, 1, 1)
    assert close_trace(x) is x


def test_closing_is_rotation_and_translation_equivariant() -> None:
    x = helix_trace(50, gap_at=20, gap=15.0)
    q, _ = torch.linalg.qr(torch.tensor([[0.3, -1.2, 0.5], [0.9, 0.1, -0.4], [0.2, 0.7, 1.1]]))
    q = q.double()
    t = torch.tensor([10.0, -4.0, 2.5], dtype=torch.float64)
    torch.testing.assert_close(close_trace(x @ q.T + t), close_trace(x) @ q.T + t)


# ------------------------------------------------------------------- the link check
def test_a_broken_o3_p_link_fails_the_check_and_names_both_residues() -> None:
    native = read_structure(shared_path("fixtures", "score", "natives", "1ehz_A.pdb"))
    # modified residues are missing (numbers 32, 34, ...): no link across a numbering gap
    assert model_problem(native) is None
    ids = native.res_ids
    k = next(i for i in range(40, native.n_residues) if ids[i] == ids[i - 1] + 1)
    c = native.coords.copy()
    c[native.atom_res >= k] += np.array([3.0, 0.0, 0.0])  # residues from k on move 3 Å
    broken = native.with_coords(c)
    problem = model_problem(broken) or ""
    assert problem.startswith("link O3'-P from residue") and "(ideal 1.61 ± 0.35)" in problem
    assert bad_residues(broken) == [k - 1, k]


def test_a_long_c1_step_fails_the_check() -> None:
    native = read_structure(shared_path("fixtures", "score", "natives", "1ehz_A.pdb"))
    c = native.coords.copy()
    k = next(
        i for i in range(40, native.n_residues) if native.res_ids[i] == native.res_ids[i - 1] + 1
    )
    c[native.atom_res >= k] += np.array([0.0, 0.0, C1_STEP_MAX + 2.0])
    assert "link O3'-P" in (model_problem(native.with_coords(c)) or "")
    # without O3′/P atoms (a C1′-only model) the step itself is the test
    keep = np.array([n == "C1'" for n in native.atom_names])
    c1_only = native.with_coords(c).select_atoms(keep)
    assert "C1'-C1' step" in (model_problem(c1_only) or "")


# ------------------------------------------------------------------- engine
@needs_weights
def test_the_issue_hairpin_folds_with_every_link_closed() -> None:
    """HIV1_TAR, -n 5 --seed 0: model 5 had O3′6–P7 at 7.6 Å (status ok) before."""
    engine = load_engine()
    pred = engine.predict(
        Record("HIV1_TAR", "GGCAGAUCUGAGCCUGGGAGCUCUCUGCC"), FoldOptions(n_samples=5, seed=0)
    )
    assert len(pred.models) == 5
    assert [model_problem(m) for m in pred.models] == [None] * 5


@needs_weights
def test_unknown_residues_do_not_get_high_confidence() -> None:
    """An all-N 8-nt record scored pLDDT 99.75: the network sees no base there."""
    engine = load_engine()
    pred = engine.predict(Record("n8", "NNNNNNNN"), FoldOptions(n_samples=2, steps=10))
    assert float(pred.plddt.max()) <= N_PLDDT_CAP
    mixed = engine.predict(Record("mix", "GGGANNUCCC"), FoldOptions(n_samples=2, steps=10))
    assert float(mixed.plddt[:, 4:6].max()) <= N_PLDDT_CAP


#: Atom builds of a model that nothing saves: the first, one per window round, the whole
#: rebuild on a tighter trace.
UNSAVED_BUILDS = 1 + len(DEFAULT_WINDOW.halves) + 1


def _wreck_first_builds(monkeypatch: pytest.MonkeyPatch, n_bad: int, every: bool = False) -> None:
    """Fault injection: in the first ``n_bad`` atom builds (a failing model is rebuilt in a
    window per repair round, then whole once: see :data:`UNSAVED_BUILDS`), residue 2 of
    sample 0 (``every``: of all samples) collapses onto one point, and the clean-up keeps it
    so: raw and cleaned models fail alike, so no per-residue revert can save them."""
    real_build, real_clean = from_c1_mod.c1_to_atoms, cleanup_mod.clean_atoms
    calls = {"n": 0}

    def collapsed(atoms: torch.Tensor) -> torch.Tensor:
        out = atoms.clone()
        out[..., 2, :, :] = out[..., 2, :1, :]
        return out

    def build(seq, c1, partner, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        atoms, mask = real_build(seq, c1, partner, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] <= n_bad:
            if atoms.dim() == 3:  # one model: the engine's rebuild of a failing model
                return collapsed(atoms), mask
            atoms = atoms.clone()
            pick = slice(None) if every else slice(0, 1)
            atoms[pick] = collapsed(atoms[pick])
        return atoms, mask

    def clean(seq, atoms, partner, config=None, **kwargs):  # noqa: ANN001, ANN202
        out = real_clean(seq, atoms, partner, config, **kwargs)
        return collapsed(out) if bool((atoms[2] == atoms[2, :1]).all()) else out

    monkeypatch.setattr(from_c1_mod, "c1_to_atoms", build)
    monkeypatch.setattr(cleanup_mod, "clean_atoms", clean)


def test_an_unrepairable_model_is_replaced_by_another_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rec = Record("hp", "GGGCGAAAGCCC", ss="((((....))))")
    opts = FoldOptions(n_samples=2, steps=4, seed=0)
    _wreck_first_builds(monkeypatch, UNSAVED_BUILDS)
    a = tiny_engine(0).predict(rec, opts)
    assert len(a.models) == 2 and all(model_problem(m) is None for m in a.models)
    assert max(a.sample_index) == 2  # sample 0 dropped, replacement sample 2 in
    assert a.extra["replaced"].startswith("1 sample(s) not physical after repair were replaced")
    assert "closer than 0.5" in a.extra["replaced"]
    _wreck_first_builds(monkeypatch, UNSAVED_BUILDS)
    b = tiny_engine(0).predict(rec, opts)  # the replacement is drawn from the record seed
    assert a.sample_index == b.sample_index
    np.testing.assert_array_equal(a.extra["c1"], b.extra["c1"])


def test_a_record_fails_only_when_no_physical_model_can_be_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fasta = tmp_path / "in.fa"
    fasta.write_text(">hp\nGGGCGAAAGCCC\n((((....))))\n")
    _wreck_first_builds(monkeypatch, 10**6, every=True)
    out = tmp_path / "out"
    result = fold_inputs(
        [fasta], out, FoldRunOptions(n_samples=2, steps=4, seed=0), engine=tiny_engine(0)
    )
    assert (result.ok, result.failed) == (0, 1)
    (row,) = read_summary(out / "summary.tsv")
    assert "no physical model could be made" in row.error and "closer than 0.5" in row.error
    assert sorted(p.name for p in (out / "hp").iterdir()) == ["error.txt"]


def test_a_model_no_revert_saves_is_rebuilt_in_a_window_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the first build is broken: the window rebuilt around the collapsed residue saves
    it, so neither a whole rebuild nor a replacement sample is needed."""
    rec = Record("hp", "GGGCGAAAGCCC", ss="((((....))))")
    _wreck_first_builds(monkeypatch, 1)
    pred = tiny_engine(0).predict(rec, FoldOptions(n_samples=2, steps=4, seed=0))
    assert sorted(pred.sample_index) == [0, 1] and "replaced" not in pred.extra
    assert all(model_problem(m) is None for m in pred.models)
    fixed = [p["geometry"] for p in pred.model_prior if "window" in p.get("geometry", "")]
    assert len(fixed) == 1 and "closer than 0.5" in fixed[0]
    assert "tighter trace" not in fixed[0]


def test_a_model_no_window_saves_is_rebuilt_on_a_tighter_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first build and every window round are broken: the engine's one whole rebuild of
    the model saves it, so no replacement sample is drawn."""
    rec = Record("hp", "GGGCGAAAGCCC", ss="((((....))))")
    _wreck_first_builds(monkeypatch, 1 + len(DEFAULT_WINDOW.halves))
    pred = tiny_engine(0).predict(rec, FoldOptions(n_samples=2, steps=4, seed=0))
    assert sorted(pred.sample_index) == [0, 1] and "replaced" not in pred.extra
    assert all(model_problem(m) is None for m in pred.models)
    rebuilt = [p["geometry"] for p in pred.model_prior if "tighter" in p.get("geometry", "")]
    assert len(rebuilt) == 1 and "closer than 0.5" in rebuilt[0]


def test_a_relaxed_model_that_fails_the_check_is_kept_unrelaxed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Fault injection: the relaxation returns a model with a C1′ gap; the record keeps the
    physical unrelaxed model and flags the relaxation instead of failing."""
    import rnapredict.relax.api as relax_api
    from tests.test_fold_support import StubEngine

    def broken_relax(model, settings):  # noqa: ANN001, ANN202
        c = model.coords.copy()
        c[model.atom_res >= 5] += np.array([0.0, 0.0, C1_STEP_MAX + 5.0])
        return relax_api.RelaxResult(model=model.with_coords(c), ok=True)

    monkeypatch.setattr(relax_api, "relax_model", broken_relax)
    fasta = tmp_path / "in.fa"
    fasta.write_text(">hp\nGGGAAACCCAGC\n")
    out = tmp_path / "out"
    result = fold_inputs([fasta], out, FoldRunOptions(n_samples=2, relax=True), engine=StubEngine())
    assert (result.ok, result.failed, result.relax_failed) == (1, 0, 1)
    (row,) = read_summary(out / "summary.tsv")
    assert row.status == "ok" and row.relax == "failed 2/2"
    model = read_structure(out / "hp" / "model_1.pdb")
    assert model_problem(model) is None
