"""Tertiary contacts of a C1′ trace given its secondary structure (sequence-blind).

Issue 24: arrangements of one secondary structure differ in which elements touch. Residues are
paired (in any base pair of the structure) or unpaired, and belong to one element: a stem of
the helix graph, or a loop. A *contact* is two residues of different elements, at least
:data:`NONLOCAL` apart in sequence, whose C1′ lie within a distance bin. Per trace:

- counts per residue of contacts by type — paired–paired (helix packing), paired–unpaired
  (A-minor-like: a loop strand in a helix's groove), unpaired–unpaired (kissing /
  loop–receptor proxy) — × distance bin (:data:`DIST_EDGES`);
- the fraction of unpaired residues with a paired contact within :data:`TOUCH` Å, of unpaired
  residues with an unpaired contact within it, and of paired residues with a paired contact
  within it;
- the relative contact order: mean |i − j| / L over C1′ pairs within :data:`ORDER_RADIUS` Å
  (|i − j| ≥ 3).

Only distances between C1′ atoms and the dot-bracket enter: the same coordinates with any
sequence give the same features, invariant to rotation and translation.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from rnapredict.io.secondary import pair_list, parse_dot_bracket
from rnapredict.prior.helixgraph import helix_graph

#: Smallest sequence separation of a contact.
NONLOCAL = 12
#: Upper edges (Å) of the contact distance bins (the first starts at 0).
DIST_EDGES = (6.0, 8.0, 10.0, 12.0, 15.0, 20.0)
#: Distance (Å) within which a residue counts as touching another element.
TOUCH = 8.0
#: Neighbour radius (Å) of the contact order.
ORDER_RADIUS = 12.0
#: Contact types (PP, PU, UU) × bins, 3 touching fractions, contact order.
N_FEATURES = 3 * len(DIST_EDGES) + 3 + 1


@lru_cache(maxsize=256)
def elements(ss: str) -> tuple[np.ndarray, np.ndarray]:
    """[L] paired flag (any pair, pseudoknots included) and [L] element id (stems 0 … S − 1,
    loop strands' residues S + loop index) of a dot-bracket. Cached, read-only."""
    graph = helix_graph(ss)
    n = len(ss)
    paired = np.zeros(n, dtype=bool)
    for i, j in pair_list(parse_dot_bracket(ss)):
        paired[[i, j]] = True
    elem = np.zeros(n, dtype=np.int64)
    for s, st in enumerate(graph.stems):
        elem[st.strand1()] = s
        elem[st.strand2()] = s
    for l, lp in enumerate(graph.loops):
        for strand in lp.strands:
            elem[list(strand)] = len(graph.stems) + l
    paired.flags.writeable = False
    elem.flags.writeable = False
    return paired, elem


def contact_features(xyz: np.ndarray, ss: str) -> np.ndarray:
    """[N_FEATURES] contact features of one C1′ trace ``xyz`` [L, 3] (Å) with structure ``ss``."""
    from scipy.spatial import cKDTree

    x = np.asarray(xyz, dtype=np.float64)
    n = len(x)
    out = np.zeros(N_FEATURES)
    if n < 2:
        return out
    paired, elem = elements(ss)
    ij = cKDTree(x).query_pairs(max(DIST_EDGES[-1], ORDER_RADIUS), output_type="ndarray")
    ij = ij.astype(np.int64).reshape(-1, 2)
    i, j = ij.min(1), ij.max(1)
    d = np.linalg.norm(x[i] - x[j], axis=-1)
    sep = j - i
    near = (d < ORDER_RADIUS) & (sep >= 3)
    if near.any():
        out[-1] = sep[near].mean() / n
    keep = (sep >= NONLOCAL) & (elem[i] != elem[j])
    i, j, d = i[keep], j[keep], d[keep]
    kind = 2 - paired[i].astype(np.int64) - paired[j].astype(np.int64)  # 0 PP, 1 PU, 2 UU
    b = np.searchsorted(np.asarray(DIST_EDGES), d, side="right")
    ok = b < len(DIST_EDGES)
    nb = len(DIST_EDGES)
    out[: 3 * nb] = np.bincount(kind[ok] * nb + b[ok], minlength=3 * nb) / n
    touch = d < TOUCH
    for k, (mine, other) in enumerate(((False, True), (False, False), (True, True))):
        hit = np.zeros(n, dtype=bool)
        for a, c in ((i, j), (j, i)):
            sel = touch & (paired[a] == mine) & (paired[c] == other)
            hit[a[sel]] = True
        base = (paired == mine).sum()
        out[3 * nb + k] = hit.sum() / base if base else 0.0
    return out
