"""Interaction Network Fidelity (Parisien et al. 2009): INF = √(PPV · STY).

Interactions of the model are mapped onto reference residues and compared as sets: all
(base pairs with their Leontis–Westhof class + stackings), Watson–Crick (canonical cWW A–U,
G–C, G–U), non-Watson–Crick (other pairs, with class) and stacking. INF is 1 when both sets
are equal and non-empty, NaN when both are empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnapredict.score.basepairs import Interactions

Key = tuple[int, int, str]


@dataclass(frozen=True)
class INFResult:
    """INF for all interactions, WC pairs, non-WC pairs and stackings (NaN when undefined)."""

    all: float
    wc: float
    nwc: float
    stack: float

    def to_dict(self) -> dict[str, float | None]:
        return {
            f"inf_{k}": (None if math.isnan(v) else v)
            for k, v in (
                ("all", self.all),
                ("wc", self.wc),
                ("nwc", self.nwc),
                ("stack", self.stack),
            )
        }


def inf_score(model: set[Key], ref: set[Key]) -> float:
    """√(PPV · STY) of two interaction sets (NaN if both are empty, 0 if one is)."""
    if not model and not ref:
        return float("nan")
    tp = len(model & ref)
    if tp == 0:
        return 0.0
    return math.sqrt((tp / len(model)) * (tp / len(ref)))


def _sets(inter: Interactions, mapping: np.ndarray | None) -> dict[str, set[Key]]:
    """Interaction sets keyed by reference residue indices (``mapping`` model → ref, -1)."""

    def m(i: int) -> int:
        return i if mapping is None else int(mapping[i])

    out: dict[str, set[Key]] = {"wc": set(), "nwc": set(), "stack": set()}
    for p in inter.pairs:
        a, b = m(p.i), m(p.j)
        if a < 0 or b < 0:
            continue
        lw = p.lw if a < b else p.lw[0] + p.lw[2] + p.lw[1]
        a, b = min(a, b), max(a, b)
        if p.canonical:
            out["wc"].add((a, b, "cWW"))
        else:
            out["nwc"].add((a, b, lw))
    for s in inter.stackings:
        a, b = m(s.i), m(s.j)
        if a >= 0 and b >= 0:
            out["stack"].add((min(a, b), max(a, b), "stack"))
    return out


def inf(model: Interactions, ref: Interactions, mapping: np.ndarray | None = None) -> INFResult:
    """INF of model interactions against reference interactions.

    Args:
        model, ref: annotated interactions of each structure.
        mapping: [Lm] reference index of each model residue (-1 if unmatched), or None when
            indices already agree.
    """
    ms, rs = _sets(model, mapping), _sets(ref, None)
    every_m = ms["wc"] | ms["nwc"] | ms["stack"]
    every_r = rs["wc"] | rs["nwc"] | rs["stack"]
    return INFResult(
        all=inf_score(every_m, every_r),
        wc=inf_score(ms["wc"], rs["wc"]),
        nwc=inf_score(ms["nwc"], rs["nwc"]),
        stack=inf_score(ms["stack"], rs["stack"]),
    )
