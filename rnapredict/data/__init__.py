"""The project's data set (``../shared/data``, see its README.md): split policy and readers.

Everything that reads ``../shared/data`` goes through here (training, the motif library, the
template library, ``bench/``), so the split rule, the readers and the sequence families are
written once:

- :mod:`~rnapredict.data.split`: train / validation by release date (:func:`split_of`);
- :mod:`~rnapredict.data.c1`: ``c1/`` rows and C1′ coordinates;
- :mod:`~rnapredict.data.allatom`: ``allatom/`` rows, entry files and per-chain C1′ residues;
- :mod:`~rnapredict.data.pdb_ss`: PDB-derived secondary structures aligned onto a chain;
- :mod:`~rnapredict.data.sscache`: ViennaRNA MFE structures cached by sequence;
- :mod:`~rnapredict.data.families`: sequence families (leave-family-out);
- :mod:`~rnapredict.data.cutoff`: which experimental structures a fold may use (release-date
  cutoff, self-exclusion by PDB entry), for templates and motif instances alike.
"""

from __future__ import annotations

from pathlib import Path


def default_data_dir() -> Path:
    """``../shared/data`` beside the repository (the data sets' documented location)."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"
