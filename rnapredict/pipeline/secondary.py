"""Secondary structure of a record: the given one, or ViennaRNA's MFE (guided by probing
data when the record has some)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rnapredict.features.probing import soft_constraint
from rnapredict.features.secondary import predict_ss
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions


@dataclass(frozen=True)
class Secondary:
    """A record's secondary structure.

    Attributes:
        ss: [L] dot-bracket.
        source: ``input`` (given with the record) or ``vienna`` (MFE).
        constraint: the probing soft constraint (``--shape`` / ``--dms``;
            :func:`rnapredict.features.probing.soft_constraint`), or None without data.
    """

    ss: str
    source: str
    constraint: Callable[..., None] | None = None


def secondary(record: Record, options: FoldOptions) -> Secondary:
    """The record's structure: given (``record.ss``) or the MFE of its upper-cased sequence
    (energy parameters ``options.energy_params``)."""
    constraint = (
        None if record.probing is None else soft_constraint(record.probing, options.probing)
    )
    if record.ss is not None:
        return Secondary(record.ss, "input", constraint)
    mfe = predict_ss(record.seq.upper(), probing=constraint, config=options.vienna())
    return Secondary(mfe, "vienna", constraint)
