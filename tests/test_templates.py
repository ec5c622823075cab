"""Templates: library file, build from structure files, search (identity, self-exclusion, date
cutoff), candidate geometry, provider order, and the fold outputs naming templates."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnapredict.cli import app
from rnapredict.errors import InputError, OutputExistsError, WeightsError
from rnapredict.geometry.candidate import aform_candidate
from rnapredict.geometry.trace import TraceConfig
from rnapredict.io.pdbio import structure_text
from rnapredict.pipeline.candidates import PriorOptions, build_candidates
from rnapredict.results.confidence import template_remarks, templates_used
from rnapredict.results.summary import HEADER, SummaryRow
from rnapredict.templates.build import build_library, entry_from_name, header_release_date
from rnapredict.templates.candidate import template_candidate, template_candidates
from rnapredict.templates.library import (
    LIBRARY_VERSION,
    TemplateChain,
    TemplateLibrary,
    load_library,
)
from rnapredict.templates.search import parse_cutoff, search
from tests.conftest import shared_path

RNG = np.random.default_rng(7)


def rand_seq(n: int) -> str:
    return "".join(RNG.choice(list("ACGU"), n))


def helix_trace(n: int, seed: int = 0) -> np.ndarray:
    """[n, 3] a wandering C1′-like trace, 5.9 Å steps (no two points coincide)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(size=(n, 3)) + np.array([0.0, 0.0, 1.5])
    steps *= 5.9 / np.linalg.norm(steps, axis=1, keepdims=True)
    return np.cumsum(steps, axis=0)


def lib_of(*chains: tuple[str, str, str, str]) -> TemplateLibrary:
    return TemplateLibrary.from_chains(
        [TemplateChain(e, c, s, d, helix_trace(len(s), i)) for i, (e, c, s, d) in enumerate(chains)]
    )


QUERY = rand_seq(80)


# ------------------------------------------------------------------------------ library file
def test_library_round_trip_deterministic_no_pickle(tmp_path: Path) -> None:
    lib = lib_of(("1ABC", "A", QUERY, "2001-02-03"), ("2XYZ", "B", rand_seq(30), ""))
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    lib.save(a)
    lib.save(b)
    assert a.read_bytes() == b.read_bytes()  # same chains → same bytes (hash in the manifest)
    back = load_library(a)
    assert len(back) == 2 and back.chain_id(1) == "2XYZ_B"
    assert back.sequence(0) == QUERY and back.date[0] == "2001-02-03" and back.date[1] == ""
    np.testing.assert_allclose(back.coords(0), lib.coords(0), atol=1e-5)
    with np.load(a, allow_pickle=False) as z:
        assert int(z["version"]) == LIBRARY_VERSION
    with pytest.raises(OutputExistsError):
        lib.save(a)


def test_library_wrong_version_and_hash_refused(tmp_path: Path) -> None:
    p = tmp_path / "old.npz"
    lib_of(("1ABC", "A", QUERY, "")).save(p)
    with np.load(p) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["version"] = np.array(LIBRARY_VERSION + 1)
    np.savez(tmp_path / "v.npz", **arrays)
    with pytest.raises(InputError, match="version"):
        load_library(tmp_path / "v.npz")
    with pytest.raises(WeightsError, match="sha256"):
        load_library(p, {"file": p.name, "sha256": "0" * 64})
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(InputError, match="not a template library"):
        load_library(tmp_path / "junk.npz")


def test_shipped_library_is_train_only() -> None:
    from rnapredict.templates.library import resolve_library

    lib = resolve_library("default")  # verified against weights/manifest.json
    assert lib is not None and len(lib) > 600
    assert max(lib.date.astype(str)) < "2020-01-01"


# ------------------------------------------------------------------------------------ search
def test_query_in_library_found_with_identity_1_and_excluded_by_id() -> None:
    lib = lib_of(
        ("1ABC", "A", QUERY, "2001-01-01"),
        ("2DEF", "B", rand_seq(90), "2001-01-01"),
        ("3GHI", "C", QUERY[:40] + rand_seq(40), "2001-01-01"),
    )
    hits = search(lib, QUERY)
    assert hits[0].id == "1ABC_A"
    assert hits[0].identity == 1.0 and hits[0].coverage == 1.0
    assert "2DEF_B" not in [h.id for h in hits]  # unrelated: no hit
    excluded = [h.id for h in search(lib, QUERY, query_id="1abc_a")]
    assert "1ABC_A" not in excluded


