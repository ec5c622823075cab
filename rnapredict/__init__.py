"""rnapredict: CPU-first RNA 3D structure prediction."""

__version__ = "0.1.0.dev0"
