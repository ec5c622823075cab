"""Sequence positions of a structure's residues with its numbering gaps kept.

A structure file may lack residues (disordered, or deleted): chain A numbered 1–19, 23–76 has
three residues missing. Text exports that number residues by position (c1-csv ``resid``,
FASTA) would otherwise put residue 23 at position 20. Gaps are read from the author
numbering inside a chain (consecutive residues without insertion codes whose numbers jump by
more than one); each chain starts at the position after the previous chain's last one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnapredict.io.structure import RnaStructure


@dataclass(frozen=True)
class Gap:
    """Residues ``first … last`` (author numbers) of ``chain`` absent from the structure."""

    chain: str
    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def describe(self) -> str:
        span = f"residue {self.first}" if self.size == 1 else f"residues {self.first}–{self.last}"
        return f"chain {self.chain} {span} missing"


def sequence_positions(model: RnaStructure) -> tuple[np.ndarray, list[Gap]]:
    """1-based positions [L] in the concatenated chains, numbering gaps kept, and the gaps.

    Example: chain A numbered 1–19, 23–25 → positions 1–19, 23–25 and one gap (20–22).
    """
    n = model.n_residues
    pos = np.zeros(n, dtype=np.int64)
    gaps: list[Gap] = []
    at = 0
    for i in range(n):
        if i and model.chain_ids[i] == model.chain_ids[i - 1]:
            a, b = int(model.res_ids[i - 1]), int(model.res_ids[i])
            plain = not model.ins_codes[i - 1].strip() and not model.ins_codes[i].strip()
            if plain and b > a + 1:
                gaps.append(Gap(model.chain_ids[i], a + 1, b - 1))
                at += b - a - 1
        at += 1
        pos[i] = at
    return pos, gaps


def gap_warning(target: str, gaps: list[Gap], what: str) -> str:
    """One warning line naming the gaps of ``target`` and how ``what`` marks them."""
    listed = "; ".join(g.describe() for g in gaps[:5])
    more = f" (+{len(gaps) - 5} more)" if len(gaps) > 5 else ""
    return f"{target}: {listed}{more}: {what}"
