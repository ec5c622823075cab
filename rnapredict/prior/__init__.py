"""Where the diffusion starts: 3D C1′ candidates from secondary structure, motifs and templates.

Pipeline step 3 of docs/DESIGN.md (drawn in docs/ARCHITECTURE.md).
:func:`rnapredict.prior.provider.build_candidates` is the one entry point the engine calls;
each source (A-form rule, motif-library assembly, templates) lives in its own
module and returns :class:`rnapredict.geometry.candidate.Candidate` objects.
"""
