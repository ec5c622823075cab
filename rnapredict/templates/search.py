"""Template search: k-mer prefilter + Biopython local alignment, with a release-date cutoff.

The prefilter counts the query's distinct k-mers shared with each library chain (an inverted
index built once per library, O(T) memory); the best ``max_align`` chains are aligned exactly
(``Bio.Align.PairwiseAligner``, local, ``N`` a zero-score wildcard). A hit needs both identity
and coverage above the thresholds; chains of the query's own PDB entry and chains released on
or after the cutoff are never hits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from rnapredict.prior.cutoff import StructureCutoff, parse_cutoff
from rnapredict.templates.library import TemplateLibrary

__all__ = ["SearchConfig", "TemplateHit", "allowed", "parse_cutoff", "search"]

#: Gumbel parameters of local scores of random uniform RNA with the default scores (fitted on
#: 1,500 random pairs each of 50×200 … 200×200 nt; λ rounded down, i.e. conservative).
LAMBDA = 0.20
K_GUMBEL = 0.3

_CODE = np.full(256, 4, dtype=np.int64)
for _i, _c in enumerate(b"ACGU"):
    _CODE[_c] = _i


@dataclass(frozen=True)
class SearchConfig:
    """Search settings.

    Attributes:
        k: k-mer length of the prefilter (over ``ACGU``; k-mers with ``N`` are ignored).
        max_align: chains aligned exactly after the prefilter.
        max_hits: hits returned (templates used), best alignment score first.
        min_identity: identical / aligned residue pairs.
        min_coverage: aligned query residues / query length.
        min_query: shorter queries get no templates (nt).
        max_evalue: expected number of chance hits at least this good in a library of this
            size, E = K·L·T·exp(−λ·score) with λ, K fitted to random RNA (:data:`LAMBDA`,
            :data:`K_GUMBEL`); short queries need near-identity, long ones less.
        match, mismatch, gap_open, gap_extend: local alignment scores.
    """

    k: int = 5
    max_align: int = 64
    max_hits: int = 4
    min_identity: float = 0.6
    min_coverage: float = 0.6
    min_query: int = 10
    max_evalue: float = 0.1
    match: float = 2.0
    mismatch: float = -1.0
    gap_open: float = -5.0
    gap_extend: float = -1.0


@dataclass(frozen=True)
class TemplateHit:
    """One template: library row, alignment and its statistics.

    Attributes:
        index: row in the library; id: ``ENTRY_CHAIN``; date: release date or ``""``.
        pairs: [K, 2] int (query index, template index), increasing, 0-based.
        identity: identical / aligned pairs (0–1); coverage: K / query length (0–1).
        score: local alignment score; evalue: chance hits this good expected in the library.
        identical: the alignment spans the whole query at identity 1.0 (residues without
            coordinates included): a model started from it copies a deposited structure.
    """

    index: int
    id: str
    date: str
    pairs: np.ndarray
    identity: float
    coverage: float
    score: float
    evalue: float = 0.0
    identical: bool = False

    def info(self) -> dict[str, object]:
        """JSON provenance for ``confidence.json`` and the PDB REMARKs."""
        entry, _, chain = self.id.partition("_")
        return {
            "template": self.id,
            "entry": entry,
            "chain": chain,
            "identity": round(self.identity, 3),
            "coverage": round(self.coverage, 3),
            "release_date": self.date or None,
            "evalue": float(f"{self.evalue:.2g}"),
            "identical": self.identical,
        }


def _codes(seq: str) -> np.ndarray:
    return _CODE[np.frombuffer(seq.upper().encode("ascii"), dtype=np.uint8)]


def kmer_codes(codes: np.ndarray, k: int) -> np.ndarray:
    """Distinct k-mer codes (base 4) of one sequence's residue codes; k-mers with N dropped."""
    if len(codes) < k:
        return np.zeros(0, np.int64)
    win = np.lib.stride_tricks.sliding_window_view(codes, k)
    ok = (win < 4).all(axis=1)
    vals = np.sort((win[ok] * (4 ** np.arange(k - 1, -1, -1))).sum(axis=1))
    return vals[np.concatenate([[True], vals[1:] != vals[:-1]])] if len(vals) else vals


@dataclass(frozen=True)
class KmerIndex:
    """Inverted index: ``rows[start[c]:start[c+1]]`` are the chains holding k-mer c."""

    k: int
    start: np.ndarray
    rows: np.ndarray


@functools.lru_cache(maxsize=4)
def kmer_index(lib: TemplateLibrary, k: int) -> KmerIndex:
    """Build (once per library and k) the k-mer → chains index, vectorised over all chains."""
    codes = _CODE[lib.seq]
    n_res = len(codes)
    if n_res < k:
        return KmerIndex(k, np.zeros(4**k + 1, np.int64), np.zeros(0, np.int32))
    win = np.lib.stride_tricks.sliding_window_view(codes, k)  # [T - k + 1, k]
    row = np.repeat(np.arange(len(lib), dtype=np.int64), np.diff(lib.offsets))
    # a window is valid when it lies inside one chain and holds no N
    ok = (row[: n_res - k + 1] == row[k - 1 :]) & (win < 4).all(axis=1)
    vals = win[ok] @ (4 ** np.arange(k - 1, -1, -1))
    keys = np.sort(vals * len(lib) + row[: n_res - k + 1][ok])  # (k-mer, chain) keys
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]  # distinct (np.unique: slow)
    cat, rows = keys // len(lib), (keys % len(lib)).astype(np.int32)
    start = np.searchsorted(cat, np.arange(4**k + 1))
    return KmerIndex(k, start.astype(np.int64), rows)


