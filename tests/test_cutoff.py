"""One release-date cutoff and one self-exclusion (by PDB entry) for every experimental
structure a fold uses: templates and motif-library instances (issue 23, part 3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import rnapredict.engine
from rnapredict.cli import app
from rnapredict.data.cutoff import StructureCutoff, entry_id, entry_ids, parse_cutoff
from rnapredict.errors import InputError
from rnapredict.pipeline.candidates import PriorOptions, build_candidates
from rnapredict.prior.library import default_library, fold_library
from rnapredict.templates.library import TemplateChain, TemplateLibrary
from rnapredict.templates.search import search

#: Yeast tRNA-Phe as in examples/hairpins.fa (PDB 1EHZ / 1EVV; 1EVV released 2000-05-01).
TRNA = "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGGAGGUCCUGUGUUCGAUCCACAGAAUUCGCACCA"
CLOVERLEAF = "(((((((..((((........)))).(((((.......))))).....(((((.......))))))))))))...."
CUTOFF = "2000-01-01"
SPELLINGS = ["1EVV_A", "1evv.A", "pdb|1EVV|A", "1EVV"]


@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("1EVV", "1EVV"),
        ("1evv", "1EVV"),
        ("1EVV_A", "1EVV"),
        ("1EVV.A", "1EVV"),
        ("1EVV:A", "1EVV"),
        ("pdb|1EVV|A", "1EVV"),
        ("PDB|1evv|B", "1EVV"),
        ("1EVV_1|Chain", "1EVV"),  # RCSB FASTA header's first word
        ("pdb_00001evv_A", "1EVV"),  # extended PDB id
        ("tRNA-Phe", None),
        ("1EVVX", None),
        ("HIV1_TAR", None),
        ("", None),
    ],
)
def test_entry_id_reads_every_spelling(name: str, entry: str | None) -> None:
    assert entry_id(name) == entry


def test_cutoff_excludes_on_or_after_date_undated_and_own_entry() -> None:
    cut = StructureCutoff.for_record(CUTOFF, "1evv.A")
    assert cut == StructureCutoff("2000-01-01", "1EVV")
    ids = ["1EVV_A", "1EVV_B", "1EHZ_A", "2NEW_A", "3UND_A"]
    dates = ["1999-01-01", "1999-01-01", "1999-12-31", "2000-01-01", ""]
    assert cut.allowed(entry_ids(ids), dates).tolist() == [False, False, True, False, False]
    assert StructureCutoff().allowed(entry_ids(ids), dates).all()
    with pytest.raises(InputError, match="--cutoff 'May 2000'"):
        parse_cutoff("May 2000")


def test_template_self_exclusion_is_by_entry_in_any_spelling() -> None:
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGU"), 80))
    trace = np.cumsum(rng.normal(size=(80, 3)), axis=0) * 3.0
    lib = TemplateLibrary.from_chains(
        [
            TemplateChain("1EVV", "A", seq, "2000-05-01", trace),
            TemplateChain("1evv", "B", seq, "2000-05-01", trace),  # lower case as built
            TemplateChain("2XYZ", "A", seq, "1999-01-01", trace),
        ]
    )
    assert {h.id for h in search(lib, seq, "tRNA")} == {"1EVV_A", "1EVV_B", "2XYZ_A"}
    for rid in SPELLINGS:
        assert [h.id for h in search(lib, seq, rid)] == ["2XYZ_A"], rid
    assert search(lib, seq, "tRNA")[0].identical  # whole query at identity 1.0
    assert not search(lib, seq[:70] + "A" * 10, "tRNA")[0].identical


def test_motif_library_cutoff_and_self_exclusion() -> None:
    lib = default_library()
    if lib is None:
        pytest.skip("no shipped motif library")
    assert any(i.id.startswith("1EVV") for i in lib.instances)  # the leak the rule closes
    cut = StructureCutoff.for_record(CUTOFF, "pdb|1EVV|A")
    kept = fold_library(cut)
    assert kept is not None and 0 < len(kept) < len(lib)
    assert all(i.release_date < CUTOFF for i in kept.instances)
    expected = sum(1 for i in lib.instances if i.release_date < CUTOFF and entry_id(i.id) != "1EVV")
    assert len(kept) == expected and len(kept.geoms) == len(kept)
    own = fold_library(StructureCutoff.for_record(None, "1EVV"))
    assert own is not None and not any(i.id.startswith("1EVV") for i in own.instances)
    assert len(own) == len(lib) - sum(1 for i in lib.instances if i.id.startswith("1EVV"))
    assert fold_library(StructureCutoff()) is lib


def _used(cands: list) -> list[tuple[str, str]]:
    """(entry, release date) of every experimental structure the candidates come from."""
    out = []
    for c in cands:
        if c.source == "template":
            out.append((c.info["entry"], c.info["release_date"] or ""))
        out += [(i["pdb"], i["release_date"]) for i in c.info.get("instances", [])]
    return out


@pytest.mark.parametrize("rid", SPELLINGS)
def test_candidates_use_nothing_from_the_entry_or_past_the_cutoff(rid: str) -> None:
    if default_library() is None:
        pytest.skip("no shipped motif library")
    opts = PriorOptions("assembly", 4, "default", CUTOFF)
    cands = build_candidates(TRNA, CLOVERLEAF, "input", opts, torch.Generator(), rid)
    used = _used(cands)
    assert used, "the tRNA assembly should use library motifs from before the cutoff"
    assert all(entry != "1EVV" and date < CUTOFF for entry, date in used), used
    # the same call without the cutoff (and under a neutral id) draws on later structures
    free = _used(
        build_candidates(
            TRNA, CLOVERLEAF, "input", PriorOptions("assembly", 4, "default"),
            torch.Generator(), "tRNA",
        )
    )  # fmt: skip
    assert ("1EVV", "2000-05-01") in free


@pytest.mark.slow
def test_fold_cli_cutoff_bounds_templates_and_motifs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fold --template-cutoff`` (alias of ``--cutoff``) on tRNA-Phe named 1EVV four ways:
    confidence.json provenance names nothing of 1EVV and nothing released on/after the date."""
    if default_library() is None:
        pytest.skip("no shipped motif library")
    monkeypatch.setattr(
        rnapredict.engine, "load_engine", lambda *a, **k: rnapredict.engine.tiny_engine(0)
    )
    fasta = tmp_path / "q.fa"
    fasta.write_text("".join(f">{rid}\n{TRNA}\n" for rid in SPELLINGS))
    for flag in ("--cutoff", "--template-cutoff"):
        out = tmp_path / flag.strip("-")
        args = ["fold", str(fasta), "-o", str(out), "-n", "2", "--steps", "2"]
        res = CliRunner().invoke(app, [*args, "--device", "cpu", flag, CUTOFF])
        assert res.exit_code == 0, res.output
        docs = [json.loads(p.read_text()) for p in sorted(out.glob("*/confidence.json"))]
        assert len(docs) == len(SPELLINGS)
        for doc in docs:
            assert doc["settings"]["cutoff"] == CUTOFF
            for m in doc["models"]:
                p = m["prior"]
                used = [(i["pdb"], i["release_date"]) for i in p.get("instances", [])]
                if p["source"] == "template":
                    used.append((p["entry"], p["release_date"] or ""))
                assert all(e != "1EVV" and d < CUTOFF for e, d in used), (doc["id"], used)


