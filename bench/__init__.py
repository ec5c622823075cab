"""Benchmarks (speed, memory, accuracy): not part of the installed package, never timed in the
tests. Run each one as a module from the repository root, e.g. ``python -m bench.accuracy``
(so ``rnapredict`` and ``bench`` import from this tree without any ``sys.path`` edit).
"""
