"""Benchmark targets: validation chains and leave-family-out cross-validation folds.

- :func:`validation_targets`: the c1 validation split plus the all-atom validation chains
  (``allatom/<ENTRY>.pdb.gz`` read with gemmi, C1′ and C3′ per residue that has a C1′).
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

import gemmi
import numpy as np

from rnapredict.data.allatom import allatom_rows, entry_path
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


def _one_letter(name: str) -> str:
    info = gemmi.find_tabulated_residue(name)
    code = info.one_letter_code.upper() if info is not None else "N"
    return {"T": "U"}.get(code, code) if code in "ACGUT" else "N"


def _allatom_chain(st: gemmi.Structure, chain: str) -> tuple[str, np.ndarray, np.ndarray]:
    """(seq, C1′ [L, 3], C3′ [L, 3] NaN where missing) of the residues with a C1′ atom."""
    seq, c1, c3 = [], [], []
    for ch in st[0]:
        if ch.name != chain:
            continue
        for res in ch:
            a1 = res.find_atom("C1'", "*")
            if a1 is None:
                continue
            a3 = res.find_atom("C3'", "*")
            seq.append(_one_letter(res.name))
            c1.append(a1.pos.tolist())
            c3.append(a3.pos.tolist() if a3 is not None else [np.nan] * 3)
    return "".join(seq), np.array(c1, dtype=np.float64), np.array(c3, dtype=np.float64)


def allatom_targets(data: Path, split: str, ss: SSCache) -> list[Target]:
    """All-atom chains of ``split`` (``train`` / ``validation``), not already in c1."""
    rows = [r for r in allatom_rows(data, split) if r["in_c1"] != "True"]
    out, cache = [], {}
    for r in rows:
        entry = r["entry"]
        if entry not in cache:
            st = gemmi.read_structure(str(entry_path(data, entry)))
            st.remove_alternative_conformations()
            cache[entry] = st
        seq, c1, c3 = _allatom_chain(cache[entry], r["chain"])
        if len(seq) >= 3:
            out.append(Target(f"{entry}_{r['chain']}", seq, ss(seq), c1, c3, "allatom"))
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