@functools.lru_cache(maxsize=1)
def _aligner(cfg: SearchConfig):  # noqa: ANN202 - Bio.Align.PairwiseAligner
    from Bio.Align import PairwiseAligner

    a = PairwiseAligner()
    a.mode = "local"
    a.match_score, a.mismatch_score = cfg.match, cfg.mismatch
    a.open_gap_score, a.extend_gap_score = cfg.gap_open, cfg.gap_extend
    a.wildcard = "N"
    return a


def allowed(lib: TemplateLibrary, query_id: str | None, cutoff: str | None) -> np.ndarray:
    """[N] bool: chains that may be templates — not of the query's PDB entry
    (:func:`rnapredict.prior.cutoff.entry_id`), not the query's own ``ENTRY_CHAIN`` id, and
    released before the cutoff (:class:`rnapredict.prior.cutoff.StructureCutoff`)."""
    ok = StructureCutoff.for_record(cutoff, query_id).allowed(lib.entry_ids, lib.date)
    if query_id:
        ok &= lib.ids_upper != query_id.strip().upper()
    return ok


def prefilter(lib: TemplateLibrary, seq: str, cfg: SearchConfig, ok: np.ndarray) -> np.ndarray:
    """Up to ``cfg.max_align`` library rows sharing the most k-mers with ``seq`` (ties: row)."""
    idx = kmer_index(lib, cfg.k)
    q = kmer_codes(_codes(seq), cfg.k)
    if len(q) == 0:
        return np.zeros(0, np.int64)
    lo, hi = idx.start[q], idx.start[q + 1]
    hit_rows = np.concatenate([idx.rows[a:b] for a, b in zip(lo, hi, strict=True)])
    counts = np.bincount(hit_rows, minlength=len(lib)) * ok
    # a relative shares k-mers in proportion to the shorter of the two sequences
    need = max(1, min(3, len(q) // 10))
    cand = np.flatnonzero(counts >= need)
    order = np.lexsort((cand, -counts[cand]))
    return cand[order[: cfg.max_align]]


def _pairs(alignment) -> np.ndarray:  # noqa: ANN001 - Bio.Align.Alignment
    q_blocks, t_blocks = alignment.aligned
    out = [
        np.stack([np.arange(qs, qe), np.arange(ts, te)], axis=1)
        for (qs, qe), (ts, te) in zip(q_blocks, t_blocks, strict=True)
    ]
    return np.concatenate(out).astype(np.int64) if out else np.zeros((0, 2), np.int64)


def search(
    lib: TemplateLibrary,
    seq: str,
    query_id: str | None = None,
    cutoff: str | None = None,
    cfg: SearchConfig | None = None,
) -> list[TemplateHit]:
    """Templates for ``seq`` (``ACGUN``), best alignment score first; at most ``cfg.max_hits``.

    Args:
        query_id: the record id; no chain of the PDB entry it names (``1EVV``, ``1EVV_A``,
            ``pdb|1EVV|A`` …) and no chain with the same ``ENTRY_CHAIN`` id is a hit.
        cutoff: ``YYYY-MM-DD``; chains released on or after it (or with no date) are excluded.
    """
    cfg = cfg or SearchConfig()
    seq = seq.upper().replace("T", "U")
    if len(seq) < cfg.min_query or len(lib) == 0:
        return []
    ok = allowed(lib, query_id, cutoff)
    rows = prefilter(lib, seq, cfg, ok)
    aligner = _aligner(cfg)
    # score needed for E ≤ max_evalue: no alignment below it is worth tracing back
    space = K_GUMBEL * len(seq) * max(len(lib.seq), 1)
    min_score = np.log(space / cfg.max_evalue) / LAMBDA
    scored = []
    for r in rows:
        s = aligner.score(seq, lib.sequence(int(r)))
        if s >= min_score:
            scored.append((-s, int(r)))
    hits: list[TemplateHit] = []
    for neg, r in sorted(scored):
        tseq = lib.sequence(r)
        pairs = _pairs(aligner.align(seq, tseq)[0])
        if len(pairs) == 0:
            continue
        same = (
            np.frombuffer(seq.encode(), np.uint8)[pairs[:, 0]]
            == np.frombuffer(tseq.encode(), np.uint8)[pairs[:, 1]]
        )
        identity = float(same.mean())
        identical = bool(same.all()) and len(pairs) == len(seq)
        pairs = pairs[np.isfinite(lib.coords(r)[pairs[:, 1]]).all(axis=1)]
        coverage = len(pairs) / len(seq)
        if identity < cfg.min_identity or coverage < cfg.min_coverage:
            continue
        evalue = float(space * np.exp(-LAMBDA * -neg))
        hits.append(
            TemplateHit(
                r,
                lib.chain_id(r),
                str(lib.date[r]),
                pairs,
                identity,
                coverage,
                -neg,
                evalue,
                identical,
            )
        )
        if len(hits) >= cfg.max_hits:
            break
    return hits
