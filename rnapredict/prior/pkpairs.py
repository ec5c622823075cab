"""Pseudoknotted pairs proposed on top of a nested structure (ViennaRNA proposes none).

No pseudoknot-aware predictor installs from PyPI as a working wheel (``hotknots`` 2.4 is a
C++ source build that reads parameter files from the working directory), so pairs are
proposed here: complementary stretches (Watson–Crick and GU, at least
:attr:`PkPairsConfig.min_pairs` stacked pairs) between a hairpin loop and another
single-stranded stretch of the nested structure — another hairpin loop (a kissing loop) or
a strand of an enclosing or sibling loop (an H-type pseudoknot) — scored by the ViennaRNA
free energy of the stem as a duplex (stacking + initiation, ``eval_structure`` on
``a&b``). The best non-overlapping stems are returned; callers let structures with and
without them compete (:func:`with_pseudoknots`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import RNA

from rnapredict.io.secondary import pair_list, pairs_from_list, parse_dot_bracket, to_dot_bracket
from rnapredict.prior.helixgraph import helix_graph

_PAIR = {"AU", "UA", "GC", "CG", "GU", "UG"}


@dataclass(frozen=True)
class PkPairsConfig:
    """Proposal settings.

    Attributes:
        min_pairs: shortest proposed stem (stacked pairs).
        max_pairs: longest stem considered (longer runs are cut to their best window).
        max_energy: a stem's duplex free energy (kcal/mol, ViennaRNA) must be at most this.
        min_free: unpaired residues a hairpin loop keeps besides the stem (it must still close).
        max_stems: stems returned (best first, non-overlapping).
    """

    min_pairs: int = 5
    max_pairs: int = 9
    max_energy: float = -5.0
    min_free: int = 2
    max_stems: int = 2


DEFAULT_PKPAIRS = PkPairsConfig()


@dataclass(frozen=True)
class PkProposal:
    """A proposed stem: pairs ``(i + m, j - m)``, m < n, and its duplex energy (kcal/mol)."""

    i: int
    j: int
    n: int
    energy: float

    def pairs(self) -> list[tuple[int, int]]:
        return [(self.i + m, self.j - m) for m in range(self.n)]


@lru_cache(maxsize=4096)
def duplex_energy(a: str, b: str) -> float:
    """ViennaRNA free energy (kcal/mol) of strands ``a`` and ``b`` (5′→3′) fully paired,
    ``a[m]`` with ``b[-1 - m]``, initiation included."""
    fc = RNA.fold_compound(f"{a}&{b}")
    return float(fc.eval_structure("(" * len(a) + ")" * len(b)))


def _runs(seq: str, s1: list[int], s2: list[int], cfg: PkPairsConfig) -> list[PkProposal]:
    """Best stem per maximal complementary run between strands ``s1`` (5′) and ``s2`` (3′)."""
    in2 = set(s2)
    out = []
    for i0 in s1:
        for j0 in s2:
            if j0 <= i0 or seq[i0] + seq[j0] not in _PAIR:
                continue
            # only start at a run's 5′ end
            if i0 - 1 in s1 and j0 + 1 in in2 and seq[i0 - 1] + seq[j0 + 1] in _PAIR:
                continue
            n = 0
            while (
                i0 + n in s1
                and j0 - n in in2
                and i0 + n < j0 - n - 3
                and seq[i0 + n] + seq[j0 - n] in _PAIR
            ):
                n += 1
            if n < cfg.min_pairs:
                continue
            best = None
            for w in range(cfg.min_pairs, min(n, cfg.max_pairs) + 1):
                for s in range(n - w + 1):
                    a = seq[i0 + s : i0 + s + w]
                    b = seq[j0 - s - w + 1 : j0 - s + 1]
                    e = duplex_energy(a, b)
                    if best is None or e < best.energy:
                        best = PkProposal(i0 + s, j0 - s, w, e)
            if best is not None and best.energy <= cfg.max_energy:
                out.append(best)
    return out


def propose_pk(seq: str, ss: str, cfg: PkPairsConfig = DEFAULT_PKPAIRS) -> list[PkProposal]:
    """Pseudoknot stems for ``seq`` on nested structure ``ss`` (length L), best first.

    Pairs join a hairpin loop with another single-stranded strand; residues paired in ``ss``
    are never used. Deterministic.
    """
    seq = seq.upper().replace("T", "U")
    graph = helix_graph(ss)
    hairpins = [
        list(lp.strands[0]) for lp in graph.loops
        if lp.kind == "hairpin" and len(lp.strands[0]) >= cfg.min_pairs + cfg.min_free
    ]  # fmt: skip
    strands = [list(s) for lp in graph.loops for s in lp.strands if s]
    found: list[PkProposal] = []
    for h in hairpins:
        for s in strands:
            if s == h:
                continue
            a, b = (h, s) if h[0] < s[0] else (s, h)
            found += _runs(seq, a, b, cfg)
    # A hairpin must keep min_free unpaired residues besides the stem.
    size = {r: len(h) for h in hairpins for r in h}
    found = [
        p for p in found
        if all(size.get(r, 10**9) - p.n >= cfg.min_free for r in (p.i, p.j))
    ]  # fmt: skip
    found.sort(key=lambda p: (p.energy, p.i, p.j))
    used: set[int] = set()
    out = []
    for p in found:
        res = {r for pr in p.pairs() for r in pr}
        if res & used:
            continue
        used |= res
        out.append(p)
        if len(out) == cfg.max_stems:
            break
    return out


def with_pseudoknots(ss: str, stems: list[PkProposal]) -> str:
    """``ss`` (dot-bracket, any level) with the proposed stems added."""
    pairs = pair_list(parse_dot_bracket(ss)) + [pr for p in stems for pr in p.pairs()]
    return to_dot_bracket(pairs_from_list(len(ss), pairs))


def pk_pair_set(ss: str) -> set[tuple[int, int]]:
    """Pseudoknotted pairs of a dot-bracket (those off the nested layout level)."""
    return set(helix_graph(ss).pk_pairs)


def score_proposals(
    native: set[tuple[int, int]], proposed: set[tuple[int, int]], slip: int = 1
) -> tuple[int, int]:
    """(proposed pairs matching a native pair within ``slip`` on both sides, native pairs
    recovered the same way)."""
    nat = np.array(sorted(native)).reshape(-1, 2)
    pro = np.array(sorted(proposed)).reshape(-1, 2)
    if not len(nat) or not len(pro):
        return 0, 0
    close = (np.abs(pro[:, None, :] - nat[None, :, :]) <= slip).all(-1)
    return int(close.any(1).sum()), int(close.any(0).sum())
