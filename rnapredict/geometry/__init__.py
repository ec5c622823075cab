"""rnapredict.geometry — ideal nucleotides, frames, NeRF, all-atom RNA from coarse coordinates.

Public entry points (all torch, batched over leading dims, differentiable unless noted):

- :func:`rnapredict.geometry.from_c1.c1_to_atoms` — C1′ trace [S, L, 3] + partners [L]
  -> atoms [S, L, A, 3], mask [L, A] (slots: ``NUCLEOTIDE_ATOMS`` order, A = 23).
- :func:`rnapredict.geometry.convert.atoms_to_structure` — slot atoms -> ``RnaStructure``;
  :func:`~rnapredict.geometry.convert.structure_to_atoms` the other way (numpy).
- :func:`rnapredict.geometry.nerf.torsions_to_atoms` — α β γ δ ε ζ χ + pucker [.., L, 8] -> atoms;
  :func:`rnapredict.geometry.torsions.atoms_to_torsions` its inverse;
  :func:`rnapredict.geometry.torsion_fit.fit_torsions` drift-free torsions of a real chain.
- :func:`rnapredict.geometry.aform.aform_c1` / :func:`~rnapredict.geometry.aform.aform_structure`
  — the A-form baseline from sequence + dot-bracket (numpy / ``RnaStructure``).
- :mod:`rnapredict.geometry.frames` — Gram–Schmidt frames, composition, rigid placement.
- :mod:`rnapredict.geometry.ideal` — the ideal geometry (Parkinson 1996, Olson 2001 bases).
"""
