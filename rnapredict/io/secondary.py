"""Secondary structures: dot-bracket ⇄ pair table, and pair-table validation.

A pair table is ``np.ndarray [L] int64``: ``pairs[i]`` is the 0-based partner of residue i,
``-1`` if unpaired. Dot-bracket uses ``()`` for the nested level and ``[] {} <>`` then letter
pairs ``Aa Bb … Zz`` for pseudoknot levels (30 levels). ``. - _ , :`` mark unpaired residues.
File formats (BPSEQ, CT, dot-bracket FASTA, ``--ss``) live in :mod:`rnapredict.io.ssfiles`.

Errors are :class:`~rnapredict.errors.SecondaryStructureError` with 1-based positions.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

import numpy as np

from rnapredict.errors import SecondaryStructureError

#: Bracket pairs by pseudoknot level, outermost (level 0) first.
BRACKET_LEVELS: tuple[str, ...] = ("()", "[]", "{}", "<>") + tuple(
    u + l for u, l in zip(string.ascii_uppercase, string.ascii_lowercase, strict=True)
)
UNPAIRED = frozenset(".-_,:")
_OPEN = {pair[0]: k for k, pair in enumerate(BRACKET_LEVELS)}
_CLOSE = {pair[1]: k for k, pair in enumerate(BRACKET_LEVELS)}


def parse_dot_bracket(
    s: str, *, file: str | None = None, record: str | None = None, line: int | None = None
) -> np.ndarray:
    """Pair table of a dot-bracket string.

    Args:
        s: [L] dot-bracket (brackets ``() [] {} <>``, letter pairs ``Aa`` … ``Zz``,
            unpaired ``. - _ , :``).
        file, record, line: location for error messages.
    Returns:
        pairs: [L] int64, 0-based partner or -1.
    Raises:
        SecondaryStructureError: stray character, a closing bracket without opener, or an
            unclosed opener, each with its 1-based position.
    """
    where = {"file": file, "record": record, "line": line}
    pairs = np.full(len(s), -1, dtype=np.int64)
    stacks: list[list[int]] = [[] for _ in BRACKET_LEVELS]
    for i, ch in enumerate(s):
        if ch in UNPAIRED:
            continue
        level = _OPEN.get(ch)
        if level is not None:
            stacks[level].append(i)
            continue
        level = _CLOSE.get(ch)
        if level is None:
            raise SecondaryStructureError(
                f"illegal character {ch!r} in dot-bracket structure", position=i + 1, **where
            )
        if not stacks[level]:
            raise SecondaryStructureError(
                f"unbalanced structure: {ch!r} has no matching {BRACKET_LEVELS[level][0]!r}",
                position=i + 1,
                **where,
            )
        j = stacks[level].pop()
        pairs[i], pairs[j] = j, i
    for level, stack in enumerate(stacks):
        if stack:
            raise SecondaryStructureError(
                f"unbalanced structure: {BRACKET_LEVELS[level][0]!r} is never closed",
                position=stack[-1] + 1,
                **where,
            )
    return pairs


def check_pairs(
    pairs: np.ndarray, *, file: str | None = None, record: str | None = None
) -> np.ndarray:
    """Validate a pair table (symmetric, in range, no self-pairs); return it as int64 [L].

    Raises:
        SecondaryStructureError: naming the 1-based position of the first bad entry.
    """
    where = {"file": file, "record": record}
    pairs = np.asarray(pairs)
    if pairs.ndim != 1 or (pairs.size and not np.issubdtype(pairs.dtype, np.integer)):
        raise SecondaryStructureError("pair table must be a 1-D integer array", **where)
    pairs = pairs.astype(np.int64)
    n = len(pairs)
    for i, j in enumerate(pairs.tolist()):
        if j == -1:
            continue
        if not 0 <= j < n:
            raise SecondaryStructureError(
                f"partner {j + 1} out of range 1..{n}", position=i + 1, **where
            )
        if j == i:
            raise SecondaryStructureError("residue paired with itself", position=i + 1, **where)
        if pairs[j] != i:
            other = int(pairs[j])
            raise SecondaryStructureError(
                f"paired with {j + 1}, but {j + 1} is "
                + ("unpaired" if other < 0 else f"paired with {other + 1}")
                + " (a base paired twice or a one-sided pair)",
                position=i + 1,
                **where,
            )
    return pairs


def pairs_from_list(
    n: int,
    pair_list: Iterable[tuple[int, int]],
    *,
    file: str | None = None,
    record: str | None = None,
) -> np.ndarray:
    """Pair table [L] from 0-based ``(i, j)`` pairs; a base in two pairs is an error."""
    where = {"file": file, "record": record}
    pairs = np.full(n, -1, dtype=np.int64)
    for i, j in pair_list:
        for a, b in ((i, j), (j, i)):
            if not 0 <= a < n:
                raise SecondaryStructureError(
                    f"position {a + 1} out of range 1..{n}", position=b + 1, **where
                )
        if i == j:
            raise SecondaryStructureError("residue paired with itself", position=i + 1, **where)
        for a, b in ((i, j), (j, i)):
            if pairs[a] not in (-1, b):
                raise SecondaryStructureError(
                    f"base paired twice (with {pairs[a] + 1} and {b + 1})",
                    position=a + 1,
                    **where,
                )
        pairs[i], pairs[j] = j, i
    return pairs


def pair_list(pairs: np.ndarray) -> list[tuple[int, int]]:
    """0-based ``(i, j)`` with ``i < j`` for every pair of a pair table, sorted by i."""
    pairs = np.asarray(pairs)
    idx = np.flatnonzero(pairs > np.arange(len(pairs)))
    return [(int(i), int(pairs[i])) for i in idx]


def pseudoknot_levels(pairs: np.ndarray) -> dict[tuple[int, int], int]:
    """Bracket level of each pair: nested pairs share a level, crossing ones do not.

    Greedy by opening position, each pair goes to the lowest level it does not cross;
    levels are then renumbered so the level with most pairs is 0 (``()``), and so on.
    """
    levels_open: list[list[int]] = []  # per level: stack of closing positions still open
    assigned: dict[tuple[int, int], int] = {}
    for i, j in pair_list(pairs):
        for level, stack in enumerate(levels_open):
            while stack and stack[-1] < i:
                stack.pop()
            if not stack or stack[-1] > j:  # nested inside (or free): no crossing
                stack.append(j)
                assigned[(i, j)] = level
                break
        else:
            levels_open.append([j])
            assigned[(i, j)] = len(levels_open) - 1
    counts = np.bincount(list(assigned.values()), minlength=len(levels_open))
    order = sorted(range(len(levels_open)), key=lambda k: (-counts[k], k))
    rank = {old: new for new, old in enumerate(order)}
    return {p: rank[k] for p, k in assigned.items()}


def to_dot_bracket(pairs: np.ndarray) -> str:
    """Dot-bracket string [L] of a pair table (pseudoknots get ``[] {} <> Aa …``).

    ``parse_dot_bracket(to_dot_bracket(p))`` equals ``p`` for every valid table.

    Raises:
        SecondaryStructureError: invalid table, or more than 30 pseudoknot levels.
    """
    pairs = check_pairs(pairs)
    out = ["."] * len(pairs)
    levels = pseudoknot_levels(pairs)
    if levels and max(levels.values()) >= len(BRACKET_LEVELS):
        raise SecondaryStructureError(
            f"more than {len(BRACKET_LEVELS)} pseudoknot levels: not expressible as dot-bracket"
        )
    for (i, j), level in levels.items():
        out[i], out[j] = BRACKET_LEVELS[level][0], BRACKET_LEVELS[level][1]
    return "".join(out)


def normalize_dot_bracket(s: str, **where: str | int | None) -> str:
    """Canonical form of a dot-bracket string (``.`` for unpaired, levels reassigned)."""
    return to_dot_bracket(parse_dot_bracket(s, **where))  # type: ignore[arg-type]
