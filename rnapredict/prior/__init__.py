"""Where the diffusion starts: 3D C1′ candidates from secondary structure and motifs.

Pipeline step 3 of docs/DESIGN.md (drawn in docs/ARCHITECTURE.md).
The fold's candidate stage (:func:`rnapredict.pipeline.candidates.build_candidates`) combines
it with the templates; each source (A-form rule, motif-library assembly) lives in its own
module and returns :class:`rnapredict.geometry.candidate.Candidate` objects.
"""
