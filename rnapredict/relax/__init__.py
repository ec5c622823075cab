"""Physics clean-up of models: PDBFixer + OpenMM (Amber14 RNA.OL3, GBn2), restrained L-BFGS.

- :mod:`~rnapredict.relax.api` — ``RelaxResult``, ``relax_model`` (one model; never raises for
  a per-model failure: ``ok=False`` and the input model kept).
- :mod:`~rnapredict.relax.options` — ``RelaxOptions``, measured defaults, ``FOLD_RELAX``.
- :mod:`~rnapredict.relax.files` — ``minimize_files`` (the ``minimize`` command's library).
- :mod:`~rnapredict.relax.fixer` — segments, templates, PDBFixer completion and hydrogens.
- :mod:`~rnapredict.relax.system` — force field, implicit solvent, restraints, platforms.
- :mod:`~rnapredict.relax.minimize` — the L-BFGS run and its NaN/inf checks.
- :mod:`~rnapredict.relax.convert` — OpenMM positions back to ``RnaStructure``.
- :mod:`~rnapredict.relax.report` — JSON / TSV / table output.

Nothing is imported here, so ``import rnapredict.relax`` does not load OpenMM.
"""
