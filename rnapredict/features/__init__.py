"""Model inputs: tokens, secondary structure, sparse residue graph (O(L·K), never L×L).

Submodules: ``tokens``, ``secondary``, ``edges``, ``featurize`` (kept import-light: importing
this package does not import torch, so ``features.vienna`` stays cheap for the CLI).
"""
