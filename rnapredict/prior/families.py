"""Sequence families of chains: single linkage on shared k-mers.

Used wherever a chain must not see its own relatives: training priors assembled with a motif
library that leaves the chain's family out, and the leave-family-out benches.
"""

from __future__ import annotations

from collections.abc import Sequence

#: k-mer length and the shared fraction (of the smaller k-mer set) that links two chains.
KMER, SHARED = 8, 0.3


def kmer_families(
    ids: Sequence[str], seqs: Sequence[str], k: int = KMER, shared: float = SHARED
) -> dict[str, frozenset[str]]:
    """Chain id → ids of its family (itself included).

    Two chains are linked when at least ``shared`` of the smaller chain's distinct k-mers
    occur in the other; families are the connected components (union–find). O(N²) set
    intersections: fine for the ~10³ chains of the training data.
    """
    kmers = [{s[i : i + k] for i in range(len(s) - k + 1)} for s in seqs]
    root = list(range(len(ids)))

    def find(a: int) -> int:
        while root[a] != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            if kmers[a] and kmers[b]:
                common = len(kmers[a] & kmers[b]) / min(len(kmers[a]), len(kmers[b]))
                if common >= shared:
                    root[find(a)] = find(b)
    groups: dict[int, set[str]] = {}
    for a, cid in enumerate(ids):
        groups.setdefault(find(a), set()).add(cid)
    return {cid: frozenset(groups[find(a)]) for a, cid in enumerate(ids)}
