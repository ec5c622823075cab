"""Where the diffusion starts: 3D C1′ candidates from secondary structure, motifs and templates.

DESIGN.md step 3. :func:`rnapredict.prior.provider.build_candidates` is the one entry point the
engine calls; each source (A-form rule, motif-library assembly, templates) lives in its own
module and returns :class:`rnapredict.geometry.candidate.Candidate` objects.
"""
