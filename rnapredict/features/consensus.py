"""Consensus of several secondary structures: base pairs by votes, kept nested.

Pure functions over dot-brackets of ``(`` ``)`` ``.`` (ViennaRNA MFEs; parsed and written by
:mod:`rnapredict.io.secondary`); used by
:func:`rnapredict.features.vienna.mfe_structure` for ``energy_params="consensus"`` (pairs found
by most of ViennaRNA's energy parameter sets, then a refold under hard constraints).
"""

from __future__ import annotations

from collections.abc import Iterable

from rnapredict.io.secondary import pair_list, parse_dot_bracket

Pair = tuple[int, int]


def greedy_nested(ordered: Iterable[Pair], n: int) -> list[Pair]:
    """Pairs of ``ordered`` taken in turn when they share no residue with, and cross no pair
    already taken (the result is nested); sorted. ``n``: sequence length (residues < n)."""
    partner = [-1] * n
    taken: list[Pair] = []
    for i, j in ordered:
        if partner[i] >= 0 or partner[j] >= 0:
            continue
        if any(not i < partner[k] < j for k in range(i + 1, j) if partner[k] >= 0):
            continue  # a taken pair with one end inside (i, j) and the other outside
        partner[i], partner[j] = j, i
        taken.append((i, j))
    return sorted(taken)


def vote(structures: list[str], votes: int, prefer: int = 0) -> list[Pair]:
    """Nested pairs found in at least ``votes`` of ``structures`` (dot-brackets of equal length).

    Pairs are taken greedily (:func:`greedy_nested`) by votes (most first), then those of
    ``structures[prefer]`` first, then shorter span, then position; with ``votes`` above half of
    the structures no two candidates conflict and the order does not matter.
    """
    count: dict[Pair, int] = {}
    for ss in structures:
        for p in pair_list(parse_dot_bracket(ss)):
            count[p] = count.get(p, 0) + 1
    own = set(pair_list(parse_dot_bracket(structures[prefer])))
    cands = [p for p, c in count.items() if c >= votes]
    cands.sort(key=lambda p: (-count[p], p not in own, p[1] - p[0], p))
    return greedy_nested(cands, len(structures[0]))
