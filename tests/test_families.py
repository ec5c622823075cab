"""One family definition (``rnapredict.data.families``): chains related by either rule
(shared 8-mers, ≈ 73 % identity) are one family, and a CV fold never splits a family."""

from __future__ import annotations

import random

from bench.targets import Target, cv_folds
from rnapredict.data.families import UnionFind, families, family_ids, identity_links, kmer_links


def _random(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGU") for _ in range(n))


def _mutant(seq: str, every: int) -> str:
    """``seq`` with every ``every``-th base changed (no 8-mer survives at every = 6, 5-mers do)."""
    swap = {"A": "C", "C": "G", "G": "U", "U": "A"}
    return "".join(swap[c] if i % every == 0 else c for i, c in enumerate(seq))


def _linked(rule, seqs: list[str]) -> bool:  # noqa: ANN001
    uf = UnionFind(len(seqs))
    rule(seqs, uf)
    return uf.root(0) == uf.root(1)


BASE = _random(60, 1)
MUTANT = _mutant(BASE, 6)  # 83 % identity, no 8-mer in common: the old bench rule's family
SHARED = BASE[:40] + _random(40, 2)
DOMAIN = BASE[:40] + _random(40, 3)  # one 40-nt segment in common: the k-mer rule's family
OTHER = _random(60, 4)


def test_each_rule_alone_misses_a_family_the_other_finds() -> None:
    assert _linked(identity_links, [BASE, MUTANT]) and not _linked(kmer_links, [BASE, MUTANT])
    assert _linked(kmer_links, [SHARED, DOMAIN]) and not _linked(identity_links, [SHARED, DOMAIN])


def test_a_family_is_linked_by_either_rule() -> None:
    seqs = [BASE, OTHER, MUTANT, SHARED, DOMAIN]
    fam = family_ids(seqs)
    assert fam[0] == fam[2] == fam[3] == fam[4] != fam[1]
    assert fam == [0, 1, 0, 0, 0]  # numbered by each family's first chain
    sets = families(list("abcde"), seqs)
    assert sets["a"] == frozenset("acde") and sets["b"] == frozenset("b")


def test_chains_of_one_old_bench_family_stay_in_one_fold() -> None:
    """The point mutant shares no 8-mer with its parent (the k-mer rule alone put them in
    different folds); the one definition keeps them together."""
    seqs = [BASE, MUTANT] + [_random(60, 10 + k) for k in range(8)]
    targets = [Target(f"T{k}_A", s, "." * len(s), None, None, "c1") for k, s in enumerate(seqs)]
    fold = cv_folds(targets, family_ids(seqs), 5, 50)
    assert fold[0] == fold[1]
    assert len(set(fold)) == 5  # the unrelated chains are spread over all folds
