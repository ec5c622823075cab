"""rnapredict.score — compare predicted RNA models with reference structures.

Entry points: :func:`rnapredict.score.api.score_structures` / ``score_models`` (all metrics),
:func:`rnapredict.score.clash.clashscore`, :func:`rnapredict.score.basepairs.structure_dot_bracket`
and ``annotate_base_pairs``, :func:`rnapredict.score.superpose.kabsch`.

Modules: ``superpose`` (Kabsch, RMSD), ``tmsearch`` (TM-score superposition search, d0 rules),
``tmscore`` (fixed correspondence, US-align ``-TMscore 1``), ``tmalign`` / ``tminit`` /
``localsearch`` / ``dp`` / ``fastfit`` / ``rnasec`` (TM-align, US-align default), ``lddt``,
``basepairs`` + ``inf`` (INF), ``clash`` + ``topology`` (clashscore), ``neighbors`` (cell
list), ``matching`` (residue correspondence), ``completeness`` (which metrics the atoms allow;
NA otherwise), ``api`` and ``report`` (results, table/TSV/JSON Lines).
Importing this package loads nothing heavy; numba is loaded only for structure alignment.
"""
