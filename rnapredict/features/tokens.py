"""Per-residue categorical features: nucleotide tokens and pairing state."""

from __future__ import annotations

import numpy as np

#: Token alphabet; index 4 (``N``) also stands for anything unknown.
ALPHABET = "ACGUN"
N_TOKENS = len(ALPHABET)
#: Pairing state classes: unpaired, opens a pair (partner downstream), closes (upstream).
N_PAIR_STATES = 3
#: Pair kinds: none, GC, AU, GU, other.
N_PAIR_KINDS = 5
_KIND = {frozenset("GC"): 1, frozenset("AU"): 2, frozenset("GU"): 3}


def tokenize(seq: str) -> np.ndarray:
    """[L] int64 token ids of ``seq`` (``ACGUN``; anything else → ``N``)."""
    table = np.full(256, ALPHABET.index("N"), dtype=np.int64)
    for k, ch in enumerate(ALPHABET):
        table[ord(ch)] = k
        table[ord(ch.lower())] = k
    table[ord("T")] = table[ord("t")] = ALPHABET.index("U")
    return table[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]


def pair_state(partner: np.ndarray) -> np.ndarray:
    """[L] int64: 0 unpaired, 1 paired downstream (j > i), 2 paired upstream (j < i)."""
    idx = np.arange(len(partner))
    return np.where(partner < 0, 0, np.where(partner > idx, 1, 2)).astype(np.int64)


def pair_kind(seq: str, partner: np.ndarray) -> np.ndarray:
    """[L] int64 kind of each residue's pair: 0 none, 1 GC, 2 AU, 3 GU, 4 other."""
    out = np.zeros(len(seq), dtype=np.int64)
    for i, j in enumerate(partner.tolist()):
        if j >= 0:
            out[i] = _KIND.get(frozenset((seq[i].upper(), seq[j].upper())), 4)
    return out
