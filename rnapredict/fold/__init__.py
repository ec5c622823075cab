"""Batch folding: ``rnapredict fold`` as a library.

:func:`~rnapredict.fold.runner.fold_inputs` folds FASTA inputs into an output directory
(per-record models, ``confidence.json``, ``summary.tsv``), with resume, sharding, pre-flight
memory checks and per-record isolation of failures.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name → module that defines it (imported on first use: ``import rnapredict.fold``
#: and its light modules, which ``rnapredict --help`` loads, must not pull in torch).
_WHERE = {
    "BatchResult": "rnapredict.fold.results",
    "FoldRunOptions": "rnapredict.fold.options",
    "RecordOutcome": "rnapredict.fold.results",
    "Shard": "rnapredict.fold.shard",
    "fold_inputs": "rnapredict.fold.runner",
    "fold_records": "rnapredict.fold.runner",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'rnapredict.fold' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