def test_cutoff_excludes_hit_released_on_the_cutoff_day() -> None:
    lib = lib_of(
        ("1OLD", "A", QUERY, "2019-12-31"),
        ("2NEW", "A", QUERY, "2020-01-01"),
        ("3UND", "A", QUERY, ""),
    )
    assert {h.id for h in search(lib, QUERY)} == {"1OLD_A", "2NEW_A", "3UND_A"}
    assert [h.id for h in search(lib, QUERY, cutoff="2020-01-01")] == ["1OLD_A"]
    assert search(lib, QUERY, cutoff="2019-12-31") == []
    with pytest.raises(InputError, match="--cutoff"):
        parse_cutoff("2020-13-01")


def test_mutated_relative_found_with_its_identity() -> None:
    s = np.array(list(QUERY))
    mut = np.random.default_rng(3).choice(np.arange(2, 78), 16, replace=False)  # 20 %
    s[mut] = ["A" if c != "A" else "C" for c in s[mut]]
    lib = lib_of(("1REL", "A", "".join(s), "2000-01-01"))
    (hit,) = search(lib, QUERY)
    assert hit.identity == pytest.approx(0.8) and hit.coverage == 1.0
    assert hit.evalue < 1e-6


# ----------------------------------------------------------------------------------- build
def test_header_dates(tmp_path: Path) -> None:
    pdb = tmp_path / "x.pdb"
    pdb.write_text(
        "HEADER    RNA\nREVDAT   2   01-JAN-05 1ABC    1\nREVDAT   1   27-FEB-95 1ABC    0\n"
    )
    assert header_release_date(pdb) == "1995-02-27"
    cif = tmp_path / "x.cif.gz"
    with gzip.open(cif, "wt") as fh:
        fh.write(
            "data_X\nloop_\n_pdbx_audit_revision_history.ordinal\n"
            "_pdbx_audit_revision_history.revision_date\n1 2012-05-09\n2 2013-01-01\n#\n"
        )
    assert header_release_date(cif) == "2012-05-09"
    assert entry_from_name(Path("pdb1abc.ent.gz")) == "1ABC"
    assert entry_from_name(Path("1abc.cif.gz")) == "1ABC"


def test_build_from_folder_skips_corrupt_file(tmp_path: Path) -> None:
    src = shared_path("data", "structures")
    d = tmp_path / "mirror" / "sub"
    d.mkdir(parents=True)
    shutil.copy(src / "1ehz.cif", d / "1ehz.cif")
    with open(src / "1gid.cif", "rb") as fi, gzip.open(d / "1gid.cif.gz", "wb") as fo:
        fo.write(fi.read())
    shutil.copy(src / "184D.cif", d / "184d.cif")  # DNA only: read, no RNA chain
    (d / "9bad.cif").write_text("data_bad\n_atom_site.x 1\nthis is not mmCIF\n")
    (d / "8bad.pdb.gz").write_bytes(b"\x1f\x8b truncated")
    (d / "notes.txt").write_text("ignored")
    skipped: list[str] = []
    lib, report = build_library(
        [tmp_path / "mirror"], {"1EHZ": "2000-03-21"}, on_skip=lambda f, r: skipped.append(f)
    )
    assert sorted(Path(f).name for f in skipped) == ["8bad.pdb.gz", "9bad.cif"]
    assert report.files == 3 and report.chains == 3
    assert [lib.chain_id(i) for i in range(len(lib))] == ["1EHZ_A", "1GID_A", "1GID_B"]
    assert lib.date[0] == "2000-03-21"
    assert len(lib.sequence(0)) == 76 and np.isfinite(lib.coords(0)).all()
    # 1ehz's own sequence finds it with identity 1
    hits = search(lib, lib.sequence(0))
    assert hits[0].id == "1EHZ_A" and hits[0].identity == 1.0


