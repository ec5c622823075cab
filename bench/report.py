"""Time and size of the visual report (issue 17) for one long record.

    python -m bench.report [--length 1000] [--out DIR] [--repeats 3]

Folds one random sequence of ``--length`` nt (seeded; 5 models, shipped weights) into ``--out``
unless a fold output is already there, then builds its report ``--repeats`` times both ways —
from memory as ``fold --report`` does, and from the files as ``rnapredict report`` does — and
prints the best and median wall time and the best CPU time (the wall time on an idle core:
the work is single-threaded; use it on a shared machine) with a breakdown, and the sizes: HTML in all, HTML
without the inlined 3Dmol.js, the packed models, PNG and SVG. Targets: ≤ 3 s per record,
HTML ≤ 3 MB plus the viewer library.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _fold(fasta: Path, out: Path) -> None:
    from rnapredict.fold import FoldRunOptions, fold_inputs

    result = fold_inputs([str(fasta)], out, FoldRunOptions(overwrite=True))
    if result.exit_code != 0:
        raise SystemExit(f"fold failed (exit {result.exit_code})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=None, help="fold output dir (made if absent)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import numpy as np

    out = args.out or Path(tempfile.mkdtemp(prefix="rnapredict-bench-report-"))
    rid = f"rand{args.length}"
    directory = out / rid
    if not (directory / "confidence.json").is_file():
        rng = np.random.default_rng(args.length)
        fasta = out.parent / f"{rid}.fa"
        fasta.write_text(f">{rid}\n{''.join(rng.choice(list('ACGU'), args.length))}\n")
        t0 = time.perf_counter()
        _fold(fasta, out)
        print(f"folded {args.length} nt in {time.perf_counter() - t0:.1f} s (not timed below)")

    t0 = time.perf_counter()
    from rnapredict.report import ensemble, figures, viewer
    from rnapredict.report.record import build_record_report, load_record

    print(f"imports {time.perf_counter() - t0:.2f} s")
    doc, models = load_record(directory)
    build_record_report(directory, doc, models)  # warm-up (font cache, numba-free paths)

    def timed(fn) -> tuple[list[float], list[float]]:
        """Wall and CPU seconds per repeat (CPU: what the wall time is on an idle core)."""
        wall, cpu = [], []
        for _ in range(args.repeats):
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        return wall, cpu

    rows = [
        (
            "report, models in memory (fold --report)",
            timed(lambda: build_record_report(directory, doc, models)),
        ),
        (
            "report, from the files (rnapredict report)",
            timed(lambda: build_record_report(directory)),
        ),
        ("  read confidence.json + 5 model files", timed(lambda: load_record(directory))),
        ("  5 clashscores", timed(lambda: ensemble.analyse(models))),
        ("  superposition + pairwise RMSD", timed(lambda: ensemble.analyse(models, clashes=False))),
    ]
    plddt = np.array([m["plddt"] for m in doc["models"]])
    ss = doc["secondary_structure"]["dot_bracket"]

    def figs() -> None:
        from rnapredict.report.record import pair_arcs

        pairs, values, pk = pair_arcs(ss, plddt[0])
        fig = figures.confidence_figure(plddt, list("12345"), pairs=pairs, pair_values=values,
                                        pseudoknot=pk)  # fmt: skip
        figures.render(fig, "png")
        figures.render(fig, "svg")
        figures.render(figures.layout_figure(doc["sequence"], ss, plddt[0]), "png", dpi=110)

    rows.append(("  figures (PNG + SVG + 2D layout PNG)", timed(figs)))
    rows.append(
        (
            "  pack models for the viewer",
            timed(lambda: viewer.pack_models(models, list("12345"), list(plddt))),
        )
    )
    print(f"\n{args.length} nt, {models[0].n_atoms} atoms per model, {len(models)} models, "
          f"{args.repeats} repeats")  # fmt: skip
    print(f"{'step':<46}{'wall best s':>12}{'wall median s':>14}{'CPU best s':>12}")
    for name, (wall, cpu) in rows:
        print(f"{name:<46}{min(wall):>12.2f}{statistics.median(wall):>14.2f}{min(cpu):>12.2f}")

    html, png, svg = build_record_report(directory, doc, models)
    lib = len(viewer.asset_text("3Dmol-min.js").encode())
    packed = sum(
        len(m["xyz"]) for m in viewer.pack_models(models, list("12345"), list(plddt))["models"]
    )
    pdb_text = sum((directory / m["files"][0]).stat().st_size for m in doc["models"])
    size = len(html.encode())
    print(f"\n{'size':<46}{'MB':>8}")
    for name, n in [
        ("report.html", size),
        ("report.html without 3Dmol.js (target <= 3 MB)", size - lib),
        ("  models packed (base64 int32, 0.001 A)", packed),
        ("  the same models as PDB text, for comparison", pdb_text),
        ("report.png", len(png)),
        ("report.svg", len(svg)),
    ]:
        print(f"{name:<46}{n / 1e6:>8.2f}")


if __name__ == "__main__":
    main()
