"""Templates: homologous experimental structures as starting candidates (pipeline step 3 of
docs/DESIGN.md, drawn in docs/ARCHITECTURE.md).

- :mod:`.library` — the on-disk structure library (``.npz``, no pickles): per RNA chain its id,
  sequence, release date and C1′ coordinates.
- :mod:`.build` — ``rnapredict templates build``: PDB/mmCIF files (streamed) → library.
- :mod:`.dataset` — the shipped default library, built from the train split of ../shared/data.
- :mod:`.search` — k-mer prefilter + Biopython local alignment, release-date cutoff, hits.
- :mod:`.candidate` — one hit → a C1′ :class:`rnapredict.geometry.candidate.Candidate`.
"""