def test_cli_build_reports_bad_file_and_writes_library(tmp_path: Path) -> None:
    src = shared_path("data", "structures")
    shutil.copy(src / "1ehz.cif", tmp_path / "1ehz.cif")
    (tmp_path / "2bad.cif").write_text("garbage\n")
    out = tmp_path / "lib.npz"
    res = CliRunner().invoke(app, ["templates", "build", str(tmp_path), "-o", str(out)])
    assert res.exit_code == 3, res.output
    assert (
        "1 RNA chain from 1 file -> " in res.stderr and "(1 file skipped, 0 duplicate" in res.stderr
    )
    (skip,) = [line for line in res.stderr.splitlines() if line.startswith("skipped")]
    assert skip.startswith(f"skipped {tmp_path / '2bad.cif'}: ") and skip.count("2bad.cif") == 1
    assert len(load_library(out)) == 1
    again = CliRunner().invoke(app, ["templates", "build", str(tmp_path), "-o", str(out)])
    assert again.exit_code == 2 and "overwrite" in again.stderr  # never clobbered silently


def test_cli_build_checks_output_before_parsing(tmp_path: Path) -> None:
    (tmp_path / "2bad.cif").write_text("garbage\n")  # would be reported if it were parsed
    (tmp_path / "afile").write_text("")
    for out, why in [
        ("/proc/lib.npz", "its directory /proc is not writable"),
        (str(tmp_path / "afile" / "lib.npz"), "afile exists and is not a directory"),
        (str(tmp_path / "afile"), "output exists; pass --overwrite"),
        (str(tmp_path), "is a directory"),
    ]:
        res = CliRunner().invoke(app, ["templates", "build", str(tmp_path), "-o", out])
        assert res.exit_code == 2, res.output
        assert res.stderr.startswith(f"error: {out}: ") and why in res.stderr, res.stderr
        assert "skipped" not in res.stderr and "rnapredict-tmp" not in res.stderr
        assert "Errno" not in res.stderr


def test_build_reads_entry_and_late_revision_dates_from_the_file(tmp_path: Path) -> None:
    src = shared_path("data", "structures")
    # mmCIF revision history after _atom_site (1ehz.cif, 1gid.cif)
    assert header_release_date(src / "1ehz.cif") == "2000-10-02"
    assert header_release_date(src / "1gid.cif") == "1996-12-31"
    shutil.copy(src / "1ehz.cif", tmp_path / "1ehz.cif")
    shutil.copy(src / "1ehz.cif", tmp_path / "dupe_1EHZ.cif")  # same entry, another name
    shutil.copy(src / "1gid.cif", tmp_path / "mine.cif")
    lib, report = build_library([tmp_path], {"1GID": "1997-01-01"})
    assert [lib.chain_id(i) for i in range(len(lib))] == ["1EHZ_A", "1GID_A", "1GID_B"]
    assert report.duplicates == 1 and report.files == 3
    assert lib.date.tolist() == ["2000-10-02", "1997-01-01", "1997-01-01"]  # --dates by entry
    # self-exclusion works on the file's entry whatever the file was called
    assert search(lib, lib.sequence(0), "1EHZ_A") == []


def test_fasta_as_template_library_says_what_it_is(tmp_path: Path) -> None:
    fa = tmp_path / "seqs.fa"
    fa.write_text(">x\nGGGAAACCC\n")
    with pytest.raises(InputError) as err:
        load_library(fa)
    msg = str(err.value)
    assert "found a FASTA file" in msg and "expected a .npz template library" in msg
    assert "pickle" not in msg


