"""Batch folding: ``rnapredict fold`` as a library.

:func:`~rnapredict.fold.runner.fold_inputs` folds FASTA inputs into an output directory
(per-record models, ``confidence.json``, ``summary.tsv``), with resume, sharding, pre-flight
memory checks and per-record isolation of failures.
"""

from rnapredict.fold.options import FoldRunOptions
from rnapredict.fold.results import BatchResult, RecordOutcome
from rnapredict.fold.runner import fold_inputs, fold_records
from rnapredict.fold.shard import Shard

__all__ = [
    "BatchResult",
    "FoldRunOptions",
    "RecordOutcome",
    "Shard",
    "fold_inputs",
    "fold_records",
]
