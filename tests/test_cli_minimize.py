"""``rnapredict minimize``: outputs, summary.tsv, --json, exit codes, never clobbering, and bad
files (empty, protein-only) reported without stopping the batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rnapredict.cli import app
from rnapredict.io.pdbio import read_models, read_structure, write_models
from tests.conftest import shared_path

runner = CliRunner()

PROTEIN_PDB = """\
ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N
ATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C
ATOM      3  C   ALA A   1      13.155   5.918  -5.168  1.00  0.00           C
ATOM      4  O   ALA A   1      13.704   5.385  -6.129  1.00  0.00           O
ATOM      5  CB  ALA A   1      11.233   7.318  -4.353  1.00  0.00           C
END
"""


@pytest.fixture(scope="module")
def hairpin_file() -> Path:
    return shared_path("fixtures", "score", "natives", "1ATO_A.pdb")


@pytest.mark.slow
def test_bad_inputs_are_flagged_and_the_batch_goes_on(tmp_path: Path, hairpin_file: Path):
    empty = tmp_path / "empty.pdb"
    empty.write_text("")
    protein = tmp_path / "protein.pdb"
    protein.write_text(PROTEIN_PDB)
    out = tmp_path / "out"
    r = runner.invoke(
        app,
        ["minimize", str(empty), str(hairpin_file), str(protein), "-o", str(out)]
        + ["--steps", "50", "--json"],
    )
    assert r.exit_code == 3, r.output
    lines = [json.loads(line) for line in r.stdout.splitlines()]  # JSON Lines
    assert len(lines) == 3 and sum(x["status"] == "ok" for x in lines) == 1
    by_name = {Path(x["source"]).name: x for x in lines}
    assert (
        by_name["empty.pdb"]["status"] == "failed" and "no atoms" in by_name["empty.pdb"]["message"]
    )
    assert "no RNA" in by_name["protein.pdb"]["message"]
    good = by_name["1ATO_A.pdb"]
    assert good["status"] == "ok" and good["energy_after_kj_mol"] < good["energy_before_kj_mol"]
    assert good["rmsd_heavy_a"] < 0.5 and good["clashscore_after"] <= good["clashscore_before"]
    # The relaxed model keeps the input's residues: chain, numbering, names, heavy atoms.
    native = read_structure(hairpin_file)
    relaxed = read_structure(good["output"])
    assert Path(good["output"]) == out / "1ATO_A.pdb"
    assert relaxed.chain_ids == native.chain_ids and relaxed.res_names == native.res_names
    np.testing.assert_array_equal(relaxed.res_ids, native.res_ids)
    assert relaxed.atom_names == native.atom_names
    rows = (out / "summary.tsv").read_text().splitlines()
    assert rows[0].split("\t")[:4] == ["source", "model", "output", "status"]
    assert [row.split("\t")[3] for row in rows[1:]] == ["failed", "ok", "failed"]
    assert not (out / "empty.pdb").exists() and not (out / "protein.pdb").exists()


def test_existing_output_needs_overwrite(tmp_path: Path, hairpin_file: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "1ATO_A.pdb").write_text("precious\n")
    r = runner.invoke(app, ["minimize", str(hairpin_file), "-o", str(out), "--steps", "1"])
    assert r.exit_code == 2
    assert "--overwrite" in r.output
    assert (out / "1ATO_A.pdb").read_text() == "precious\n"
    assert not (out / "summary.tsv").exists()  # nothing done before the check


def test_usage_errors_exit_2(tmp_path: Path, hairpin_file: Path):
    out = str(tmp_path / "o")
    r = runner.invoke(app, ["minimize", str(tmp_path / "missing.pdb"), "-o", out])
    assert r.exit_code == 2 and "no such file" in r.output
    r = runner.invoke(app, ["minimize", str(tmp_path), "-o", out])
    assert r.exit_code == 2 and "is a directory, not a structure file" in r.output
    r = runner.invoke(app, ["minimize", str(hairpin_file), "-o", out, "--format", "xyz"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["minimize", str(hairpin_file), "-o", out, "--restrain-heavy", "-1"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["minimize", str(hairpin_file), "-o", out, "--rounds", "0"])
    assert r.exit_code == 2 and "rounds must be >= 1" in r.output
    r = runner.invoke(app, ["minimize", str(hairpin_file), "-o", out, "--platform", "warpdrive"])
    assert r.exit_code == 2 and "not available" in r.output
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "1ATO_A.pdb").write_text(hairpin_file.read_text())
    r = runner.invoke(app, ["minimize", str(hairpin_file), str(twin / "1ATO_A.pdb"), "-o", out])
    assert r.exit_code == 2 and "both be written" in r.output
    assert "give each folder its own -o" in " ".join(r.output.split())  # how to get on


@pytest.mark.slow
def test_multi_model_file_keeps_failed_model_unrelaxed(tmp_path: Path, hairpin_file: Path):
    """Model 1 relaxes; model 2 (squeezed to 40 %) cannot: written unrelaxed, exit 3, in cif
    with hydrogens requested (so the two models differ in atoms: one file per model)."""
    native = read_structure(hairpin_file)
    centre = native.coords.mean(axis=0)
    squeezed = native.with_coords(centre + 0.4 * (native.coords - centre))
    src = write_models([native, squeezed], tmp_path / "ens.pdb")
    out = tmp_path / "out"
    r = runner.invoke(
        app,
        ["minimize", str(src), "-o", str(out), "--steps", "50", "--format", "cif", "--keep-h"],
    )
    assert r.exit_code == 3, r.output
    assert "1 of 2 model(s) failed" in r.output
    m1 = read_models(out / "ens_model_1.cif", heavy_only=False)[0]
    m2 = read_models(out / "ens_model_2.cif", heavy_only=False)[0]
    assert any(e == "H" for e in m1.elements)  # --keep-h
    np.testing.assert_allclose(m2.coords, squeezed.coords, atol=1e-3)  # kept as it was
    rows = [row.split("\t") for row in (out / "summary.tsv").read_text().splitlines()[1:]]
    assert [(row[1], row[3]) for row in rows] == [("1", "ok"), ("2", "failed")]
    assert "fold not kept" in rows[1][-1]


@pytest.mark.slow
def test_multi_model_heavy_output_is_one_file(tmp_path: Path, hairpin_file: Path):
    native = read_structure(hairpin_file)
    shifted = native.with_coords(native.coords + 1.0)
    src = write_models([native, shifted], tmp_path / "ens.cif")
    out = tmp_path / "out"
    r = runner.invoke(app, ["minimize", str(src), "-o", str(out), "--steps", "20"])
    assert r.exit_code == 0, r.output
    models = read_models(out / "ens.cif")
    assert len(models) == 2
    # Both relaxed alike: the second is the first shifted by 1 Å (translation invariance).
    d = models[1].coords - models[0].coords
    np.testing.assert_allclose(d.mean(axis=0), [1.0, 1.0, 1.0], atol=0.05)


def _c1_only(tmp_path: Path, hairpin_file: Path) -> Path:
    native = read_structure(hairpin_file)
    keep = np.array([a == "C1'" for a in native.atom_names])
    return write_models([native.select_atoms(keep)], tmp_path / "c1.pdb")


def test_c1_only_file_gets_one_clear_message(tmp_path: Path, hairpin_file: Path):
    """A C1′-only model is not 'relaxed' into atoms PDBFixer invents: one message, no
    warnings from OpenMM, written unrelaxed, exit 3 (issue 12)."""
    src = _c1_only(tmp_path, hairpin_file)
    r = runner.invoke(app, ["minimize", str(src), "-o", str(tmp_path / "out")])
    assert r.exit_code == 3, r.output
    lines = [x for x in r.stderr.splitlines() if "c1.pdb" in x]
    assert len(lines) == 1 and "coarse-grained" in lines[0] and "all-atom" in lines[0]
    assert "Warning" not in r.output and "warning:" not in r.stderr


def test_unreadable_file_message_is_truthful(tmp_path: Path):
    """A file with no RNA is 'nothing written', never also 'kept unrelaxed' (issue 12)."""
    protein = tmp_path / "protein.pdb"
    protein.write_text(PROTEIN_PDB)
    r = runner.invoke(app, ["minimize", str(protein), "-o", str(tmp_path / "out")])
    assert r.exit_code == 3
    assert "nothing written" in r.stderr and "kept unrelaxed" not in r.stderr


def test_json_is_json_lines(tmp_path: Path, hairpin_file: Path):
    """--json: one object per model on its own line, schema as documented."""
    empty = tmp_path / "empty.pdb"
    empty.write_text("")
    src = _c1_only(tmp_path, hairpin_file)
    r = runner.invoke(app, ["minimize", str(empty), str(src), "-o", str(tmp_path / "o"), "--json"])
    assert r.exit_code == 3
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [Path(x["source"]).name for x in rows] == ["empty.pdb", "c1.pdb"]
    keys = {"rnapredict", "source", "model", "output", "status", "energy_before_kj_mol",
            "energy_after_kj_mol", "clashscore_before", "clashscore_after", "rmsd_heavy_a",
            "seconds", "message", "warnings", "platform", "options", "units"}  # fmt: skip
    assert all(set(x) == keys and x["status"] == "failed" for x in rows)
    assert rows[1]["output"].endswith("c1.pdb") and rows[0]["output"] == ""


@pytest.mark.slow
def test_ctrl_c_stops_within_seconds(tmp_path: Path, hairpin_file: Path):
    """SIGINT while OpenMM minimizes: exit 130 at once, not after the minimization (issue 12).
    Latency is printed for information; the bound is generous (shared CI machines)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "rnapredict", "minimize", str(hairpin_file), "-o", str(out),
           "--steps", "0", "--rounds", "8"]  # fmt: skip
    env = {**os.environ, "OPENMM_CPU_THREADS": "1"}
    # A shell without job control starts background jobs with SIGINT ignored, and Python keeps
    # an inherited SIG_IGN (no KeyboardInterrupt): give the child the default disposition, as
    # an interactive shell would.
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()  # "relaxing 1 file(s) → ..." once the work starts
    assert "relaxing" in line, line
    time.sleep(3.0)  # inside PDBFixer / the minimizer by now
    assert proc.poll() is None, "finished before the interrupt; make the job longer"
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=30)
    finally:
        proc.kill()
    latency = time.perf_counter() - t0
    print(f"minimize stopped {latency:.2f} s after SIGINT")
    assert rc == 130
    assert latency < 10.0
    assert not (out / "1ATO_A.pdb").exists()


