"""Visual reports (issue 17): packing, the offline check, the ensemble numbers, and the report
files written by ``fold --report``, ``rnapredict report`` and ``score --report``.

The browser check (3D canvas really drawn) is in ``test_report_browser.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rnapredict.engine
from rnapredict.cli import app
from rnapredict.io.pdbio import read_structure
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions
from rnapredict.report import batch, ensemble, page, viewer
from rnapredict.report import record as report_record
from rnapredict.score.superpose import superposed_rmsd
from tests.conftest import shared_path
from tests.test_fold_support import StubEngine

FASTA = ">hp1 hairpin\nGGGCGAAAGCCC\n((((....))))\n>pk two\nGGGAAACCCAGGGAAAUCCCUUU\n"
FASTA += "((((..[[[))))...]]]....\n"
VOID = {"meta", "img", "br", "hr", "input", "link", "area", "base", "col", "source", "wbr"}


class _Balanced(HTMLParser):
    """Fails on a closing tag that does not match the innermost open element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def parse_html(text: str) -> _Balanced:
    parser = _Balanced()
    parser.feed(text)
    parser.close()
    assert parser.stack == [], f"unclosed elements {parser.stack}"
    return parser


def models_json(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="rp-models">(.*?)</script>', text, re.S)
    assert m is not None
    return json.loads(m.group(1))


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> StubEngine:
    engine = StubEngine()
    monkeypatch.setattr(rnapredict.engine, "load_engine", lambda *a, **k: engine, raising=False)
    return engine


@pytest.fixture
def folded(stub: StubEngine, tmp_path: Path) -> Path:
    fasta = tmp_path / "in.fa"
    fasta.write_text(FASTA)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["fold", str(fasta), "-o", str(out), "--report", "-q"])
    assert res.exit_code == 0, res.output
    return out


# ------------------------------------------------------------------------------ units
def test_packed_coordinates_round_trip_at_pdb_precision() -> None:
    xyz = np.random.default_rng(0).uniform(-500.0, 500.0, size=(300, 3))
    back = viewer.unpack_coords(viewer.pack_coords(xyz))
    assert np.abs(back - xyz).max() <= 0.0005 + 1e-9  # rounded to 0.001 Å, not truncated
    assert np.array_equal(back, viewer.unpack_coords(viewer.pack_coords(back)))


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.example.org/3Dmol.js"></script>',
        "<link rel=stylesheet href=//fonts.example.org/a.css>",
        "<style>body{background:url( 'http://x.org/bg.png')}</style>",
        '<style>@import "https://x.org/a.css";</style>',
        "<script>fetch('https://api.example.org/data')</script>",
        '<script>import("https://x.org/m.js")</script>',
        '<script>x.open("GET", "http://x.org/a")</script>',
        '<img srcset="https://x.org/a.png 2x">',
    ],
)
def test_offline_check_finds_each_kind_of_network_reference(snippet: str) -> None:
    assert page.external_references(f"<p>fine</p>{snippet}<p>fine</p>")


def test_offline_check_ignores_mentions_and_data_uris() -> None:
    text = (
        '<p>see https://3dmol.org</p><img src="data:image/png;base64,AAAA">'
        '<script>var u = "https://files.rcsb.org/view/" + id;</script>'
    )
    assert page.external_references(text) == []
    # the vendored library mentions URLs (RCSB helpers) but references none
    assert page.external_references(viewer.asset_text("3Dmol-min.js")) == []


def test_vendored_viewer_is_the_stated_release() -> None:
    js = viewer.asset_text("3Dmol-min.js")
    readme = viewer.asset_text("README.md")
    assert hashlib.sha256(js.encode()).hexdigest() in readme
    assert "BSD-3-Clause" in viewer.asset_text("3Dmol-LICENSE.txt") + readme
    assert "</script" not in js.lower()


