"""rnapredict.report — a self-contained visual report per prediction (HTML + PNG/SVG).

``report.html`` works offline (3Dmol.js, styles, data and figures inlined). Entry points:
:func:`rnapredict.report.record.write_record_report` (one fold output directory),
:func:`rnapredict.report.batch.build_reports` (``rnapredict report OUT [ID...]`` with
``OUT/index.html``) and :func:`rnapredict.report.scores.write_score_report`
(``rnapredict score --report``). Modules: ``ensemble`` (superposition, pairwise RMSD,
clashscores via rnapredict.score), ``viewer`` (models packed for 3Dmol.js), ``figures``
(matplotlib), ``page`` (HTML, offline check). Importing this package loads nothing heavy.
"""
