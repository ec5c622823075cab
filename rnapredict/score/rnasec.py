"""Coarse RNA secondary-structure assignment from one atom per residue (US-align ``make_sec``).

Used only to seed TM-align: residue i is "paired" when it and a complementary residue j
(A–U, G–C, G–U) have representative atoms 12.5–15 Å apart (for C3'; other atoms have their
own window) and the pair is part of a stack of at least two. Codes: ``.`` unpaired,
``<`` paired downstream, ``>`` paired upstream.
"""

from __future__ import annotations

import numpy as np

from rnapredict.score.neighbors import point_pairs

#: (lower, upper) distance window (Å) per representative atom; others use the C3' window.
_WINDOWS: dict[str, tuple[float, float]] = {
    "C4'": (14.0, 16.0),
    "C5'": (16.0, 18.0),
    "O3'": (13.5, 16.5),
    "O5'": (15.5, 18.5),
    "P": (16.5, 21.0),
}
_C3P_WINDOW = (12.5, 15.0)
_COMPLEMENT = {("U", "A"), ("A", "U"), ("G", "C"), ("G", "U"), ("C", "G"), ("U", "G")}


def _stack_end(n: int, bp: set[tuple[int, int]], a: int, b: int) -> tuple[int, int]:
    """Innermost pair (c, d) of the stack starting at pair (a, b) (US-align ``sec_str``)."""
    k = 0
    while k < n:
        if a + k < n - 3 and b - k > 0:
            if a + k < b - k and (a + k, b - k) in bp:
                k += 1
                continue
            break
        k += 1
    return a + k - 1, b - k + 1


def rna_secondary(seq: str, xyz: np.ndarray, atom: str = "C3'") -> np.ndarray:
    """Per-residue codes ``. < >`` as a uint8 array.

    Args:
        seq: [L] one-letter nucleotides.
        xyz: [L, 3] representative-atom coordinates (Å).
        atom: representative atom name (chooses the distance window).

    Returns:
        [L] uint8 character codes.
    """
    n = len(seq)
    sec = np.full(n, ord("."), dtype=np.uint8)
    if n < 4:
        return sec
    lb, ub = _WINDOWS.get(atom, _C3P_WINDOW)
    letters = [c.upper().replace("T", "U") for c in seq]
    near, dist = point_pairs(xyz, ub)
    bp: set[tuple[int, int]] = {
        (int(i), int(j))
        for (i, j), d in zip(near, dist, strict=True)
        if d > lb and (letters[i], letters[j]) in _COMPLEMENT
    }
    stacks: list[tuple[int, int, int, int]] = []
    for i, j in sorted(bp):
        if j < i + 3:
            continue
        if i > 0 and j + 1 < n and (i - 1, j + 1) in bp:
            continue
        if (i + 1, j - 1) not in bp:
            continue
        ii, jj = _stack_end(n, bp, i, j)
        if jj < i or j < ii:
            ii, jj = i, j
        stacks.append((i, j, ii, jj))
    for a, _b, c, d_ in stacks:
        k = 0
        while a + k <= c:
            sec[a + k] = ord("<")
            if d_ + k < n:
                sec[d_ + k] = ord(">")
            k += 1
    return sec