def test_ensemble_superposition_and_rmsd_agree() -> None:
    rng = np.random.default_rng(1)
    seq = "GGGAAACCCUUGG"
    base = StubEngine().predict(Record(id="x", seq=seq), FoldOptions(n_samples=3)).models
    moved = []
    for m in base:  # arbitrary rigid motions: the numbers must not change
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        q *= np.sign(np.linalg.det(q))
        moved.append(m.with_coords(m.coords @ q.T + rng.normal(0, 50, 3)))
    ens = ensemble.analyse(moved, clashes=False)
    c1 = [m.atom_coords("C1'")[0] for m in ens.models]
    for k in range(1, len(moved)):
        direct = float(np.sqrt(((c1[k] - c1[0]) ** 2).sum(axis=1).mean()))
        assert direct == pytest.approx(ens.rmsd[0, k], abs=1e-6)  # superposed on model 1
        ref = superposed_rmsd(base[k].atom_coords("C1'")[0], base[0].atom_coords("C1'")[0])
        assert ens.rmsd[0, k] == pytest.approx(ref, abs=1e-6)  # invariant to the motions
    assert np.allclose(ens.rmsd, ens.rmsd.T) and np.all(np.diag(ens.rmsd) == 0)
    assert ens.rmsd[0, 1] > 0.1  # the stub's models really differ


