"""End to end with the real engine code: ``fold`` on examples/hairpins.fa.

- library: :func:`fold_inputs` with ``tiny_engine()`` (random-init tiny model, no weights);
- CLI: ``rnapredict fold`` as a program with the shipped weights (they ship: a missing or
  unloadable weights file fails the test) and the default sampler settings, once through
  ``python -m rnapredict`` and once through the installed ``rnapredict`` console script.
Files must parse with gemmi, have sane covalent geometry, pLDDT within 0–100 and residue names
equal to the record's sequence; a record with a structure line must report it as used.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import gemmi
import numpy as np
import pytest

from rnapredict.fold import FoldRunOptions, fold_inputs
from rnapredict.geometry import ideal
from rnapredict.results.summary import read_summary

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "hairpins.fa"
WEIGHTS = REPO / "weights"

#: Covalent bonds of the rigid sugar (ideal geometry whatever the C1' trace; PDB v3 names).
SUGAR_BONDS = [
    ("C4'", "O4'"),
    ("C4'", "C3'"),
    ("C3'", "C2'"),
    ("C2'", "O2'"),
    ("C2'", "C1'"),
    ("C1'", "O4'"),
]
#: Phosphate linker bonds: ideal on sensible traces (trained weights); a random-init model's
#: trace (consecutive C1' hundreds of Å apart) stretches them, so only checked with weights.
LINKER_BONDS = [
    ("P", "OP1"),
    ("P", "OP2"),
    ("P", "O5'"),
    ("O5'", "C5'"),
    ("C5'", "C4'"),
    ("C3'", "O3'"),
]


#: Ideal lengths (Å) of the linker bonds: the geometry module's own values.
IDEAL = {(a, b): ideal.bond(a, b) for a, b in [*LINKER_BONDS, ("O3'", "P")]}


def _example_ids() -> list[str]:
    return [
        line[1:].split()[0] for line in EXAMPLE.read_text().splitlines() if line.startswith(">")
    ]


#: Records of examples/hairpins.fa with a structure line: id → dot-bracket.
GIVEN_SS = {"UUCG_hairpin": "((((....))))"}


def _example_seqs() -> dict[str, str]:
    """Sequences of examples/hairpins.fa as the reader normalizes them (upper case, T→U)."""
    from rnapredict.io.inputs import iter_records

    return {r.id: r.seq for r in iter_records([EXAMPLE])}


def check_model_file(path: Path, length: int, trained: bool) -> None:
    """Parse with gemmi; rigid sugar bonds 1.3–1.7 Å; with trained weights also the phosphate
    linker and O3'–P links closed: every bond within 0.25 Å of ideal (the closure measured
    ≤ 0.16 Å on engine traces, rnapredict.geometry.closure) and a median near ideal; B-factor (pLDDT) in 0–100; finite coordinates."""
    st = gemmi.read_structure(str(path))
    residues = [r for ch in st[0] for r in ch]
    assert len(residues) == length
    sugar: list[float] = []
    linker: list[float] = []
    linker_dev: list[float] = []  # |length - ideal| per linker bond
    for k, res in enumerate(residues):
        atoms = {a.name: a.pos for a in res}
        for a, b in SUGAR_BONDS:
            if a in atoms and b in atoms:
                sugar.append(atoms[a].dist(atoms[b]))
        pairs = [(atoms.get(a), atoms.get(b), IDEAL[a, b]) for a, b in LINKER_BONDS]
        if k + 1 < length:
            pairs.append((atoms["O3'"], residues[k + 1]["P"][0].pos, IDEAL["O3'", "P"]))
        for pa, pb, want in pairs if trained else []:
            if pa is not None and pb is not None:
                linker.append(pa.dist(pb))
                linker_dev.append(abs(linker[-1] - want))
        assert len({a.b_iso for a in res}) == 1  # one pLDDT per residue
        assert 0.0 <= res[0].b_iso <= 100.0
    sugar_a, linker_a = np.asarray(sugar), np.asarray(linker)
    assert len(sugar_a) >= len(SUGAR_BONDS) * length and np.isfinite(sugar_a).all()
    assert sugar_a.min() > 1.3 and sugar_a.max() < 1.7, (sugar_a.min(), sugar_a.max())
    if trained:
        assert len(linker_a) >= len(LINKER_BONDS) * (length - 1) and np.isfinite(linker_a).all()
        assert linker_a.min() > 1.3 and linker_a.max() < 1.9, (linker_a.min(), linker_a.max())
        assert max(linker_dev) < 0.25, max(linker_dev)
        assert float(np.median(linker_dev)) < 0.03, float(np.median(linker_dev))


def check_outputs(out: Path, n_models: int, trained: bool) -> None:
    rows = list(read_summary(out / "summary.tsv"))
    assert [r.id for r in rows] == _example_ids() and all(r.status == "ok" for r in rows)
    seqs = _example_seqs()
    for row in rows:
        doc = json.loads((out / row.name / "confidence.json").read_text())
        assert len(doc["models"]) == n_models and doc["model_version"]
        means = [m["mean_plddt"] for m in doc["models"]]
        assert all(0.0 <= v <= 100.0 for m in doc["models"] for v in m["plddt"])
        ss = doc["secondary_structure"]
        if row.id in GIVEN_SS:  # the structure line is used as given, not re-predicted
            assert ss == {"dot_bracket": GIVEN_SS[row.id], "source": "input"}
        else:
            assert ss["source"] == "vienna"
        assert len(ss["dot_bracket"]) == row.length == len(seqs[row.id])
        assert doc["sequence"] == seqs[row.id]
        assert row.mean_plddt == pytest.approx(means[0], abs=0.01)
        ranked_by = doc["ranked_by"]  # how the models were ranked (pipeline.rank.RankConfig)
        assert len(ranked_by["plddt_blend"]) == len(ranked_by["ptm_blend"]) == 3
        for m in doc["models"]:
            path = out / row.name / m["files"][0]
            check_model_file(path, row.length, trained)
            st = gemmi.read_structure(str(path))
            assert "".join(r.name for r in st[0][0]) == seqs[row.id]
            # the file's B-factors are the (blended) pLDDT of confidence.json
            b = [r[0].b_iso for r in st[0][0]]
            np.testing.assert_allclose(b, m["plddt"], atol=0.02)
            assert 0.0 <= m["network"]["ptm"] <= 1.0 and 0.0 <= m["ptm"] <= 1.0
            assert "consensus" in m or n_models == 1


@pytest.mark.slow
def test_fold_examples_with_tiny_engine(tmp_path: Path) -> None:
    engine_mod = pytest.importorskip("rnapredict.engine")
    if not hasattr(engine_mod, "tiny_engine"):
        pytest.skip("rnapredict.engine.tiny_engine not available yet")
    out = tmp_path / "out"
    result = fold_inputs(
        [EXAMPLE],
        out,
        FoldRunOptions(n_samples=2, steps=4, seed=0, device="cpu", fmt="both"),
        engine=engine_mod.tiny_engine(seed=0),
    )
    assert (result.ok, result.failed, result.exit_code) == (4, 0, 0)
    check_outputs(out, 2, trained=False)


@pytest.mark.slow
def test_cli_fold_examples_with_tiny_weights_dir(tmp_path: Path) -> None:
    """The real CLI, loader and engine as a program: tiny random weights via ``--weights``."""
    engine_mod = pytest.importorskip("rnapredict.engine")
    weights_mod = pytest.importorskip("rnapredict.engine.weights")
    if not hasattr(engine_mod, "tiny_engine") or not hasattr(weights_mod, "write_weights"):
        pytest.skip("tiny engine / weight writer not available yet")
    net = engine_mod.tiny_engine(seed=0).net
    wdir = tmp_path / "tiny-weights"
    weights_mod.write_weights(wdir, net.state_dict(), net.cfg, {"model_version": "tiny-test"})
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "rnapredict", "fold", str(EXAMPLE), "-o", str(out), "--json"]
    cmd += ["-n", "1", "--steps", "4", "--device", "cpu", "--weights", str(wdir)]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["id"] for x in lines] == _example_ids() and {x["status"] for x in lines} == {"ok"}
    check_outputs(out, 1, trained=False)
    doc = json.loads((out / "HIV1_TAR" / "confidence.json").read_text())
    assert doc["model_version"] == "tiny-test"
    manifest = json.loads((wdir / "manifest.json").read_text())
    assert doc["weights_sha256"] == manifest["sha256"]  # provenance names the exact weights


def _shipped_model_version() -> str:
    """The shipped weights' version; the weights ship with the package, so their absence is a
    failure, not a skip."""
    manifest = WEIGHTS / "manifest.json"
    assert manifest.is_file(), f"shipped weights missing: {manifest}"
    doc = json.loads(manifest.read_text())
    assert (WEIGHTS / doc["file"]).is_file(), f"shipped weights file missing: {doc['file']}"
    return doc["model_version"]


def _console_script() -> str | None:
    """The installed ``rnapredict`` program: next to this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "rnapredict"
    return str(beside) if beside.is_file() else shutil.which("rnapredict")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["module", "console_script"])
def test_cli_fold_examples_shipped_weights_default_settings(tmp_path: Path, how: str) -> None:
    """The program users run, with the shipped weights and default sampler settings."""
    version = _shipped_model_version()
    if how == "module":
        prog = [sys.executable, "-m", "rnapredict"]
    else:
        script = _console_script()
        if script is None:
            pytest.skip("the rnapredict console script is not installed (pip install -e .)")
        prog = [script]
    out = tmp_path / "out"
    cmd = [*prog, "fold", str(EXAMPLE), "-o", str(out), "-n", "2", "--device", "cpu"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this tree's code, not another install
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    check_outputs(out, 2, trained=True)
    for rid in _example_ids():
        doc = json.loads((out / rid / "confidence.json").read_text())
        assert doc["model_version"] == version and doc["settings"]["steps"] is None


def test_cli_missing_weights_dir_is_exit_2(tmp_path: Path) -> None:
    fa = tmp_path / "in.fa"
    fa.write_text(">a\nACGUACGU\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "rnapredict", "fold", str(fa), "-o", str(out)]
    cmd += ["--weights", str(tmp_path / "no-such-weights"), "--device", "cpu"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "weights" in proc.stderr.lower() and "Traceback" not in proc.stderr
    assert not out.exists()