@pytest.mark.slow
def test_fold_warns_when_a_template_is_the_query_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rnapredict.fold import FoldRunOptions, fold_inputs

    rng = np.random.default_rng(1)
    steps = rng.normal(size=(len(TRNA), 3)) + np.array([0.0, 0.0, 1.5])
    trace = np.cumsum(5.9 * steps / np.linalg.norm(steps, axis=1, keepdims=True), axis=0)
    lib = tmp_path / "lib.npz"
    TemplateLibrary.from_chains([TemplateChain("9ZZZ", "A", TRNA, "2001-02-03", trace)]).save(lib)
    fasta = tmp_path / "q.fa"
    mutant = "A" + TRNA[1:40] + "A" + TRNA[41:]  # G1A, G41A: a relative, not the query
    fasta.write_text(f">tRNA\n{TRNA}\n>part\n{TRNA[10:70]}\n>mutant\n{mutant}\n")
    opts = FoldRunOptions(n_samples=2, steps=2, device="cpu", templates=str(lib))
    result = fold_inputs([fasta], tmp_path / "out", opts, engine=rnapredict.engine.tiny_engine(0))
    assert result.exit_code == 0
    err = capsys.readouterr().err
    assert err.count("covers the whole query at identity 1.0") == 2  # not for the mutant
    assert "warning: tRNA: template 9ZZZ_A (released 2001-02-03)" in err
    assert "warning: part: template 9ZZZ_A" in err
    doc = json.loads((tmp_path / "out" / "tRNA" / "confidence.json").read_text())
    assert doc["templates"][0]["identical"] is True
    other = json.loads((tmp_path / "out" / "mutant" / "confidence.json").read_text())
    assert other["templates"][0]["template"] == "9ZZZ_A"
    assert other["templates"][0]["identical"] is False
