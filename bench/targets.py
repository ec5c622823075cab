"""Benchmark targets: validation chains and leave-family-out cross-validation folds.

- :func:`validation_targets`: the c1 validation split plus the all-atom validation chains
  (``allatom/<ENTRY>.pdb.gz`` read by :mod:`rnapredict.data.allatom`, C1′ and C3′ per residue
  that has a C1′).
- :func:`train_targets`: every train chain (c1 and all-atom; an all-atom chain also in c1 once).
- :func:`cv_folds`: K folds that never split a sequence family
  (:func:`rnapredict.data.families.family_ids`: shared 8-mers or ≈ 73 % identity), balanced
  by the number of evaluation targets; the motif library for fold k is built without fold k.

Every target's structure is the ViennaRNA MFE (what ``rnapredict fold`` uses without ``--ss``),
cached by sequence in a JSON file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnapredict.data.allatom import allatom_rows, chain_with_c1, read_entry
from rnapredict.data.sscache import SSCache
from rnapredict.train.data import load_chains


@dataclass(frozen=True)
class Target:
    """One chain to predict.

    Attributes:
        id: ``PDBID_CHAIN``; seq: [L] over ``ACGUN``; ss: [L] ViennaRNA MFE.
        c1: [L, 3] C1′ (Å); c3: [L, 3] C3′ (Å, NaN where missing) or None (C1′-only data).
        source: ``c1`` or ``allatom``.
    """

    id: str
    seq: str
    ss: str
    c1: np.ndarray
    c3: np.ndarray | None
    source: str


def allatom_targets(data: Path, split: str, ss: SSCache) -> list[Target]:
    """All-atom chains of ``split`` (``train`` / ``validation``), not already in c1: the
    residues with a C1′ atom (:func:`rnapredict.data.allatom.chain_with_c1`), C3′ NaN where
    missing."""
    rows = [r for r in allatom_rows(data, split) if r["in_c1"] != "True"]
    out, cache = [], {}
    for r in rows:
        entry = r["entry"]
        if entry not in cache:
            cache[entry] = read_entry(data, entry)
        chain = chain_with_c1(cache[entry], r["chain"])
        if chain.n_residues >= 3:
            c1, _ = chain.atom_coords("C1'")
            c3, _ = chain.atom_coords("C3'")
            tid = f"{entry}_{r['chain']}"
            out.append(Target(tid, chain.seq, ss(chain.seq), c1, c3, "allatom"))
    return out


def c1_targets(data: Path, split: str, ss: SSCache) -> list[Target]:
    """c1 chains of ``split`` with the MFE structure (not the PDB annotation)."""
    ss.save()
    chains = load_chains(data, split, ss.path)  # shares the cache file (same format)
    ss.reload()
    return [
        Target(c.id, c.seq, ss(c.seq), np.asarray(c.coords, np.float64), None, "c1") for c in chains
    ]


def validation_targets(data: Path, ss: SSCache) -> list[Target]:
    """c1 + all-atom validation chains, ordered by id."""
    return sorted(
        c1_targets(data, "validation", ss) + allatom_targets(data, "validation", ss),
        key=lambda t: t.id,
    )


def train_targets(data: Path, ss: SSCache) -> list[Target]:
    """c1 + all-atom train chains, ordered by id."""
    return sorted(
        c1_targets(data, "train", ss) + allatom_targets(data, "train", ss), key=lambda t: t.id
    )


def cv_folds(targets: list[Target], fam: list[int], k: int, min_length: int) -> list[int]:
    """Fold (0 … k−1) per target; a family stays in one fold; folds balanced by targets of
    length ≥ ``min_length`` (largest families placed first, ties by family id)."""
    size: dict[int, int] = {}
    for t, f in zip(targets, fam, strict=True):
        size[f] = size.get(f, 0) + (len(t.seq) >= min_length)
    load = [0] * k
    fold_of: dict[int, int] = {}
    for f in sorted(size, key=lambda f: (-size[f], f)):
        dest = min(range(k), key=lambda i: (load[i], i))
        fold_of[f] = dest
        load[dest] += size[f]
    return [fold_of[f] for f in fam]
