"""Sequence families of chains: the one definition every leave-family-out split uses.

Two chains are one family when either rule links them (single linkage, so families are the
connected components of both rules' links together):

- **shared k-mers** (:func:`kmer_links`): at least ``SHARED`` of the smaller chain's distinct
  8-mers occur in the other (catches chains that share a long segment: a domain, a construct
  around a common core);
- **identity** (:func:`identity_links`): the whole shorter chain aligns into the longer at
  ≈ 73 % identity (catches point-mutant series and homologues whose substitutions are spread
  too evenly to leave 8-mers in common).

The union, not one rule: a leave-family-out figure is only honest when no held-out chain has a
relative in training, and each rule alone misses relatives the other finds (they disagree on
101 of the 149 train chains ≥ 50 nt). Used by training (a chain's own family left out of the
motif library for its prior), the coarse-grained score's CV folds and ``bench/``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache

#: k-mer length and the shared fraction (of the smaller k-mer set) that links two chains.
KMER, SHARED = 8, 0.3
#: Alignment score per residue of the shorter chain at which two chains are one family
#: (match +1, mismatch −1: 0.45 ≈ 73 % identity over the shorter chain, far above chance).
FAMILY_SCORE = 0.45
#: Chains shorter than this (nt) are linked by identity to nothing (too short to tell).
FAMILY_MIN_LEN = 15
#: Chains at least this long (nt) link families by identity; shorter ones only join one.
FAMILY_LINK_LEN = 30


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


def kmer_links(seqs: Sequence[str], uf: UnionFind, k: int = KMER, shared: float = SHARED) -> None:
    """Join in ``uf`` every two chains of which at least ``shared`` of the smaller chain's
    distinct k-mers occur in the other. O(N²) set intersections: fine for ~10³ chains."""
    kmers = [{s[i : i + k] for i in range(len(s) - k + 1)} for s in seqs]
    for a in range(len(seqs)):
        for b in range(a + 1, len(seqs)):
            if kmers[a] and kmers[b]:
                common = len(kmers[a] & kmers[b]) / min(len(kmers[a]), len(kmers[b]))
                if common >= shared:
                    uf.join(b, a)


def identity_links(seqs: Sequence[str], uf: UnionFind, min_score: float = FAMILY_SCORE) -> None:
    """Join in ``uf`` the chains related by identity.

    Chains ≥ ``FAMILY_LINK_LEN`` nt are joined over pairs scoring ≥ ``min_score``; a chain of
    ``FAMILY_MIN_LEN`` … ``FAMILY_LINK_LEN`` − 1 nt joins the family of the long chain it
    matches best (short synthetic hairpins resemble each other by chance and would chain
    unrelated families together); shorter chains are joined to none. Score = global alignment
    of the whole shorter chain into the longer one (end gaps free in the longer only; match
    +1, mismatch −1, gap open −2, extend −1) over the shorter length; only pairs sharing a
    5-mer are aligned.
    """
    from Bio.Align import PairwiseAligner

    al = PairwiseAligner(mode="global", match_score=1.0, mismatch_score=-1.0)
    al.open_gap_score, al.extend_gap_score = -2.0, -1.0
    with warnings.catch_warnings():  # renamed attributes across Biopython versions
        warnings.simplefilter("ignore")
        al.query_end_gap_score = 0.0  # the longer chain (target) may overhang at both ends …
        al.target_end_gap_score = -1.0  # … the shorter one (query) is aligned over its length
    kmers = [{s[i : i + 5] for i in range(len(s) - 4)} for s in seqs]

    def score(i: int, j: int) -> float:
        short, long_ = sorted((seqs[i], seqs[j]), key=len)
        if not kmers[i] & kmers[j]:
            return -1.0
        return al.score(long_, short) / len(short)

    long_ids = [i for i, s in enumerate(seqs) if len(s) >= FAMILY_LINK_LEN]
    for a, i in enumerate(long_ids):
        for j in long_ids[a + 1 :]:
            if uf.root(i) != uf.root(j) and score(i, j) >= min_score:
                uf.join(i, j)
    for i, s in enumerate(seqs):
        if FAMILY_MIN_LEN <= len(s) < FAMILY_LINK_LEN:
            best = max(((score(i, j), -j) for j in long_ids), default=(-1.0, 0))
            if best[0] >= min_score:
                uf.join(-best[1], i)


@lru_cache(maxsize=8)
def _family_index(seqs: tuple[str, ...]) -> tuple[int, ...]:
    uf = UnionFind(len(seqs))
    kmer_links(seqs, uf)
    identity_links(seqs, uf)
    roots = [uf.root(i) for i in range(len(seqs))]
    number = {r: k for k, r in enumerate(dict.fromkeys(roots))}
    return tuple(number[r] for r in roots)


def family_ids(seqs: Sequence[str]) -> list[int]:
    """Family number per chain (0, 1, … in order of each family's first chain).

    Computed once per set of sequences and kept in memory (the identity rule aligns
    ~10⁵ pairs for the train split); families depend on the sequences only.
    """
    return list(_family_index(tuple(seqs)))


def families(ids: Sequence[str], seqs: Sequence[str]) -> dict[str, frozenset[str]]:
    """Chain id → ids of its family (itself included)."""
    fam = family_ids(seqs)
    groups: dict[int, set[str]] = {}
    for cid, f in zip(ids, fam, strict=True):
        groups.setdefault(f, set()).add(cid)
    return {cid: frozenset(groups[f]) for cid, f in zip(ids, fam, strict=True)}