# ------------------------------------------------------------------------------- candidate
def test_candidate_copies_template_and_fills_gaps() -> None:
    tseq = rand_seq(70)
    # query: 6-nt insertion after 30, 5-nt deletion at 50..55, 4 extra residues at the 3' end
    qseq = tseq[:30] + "GAUCAG" + tseq[30:50] + tseq[55:] + "CCCC"
    lib = lib_of(("1TPL", "A", tseq, "2000-01-01"))
    (hit,) = search(lib, qseq)
    ss = "." * len(qseq)
    cand = template_candidate(qseq, ss, hit, lib)
    x = cand.coords
    assert cand.source == "template" and x.shape == (len(qseq), 3) and np.isfinite(x).all()
    q, t = hit.pairs[:, 0], hit.pairs[:, 1]
    t_xyz = lib.coords(0)[t]
    # the deletion joins template residues 49 and 55 at query 55/56: that step is closed
    # (geometry.trace), moving the aligned residues next to it; the rest is a rigid copy
    far = np.abs(q - 55.5) > 12
    d_cand = np.linalg.norm(x[q[far]][:, None] - x[q[far]][None], axis=-1)
    d_tmpl = np.linalg.norm(t_xyz[far][:, None] - t_xyz[far][None], axis=-1)
    np.testing.assert_allclose(d_cand, d_tmpl, atol=1e-3)
    cfg = TraceConfig()
    steps = np.linalg.norm(np.diff(x, axis=0), axis=1)
    assert (
        cfg.min_step - cfg.tolerance <= steps.min() and steps.max() <= cfg.max_step + cfg.tolerance
    )
    free = np.setdiff1d(np.arange(len(qseq)), q)
    assert len(free) >= 10
    near_free = np.unique(np.clip(np.concatenate([free - 1, free]), 0, len(qseq) - 2))
    assert steps[near_free].min() > 3.0 and steps[near_free].max() < 9.0
    d = np.linalg.norm(x[:, None] - x[None], axis=-1) + np.eye(len(x)) * 99
    assert d[free].min() > 2.5  # no coincident C1′ around the filled stretches


def test_provider_puts_templates_first_then_prior(tmp_path: Path) -> None:
    p = tmp_path / "lib.npz"
    lib_of(("1TPL", "A", QUERY, "2000-01-01"), ("2TPL", "A", QUERY[:70], "2000-01-01")).save(p)
    ss = "." * len(QUERY)
    g = torch.Generator().manual_seed(0)
    cands = build_candidates(QUERY, ss, "input", PriorOptions("aform", 5, str(p)), g)
    assert [c.source for c in cands] == ["template"] * 3 + ["aform"]
    assert [c.info["template"] for c in cands[:3]] == ["1TPL_A", "2TPL_A", "1TPL_A"]
    assert [c.info["init_sigma"] for c in cands[:3]] == [0.25, 0.25, 1.0]
    none = build_candidates(QUERY, ss, "input", PriorOptions("aform", 5, "none"), g)
    assert [c.source for c in none] == ["aform"]
    cut = template_candidates(QUERY, ss, "input", str(p), 5, "2000-01-01")
    assert cut == []
    own = template_candidates(QUERY, ss, "input", str(p), 1, None, "1tpl_A")
    assert [c.info["template"] for c in own] == ["2TPL_A"]


# --------------------------------------------------------------------------------- outputs
def test_outputs_name_templates() -> None:
    info = {
        "source": "template",
        "ss_source": "vienna",
        "template": "4RZD_A",
        "entry": "4RZD",
        "chain": "A",
        "identity": 0.989,
        "coverage": 1.0,
        "release_date": "2015-07-01",
    }
    priors = [{**info, "init_sigma": 0.25}, {"source": "aform", "ss_source": "vienna"}, info]
    used = templates_used(priors)
    assert [u["template"] for u in used] == ["4RZD_A"]
    assert "source" not in used[0] and "init_sigma" not in used[0]
    (remark,) = template_remarks(info)
    assert remark == "TEMPLATE 4RZD CHAIN A IDENTITY 0.99 COVERAGE 1.00 RELEASED 2015-07-01"
    from rnapredict.geometry.aform import aform_structure

    model = aform_structure("GGGAAACCC", "(((...)))")
    text = structure_text([model], "pdb", title="x", remarks=[remark])
    assert f"REMARK   1 {remark}" in text
    assert HEADER[-1] == "templates"
    row = SummaryRow("x", 9, "ok", 50.0, 1.0, "x", 0, templates="4RZD_A,1EHZ_A")
    cells = row.to_line().rstrip("\n").split("\t")
    assert SummaryRow.from_cells(HEADER, cells).templates == "4RZD_A,1EHZ_A"


def test_fold_options_validate_templates(tmp_path: Path) -> None:
    from rnapredict.fold.options import FoldRunOptions

    with pytest.raises(InputError, match="not found"):
        FoldRunOptions(templates=str(tmp_path / "missing.npz"))
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        FoldRunOptions(cutoff="May 2020")
    opts = FoldRunOptions(templates="none", cutoff="2020-01-01")
    fo = opts.fold_options()
    assert fo.templates == "none" and fo.cutoff == "2020-01-01"
    assert aform_candidate("GGGAAACCC", "(((...)))").source == "aform"