# ------------------------------------------------------------------------------ fold --report
def test_fold_report_files(folded: Path) -> None:
    for name, n_pairs in (("hp1", 4), ("pk", 7)):
        d = folded / name
        text = (d / "report.html").read_text()
        parser = parse_html(text)
        assert page.external_references(text) == []
        assert len(text.encode()) < 3_000_000
        # the embedded models are the model files, model 1 unmoved, at 0.001 Å
        data = models_json(text)
        assert [m["label"] for m in data["models"]] == [f"model {k}" for k in range(1, 6)]
        first = read_structure(d / "model_1.pdb")
        xyz = viewer.unpack_coords(data["models"][0]["xyz"])
        assert np.abs(xyz - first.coords).max() < 1e-6
        conf = json.loads((d / "confidence.json").read_text())
        assert data["models"][1]["b"] == conf["models"][1]["plddt"]
        # the figures: a real PNG (also inlined in the page) and a parseable SVG
        png = (d / "report.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        imgs = [a["src"] for t, a in parser.tags if t == "img"]
        assert base64.b64decode(imgs[0].split(",", 1)[1]) == png
        import matplotlib.image

        pixels = matplotlib.image.imread(io.BytesIO(png))
        assert pixels.shape[0] > 500 and pixels[..., :3].std() > 0.05  # not a blank picture
        svg = ET.fromstring((d / "report.svg").read_bytes())
        assert svg.tag.endswith("svg")
        # arcs: one per base pair, pseudoknotted ones (the [] pairs) flagged to go below
        ss = conf["secondary_structure"]["dot_bracket"]
        pairs, values, below = report_record.pair_arcs(ss, np.array(conf["models"][0]["plddt"]))
        assert len(pairs) == n_pairs and sum(below) == ss.count("[")
        i, j = pairs[0]
        assert values[0] == pytest.approx(
            (conf["models"][0]["plddt"][i] + conf["models"][0]["plddt"][j]) / 2
        )
    index = (folded / "index.html").read_text()
    links = [a["href"] for t, a in parse_html(index).tags if t == "a"]
    assert links == ["hp1/report.html", "pk/report.html"]


def test_report_command_rebuilds_the_same_bytes(folded: Path) -> None:
    before = {p: p.read_bytes() for p in folded.glob("*/report.*")}
    assert len(before) == 6
    res = CliRunner().invoke(app, ["report", str(folded)])
    assert res.exit_code == 0, res.output
    after = {p: p.read_bytes() for p in folded.glob("*/report.*")}
    assert after == before  # from the files == from memory at fold time; deterministic


def test_report_command_ids_and_errors(folded: Path, tmp_path: Path) -> None:
    (folded / "hp1" / "report.html").unlink()
    res = CliRunner().invoke(app, ["report", str(folded), "hp1"])
    assert res.exit_code == 0 and (folded / "hp1" / "report.html").is_file()
    res = CliRunner().invoke(app, ["report", str(folded), "nope"])
    assert res.exit_code == 2 and "no record 'nope'" in res.output
    res = CliRunner().invoke(app, ["report", str(tmp_path / "missing")])
    assert res.exit_code == 2
    (folded / "pk" / "model_3.pdb").unlink()  # incomplete record: reported, others go on
    result = batch.build_reports(folded)
    assert [i for i, _ in result.failed] == ["pk"] and len(result.written) == 1
    assert result.index is not None
    res = CliRunner().invoke(app, ["report", str(folded)])
    assert res.exit_code == 3


def test_resume_with_report_writes_the_missing_reports(folded: Path, tmp_path: Path) -> None:
    """A record that --resume skips as complete still gets its report (index links it)."""
    (folded / "hp1" / "report.html").unlink()
    before = (folded / "pk" / "report.html").stat().st_mtime_ns
    res = CliRunner().invoke(
        app, ["fold", str(tmp_path / "in.fa"), "-o", str(folded), "--resume", "--report", "-q"]
    )
    assert res.exit_code == 0, res.output
    assert (folded / "hp1" / "report.html").is_file()
    assert (folded / "pk" / "report.html").stat().st_mtime_ns == before  # not rebuilt
    assert 'href="hp1/report.html"' in (folded / "index.html").read_text()


def test_failed_report_does_not_fail_the_record(
    stub: StubEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("figure backend exploded")

    monkeypatch.setattr(report_record, "build_record_report", broken)
    fasta = tmp_path / "in.fa"
    fasta.write_text(FASTA)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["fold", str(fasta), "-o", str(out), "--report", "-q"])
    assert res.exit_code == 0
    assert (out / "hp1" / "confidence.json").is_file()
    assert not (out / "hp1" / "report.html").exists()
    said = res.output + capfd.readouterr().err
    assert "report not written: RuntimeError: figure backend exploded" in said


def test_refold_without_report_removes_the_stale_report(folded: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["fold", str(tmp_path / "in.fa"), "-o", str(folded), "--overwrite", "-q"]
    )
    assert res.exit_code == 0
    assert not list(folded.glob("*/report.*"))  # would describe models that are gone


# ------------------------------------------------------------------------------ score --report
@pytest.mark.shared
def test_score_report(tmp_path: Path) -> None:
    fx = shared_path("fixtures", "score")
    ref = fx / "natives" / "1ehz_A.pdb"
    models = [fx / "models" / f"1ehz_A__{k}.pdb" for k in ("noise1", "hinge30")]
    out = tmp_path / "cmp.html"
    args = ["score", *map(str, models), "--ref", str(ref), "--no-inf"]
    res = CliRunner().invoke(app, [*args, "--json", "--report", str(out)])
    assert res.exit_code == 0, res.output
    scores = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert len(scores) == len(models)
    text = out.read_text()
    parse_html(text)
    assert page.external_references(text) == []
    for s in scores:
        assert f"<td>{s['tm_ref']:.3f}</td>" in text
    data = models_json(text)
    assert [m["style"] for m in data["models"]] == ["reference", "confidence", "confidence"]
    # model 1 moved onto the reference: C3' RMSD over aligned residues equals the table's
    ref_xyz = read_structure(ref).atom_coords("C3'")[0]
    moved = viewer.unpack_coords(data["models"][1]["xyz"])
    m1 = read_structure(models[0])
    c3 = np.array([n == "C3'" for n in m1.atom_names])
    d = moved[c3] - ref_xyz[m1.atom_res[c3]]
    assert float(np.sqrt((d**2).sum(1).mean())) == pytest.approx(scores[0]["rmsd"], abs=0.01)
    assert out.with_suffix(".png").is_file() and out.with_suffix(".svg").is_file()
    res = CliRunner().invoke(app, [*args, "--report", str(out)])
    assert res.exit_code == 2 and "exists" in res.output  # never clobbered


@pytest.mark.shared
@pytest.mark.parametrize("case", ["align-structure", "reference-missing-residues"])
def test_score_report_with_unaligned_residues(tmp_path: Path, case: str) -> None:
    """Residues without an lDDT (unaligned, or absent from the reference) are drawn grey
    (JSON null), not NaN — which crashed the report (ValueError, exit 1, no HTML)."""
    from rnapredict.io.pdbio import write_models

    fx = shared_path("fixtures", "score")
    ref = fx / "natives" / "1ehz_A.pdb"
    model = fx / "models" / "1ehz_A__hinge30.pdb"
    extra = ["--align", "structure"]
    if case == "reference-missing-residues":
        native = read_structure(ref)
        ref = write_models(
            [native.select_residues(np.arange(10, native.n_residues))], tmp_path / "r.pdb"
        )
        extra = []
    out = tmp_path / "cmp.html"
    args = ["score", str(model), "--ref", str(ref), "--no-inf", *extra, "--report", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    b = models_json(out.read_text())["models"][1]["b"]
    assert len(b) == read_structure(model).n_residues
    assert None in b and all(v is None or 0.0 <= v <= 100.0 for v in b)
    if case == "reference-missing-residues":
        assert b[:10] == [None] * 10 and None not in b[10:]


class _TemplateStub(StubEngine):
    """The stub engine with model 1 started from a template, the others from the assembly."""

    def predict(self, record: Record, options: FoldOptions):  # noqa: ANN201
        pred = super().predict(record, options)
        tmpl = {"source": "template", "template": "1ABC_A", "entry": "1ABC", "chain": "A"}
        tmpl |= {"identity": 0.95, "coverage": 0.9, "release_date": "1999-01-01"}
        tmpl |= {"evalue": 1e-9, "identical": False, "init_sigma": 0.25}
        rest = [{"source": "assembly", "instances": []}] * (len(pred.models) - 1)
        pred.model_prior = [tmpl, *rest]
        return pred


def test_report_names_template_models_and_reads_provenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _TemplateStub()
    monkeypatch.setattr(rnapredict.engine, "load_engine", lambda *a, **k: engine, raising=False)
    fasta = tmp_path / "in.fa"
    fasta.write_text(FASTA)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["fold", str(fasta), "-o", str(out), "--report", "-q"])
    assert res.exit_code == 0, res.output
    text = (out / "hp1" / "report.html").read_text()
    parse_html(text)
    rows = re.findall(r"<tr>(.*?)</tr>", text, re.S)
    ranking = [r for r in rows if "<td>model " in r and r.count("<td") == 7]
    assert len(ranking) == 5 and "<td>template 1ABC_A</td>" in ranking[0]
    assert all("<td>assembly</td>" in r for r in ranking[1:])
    provenance = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", text, re.S))
    assert provenance["templates"] == ("1ABC_A (identity 0.95, coverage 0.90, released 1999-01-01)")
    for value in provenance.values():  # no raw JSON, no Python None
        assert "None" not in value and "{" not in value and "[" not in value, value
    assert "steps=" not in provenance["options"] and "n_samples=5" in provenance["options"]
    assert re.fullmatch(r"\d+\.\d s", provenance["fold time"])
    index = (out / "index.html").read_text()
    assert "<th" in index and ">templates<" in index and "<td>1ABC_A</td>" in index


def test_resume_with_report_reads_the_summary_once(
    folded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Completing the reports after a fold reads summary.tsv once (it was read two or three
    times: missing reports, then build, then index)."""
    reads = []
    real = batch.read_summary

    def counting(path):
        reads.append(path)
        return real(path)

    monkeypatch.setattr(batch, "read_summary", counting)
    (folded / "hp1" / "report.html").unlink()
    result = batch.complete_reports(folded)
    assert len(reads) == 1
    assert [p.parent.name for p in result.written] == ["hp1"] and result.failed == []
    assert 'href="hp1/report.html"' in (folded / "index.html").read_text()
