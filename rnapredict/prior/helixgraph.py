"""Helix graph of a secondary structure: stems (runs of stacked pairs) and the loops between them.

Only the nested level (``()`` after :func:`rnapredict.io.secondary.pseudoknot_levels`) is
laid out; pseudoknotted pairs are returned separately (``pk_pairs``) so the assembly can try
to bring them close. Every residue belongs to exactly one stem or one loop strand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnapredict.geometry.aform import layout_pairs
from rnapredict.io.secondary import pair_list, parse_dot_bracket


@dataclass(frozen=True)
class Stem:
    """Pairs ``(i + m, j - m)`` for ``m < n``; ``(i, j)`` is the outer pair (0-based)."""

    i: int
    j: int
    n: int

    @property
    def inner(self) -> tuple[int, int]:
        """The pair facing the loop this stem closes."""
        return self.i + self.n - 1, self.j - self.n + 1

    def strand1(self) -> np.ndarray:
        """[n] residues of the 5′ strand, outer pair first."""
        return np.arange(self.i, self.i + self.n)

    def strand2(self) -> np.ndarray:
        """[n] partners of :meth:`strand1`, same order."""
        return np.arange(self.j, self.j - self.n, -1)


@dataclass(frozen=True)
class Loop:
    """One loop: closed by stem ``parent`` (-1: the exterior loop), opening ``children``.

    Attributes:
        parent: index of the closing stem, -1 for the exterior loop.
        children: stem indices in 5′→3′ order.
        strands: unpaired residues between consecutive boundaries, ``len(children) + 1``
            tuples. Hairpin: one strand. Exterior: 5′ tail, linkers, 3′ tail.
        kind: ``hairpin``, ``internal`` (both strands unpaired), ``bulge``, ``stack``
            (0/0: two stems interrupted only by the helix break), ``junction`` (≥ 2
            children) or ``exterior``.
    """

    parent: int
    children: tuple[int, ...]
    strands: tuple[tuple[int, ...], ...]
    kind: str

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(len(s) for s in self.strands)


@dataclass(frozen=True)
class HelixGraph:
    """Stems and loops of one structure (length L); ``loops[0]`` is the exterior loop."""

    length: int
    stems: tuple[Stem, ...]
    loops: tuple[Loop, ...]
    loop_of_stem: tuple[int, ...]  # [S] index of the loop each stem closes
    pk_pairs: tuple[tuple[int, int], ...]


def _kind(parent: int, children: list[int], strands: list[list[int]]) -> str:
    if parent < 0:
        return "exterior"
    if not children:
        return "hairpin"
    if len(children) >= 2:
        return "junction"
    a, b = len(strands[0]), len(strands[1])
    if a and b:
        return "internal"
    return "bulge" if a or b else "stack"


def helix_graph(ss: str) -> HelixGraph:
    """Helix graph of a dot-bracket string of length L (any pseudoknot level), O(L)."""
    n = len(ss)
    full = parse_dot_bracket(ss)
    pairs = layout_pairs(ss)
    pk = tuple(p for p in pair_list(full) if pairs[p[0]] != p[1])
    stems: list[Stem] = []
    loops: list[Loop] = []
    loop_of_stem: list[int] = []

    def stem_at(i: int) -> int:
        j = int(pairs[i])
        m = 1
        while i + m < j - m and pairs[i + m] == j - m:
            m += 1
        stems.append(Stem(i, j, m))
        loop_of_stem.append(-1)
        return len(stems) - 1

    # Work list: (parent stem, first residue, last residue) of each loop's span.
    todo: list[tuple[int, int, int]] = [(-1, 0, n - 1)]
    while todo:
        parent, lo, hi = todo.pop()
        children: list[int] = []
        strands: list[list[int]] = [[]]
        k = lo
        while k <= hi:
            if pairs[k] > k:
                s = stem_at(k)
                children.append(s)
                strands.append([])
                k = int(pairs[k]) + 1
            else:
                strands[-1].append(k)
                k += 1
        idx = len(loops)
        loops.append(
            Loop(parent, tuple(children), tuple(tuple(s) for s in strands),
                 _kind(parent, children, strands))
        )  # fmt: skip
        if parent >= 0:
            loop_of_stem[parent] = idx
        for c in reversed(children):
            a, b = stems[c].inner
            todo.append((c, a + 1, b - 1))
    # Loops were appended depth-first; the exterior loop is first.
    return HelixGraph(n, tuple(stems), tuple(loops), tuple(loop_of_stem), pk)


def loop_tree(graph: HelixGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Owner loop of each residue [L] (a stem's residues: the loop holding the stem), parent
    loop of each loop [N] (-1: the exterior loop) and loop depth [N]."""
    n_loops = len(graph.loops)
    stem_owner = np.zeros(len(graph.stems), dtype=np.int64)
    for l, lp in enumerate(graph.loops):
        for c in lp.children:
            stem_owner[c] = l
    owner = np.zeros(graph.length, dtype=np.int64)
    parent = np.full(n_loops, -1, dtype=np.int64)
    for l, lp in enumerate(graph.loops):
        for s in lp.strands:
            owner[list(s)] = l
        if lp.parent >= 0:
            parent[l] = stem_owner[lp.parent]
    for s, st in enumerate(graph.stems):
        owner[st.strand1()] = stem_owner[s]
        owner[st.strand2()] = stem_owner[s]
    depth = np.zeros(n_loops, dtype=np.int64)
    for l in range(1, n_loops):  # loops are listed parents first
        depth[l] = depth[parent[l]] + 1
    return owner, parent, depth
