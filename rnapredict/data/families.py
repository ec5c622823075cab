"""Sequence families of chains: single linkage on shared k-mers.

Used wherever a chain must not see its own relatives: training priors assembled with a motif
library that leaves the chain's family out, and the leave-family-out benches.
"""

from __future__ import annotations

from collections.abc import Sequence

#: k-mer length and the shared fraction (of the smaller k-mer set) that links two chains.
KMER, SHARED = 8, 0.3


class UnionFind:
    """Disjoint sets over ``0 … n−1`` (path halving; ``join(a, b)`` hangs b's set under a's)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def root(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        self.parent[self.root(b)] = self.root(a)


def kmer_families(
    ids: Sequence[str], seqs: Sequence[str], k: int = KMER, shared: float = SHARED
) -> dict[str, frozenset[str]]:
    """Chain id → ids of its family (itself included).

    Two chains are linked when at least ``shared`` of the smaller chain's distinct k-mers
    occur in the other; families are the connected components (union–find). O(N²) set
    intersections: fine for the ~10³ chains of the training data.
    """
    kmers = [{s[i : i + k] for i in range(len(s) - k + 1)} for s in seqs]
    uf = UnionFind(len(ids))
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            if kmers[a] and kmers[b]:
                common = len(kmers[a] & kmers[b]) / min(len(kmers[a]), len(kmers[b]))
                if common >= shared:
                    uf.join(b, a)
    groups: dict[int, set[str]] = {}
    for a, cid in enumerate(ids):
        groups.setdefault(uf.root(a), set()).add(cid)
    return {cid: frozenset(groups[uf.root(a)]) for a, cid in enumerate(ids)}