@pytest.mark.slow
def test_fast_uses_the_fold_relax_settings(tmp_path: Path, hairpin_file: Path):
    """--fast: vacuum pre-stage, one GBn2 minimization to 100 kJ/mol/nm under 2 kcal/mol/Å²
    restraints; the model relaxes
    with clashscore ≤ 5 and every bond and O3'–P link intact."""
    from rnapredict.relax.covalent import broken_bonds

    out = tmp_path / "o"
    r = runner.invoke(app, ["minimize", str(hairpin_file), "-o", str(out), "--fast", "--json"])
    assert r.exit_code == 0, r.stderr
    (row,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert row["status"] == "ok"
    opts = row["options"]
    assert (opts["rounds"], opts["tolerance_kj_mol_nm"], opts["vacuum_prestage"]) == (
        1,
        100.0,
        "always",
    )
    assert row["clashscore_after"] <= 5.0
    relaxed = read_structure(row["output"])
    assert broken_bonds(read_structure(hairpin_file), relaxed) == []


def test_fast_takes_the_presets_restraints_unless_given(tmp_path: Path, hairpin_file: Path):
    """--fast uses fold --relax's soft restraints; an explicit --restrain-heavy still wins."""
    from rnapredict.relax.options import DEFAULT_RESTRAIN_HEAVY, FOLD_RELAX

    got = []
    for extra in ([], ["--restrain-heavy", "7"]):
        out = tmp_path / f"o{len(extra)}"
        args = ["minimize", str(hairpin_file), "-o", str(out), "--fast", "--json", "--steps", "1"]
        r = runner.invoke(app, args + extra)
        assert r.exit_code == 0, r.stderr
        got.append(json.loads(r.stdout.splitlines()[0])["options"]["restrain_heavy_kcal_mol_a2"])
    assert (
        got == [FOLD_RELAX.restrain_heavy, 7.0]
        and FOLD_RELAX.restrain_heavy != DEFAULT_RESTRAIN_HEAVY
    )
