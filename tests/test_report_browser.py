"""A real report in a real browser: headless Chromium (software WebGL) loads ``report.html``
from a ``fold --report`` with the shipped weights, draws the 3D models and the figures.

Skipped where no Chromium is installed (Debian: ``apt-get install chromium``; ``.ci/run``
installs it) or no weights are shipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rnapredict.cli import app
from rnapredict.io.pdbio import read_structure

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no headless Chromium (Debian: apt-get install chromium; .ci/run installs it)",
    ),
]
#: Screenshot regions (pixels, 1400-px-wide window): inside the fixed 654×480 viewer box
#: (report.css) and the confidence figure below it.
VIEWER = (slice(140, 560), slice(60, 640))
FIGURE = (slice(700, 1300), slice(40, 1300))


def _shoot(html: Path, png: Path) -> str:
    """Load ``html`` headless; write a 1400×1400 screenshot to ``png``; return the DOM."""
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--use-gl=swiftshader",
        "--enable-unsafe-swiftshader",
        "--no-first-run",
        f"--user-data-dir={png.parent / 'profile'}",
        f"--screenshot={png}",
        "--dump-dom",
        "--window-size=1400,1400",
        "--virtual-time-budget=5000",
        html.resolve().as_uri(),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert png.is_file(), run.stderr[-2000:]
    return run.stdout


def _saturated(rgb: np.ndarray) -> int:
    """Pixels with a clear colour (not white, grey or black): only drawn content has them."""
    return int(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.25).sum())


def test_report_renders_models_and_figures(tmp_path: Path) -> None:
    if not (REPO / "weights" / "manifest.json").is_file():
        pytest.skip("no shipped weights")
    fasta = tmp_path / "tar.fa"
    fasta.write_text(">TAR\nGGCAGAUCUGAGCCUGGGAGCUCUCUGCC\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["fold", str(fasta), "-o", str(out), "--report", "-q"])
    assert res.exit_code == 0, res.output
    html = out / "TAR" / "report.html"
    dom = _shoot(html, tmp_path / "shot.png")

    n_atoms = sum(read_structure(p).n_atoms for p in sorted((out / "TAR").glob("model_*.pdb")))
    viewer = re.search(r'data-viewer="([^"]*)"', dom)
    assert viewer is not None and viewer.group(1) == f"ready {n_atoms}"  # all 5 models loaded
    assert 'data-images="2/2"' in dom  # both figures decoded

    import matplotlib.image

    shot = matplotlib.image.imread(tmp_path / "shot.png")[..., :3]
    box = shot[VIEWER]
    assert (box.min(axis=-1) < 0.95).mean() > 0.02  # the canvas is not blank white
    assert _saturated(box) > 1000  # and what is drawn is the pLDDT-coloured molecule
    figure = shot[FIGURE]
    assert (figure.max(axis=-1) < 0.3).sum() > 2000  # model 1's line, axes and labels
    assert _saturated(figure) > 2000  # the other models' lines and the coloured arcs
