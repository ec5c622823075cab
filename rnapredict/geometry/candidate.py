"""A C1′ starting point for the diffusion, with its provenance: what the prior and the
templates hand to the engine (here, below all three, so none imports another for it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Candidate:
    """One C1′ candidate of a record.

    Attributes:
        ss: dot-bracket (length L) the candidate was built from; the model is conditioned on it
            and the all-atom rebuild pairs residues by it.
        coords: [L, 3] C1′ coordinates, Å, finite.
        source: ``aform``, ``assembly`` or ``template``.
        info: JSON-serialisable provenance (library instances, template id/chain/identity,
            ss source …), written to ``confidence.json`` per model.
    """

    ss: str
    coords: np.ndarray
    source: str
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        c = np.asarray(self.coords)
        if c.ndim != 2 or c.shape[1] != 3 or c.shape[0] != len(self.ss):
            raise ValueError(f"candidate coords {c.shape} do not match ss of length {len(self.ss)}")
        if not np.isfinite(c).all():
            raise ValueError("candidate coords are not finite")


def aform_candidate(seq: str, ss: str, ss_source: str = "input") -> Candidate:
    """The A-form-from-secondary-structure rule (:mod:`rnapredict.geometry.aform`)."""
    from rnapredict.geometry.aform import aform_c1

    coords = np.asarray(aform_c1(seq, ss), dtype=np.float64)
    return Candidate(ss=ss, coords=coords, source="aform", info={"ss_source": ss_source})
