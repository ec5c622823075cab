"""One template hit → a C1′ starting candidate for the query.

Aligned residues take the template's C1′. Each unaligned stretch comes from the normal prior
(the A-form rule on the query's structure), superposed onto the template by the aligned residues
flanking it (up to :data:`ANCHORS` each side), then bent linearly so both ends join their
neighbours. A few steps of a soft spring/repulsion relaxation move only the unaligned residues,
so consecutive C1′ sit near 5.9 Å and no two C1′ coincide; then any step still out of the
range a backbone spans (aligned neighbours from distant template residues) is closed
(:func:`rnapredict.geometry.trace.close_trace`). The model has no separate template
input: this candidate is both the diffusion's start and its conditioning (the sparse-edge
distances of the prior), so unaligned residues are conditioned on the prior's coordinates.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree

from rnapredict.geometry.candidate import Candidate, aform_candidate
from rnapredict.geometry.trace import close_trace
from rnapredict.score import superpose
from rnapredict.templates.library import TemplateLibrary
from rnapredict.templates.search import TemplateHit

ANCHORS = 4
BOND = 5.9  # Å, typical consecutive C1′–C1′ distance
MIN_SEP = 3.5  # Å, closer non-consecutive C1′ pairs are pushed apart
RELAX_STEPS = 60
#: Partial-diffusion start (Å) for template candidates, by copy: the first copy of a template
#: starts at 0.25 Å (the released model keeps the template's fold: 6XKO_A candidate TM 0.986 →
#: 0.982 vs 0.19 from the engine's 6 Å, bench/templates.py), repeats at 1 and 1.5 Å for
#: diversity (0.91 / 0.61 on 6XKO_A; the engine's 6 Å loses most template folds).
TEMPLATE_SIGMAS = (0.25, 1.0, 1.5)


def kabsch(mobile: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R [3, 3] and translation t [3] minimising |mobile @ R.T + t − target|
    (:func:`rnapredict.score.superpose.kabsch`).

    Args:
        mobile, target: [K, 3] Å, K ≥ 1 (K < 3: translation only).
    """
    if len(mobile) < 3:
        return np.eye(3), target.mean(0) - mobile.mean(0)
    return superpose.kabsch(mobile, target)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal [start, end) runs of True in a 1-D bool array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def fill_gaps(known: np.ndarray, coords: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Unknown rows of ``coords`` from ``prior``, superposed on the flanking known rows.

    Args:
        known: [L] bool; coords: [L, 3] Å (rows where ``known``); prior: [L, 3] Å.

    Returns:
        [L, 3] Å, finite.
    """
    out = coords.copy()
    if not known.any():
        return prior.copy()
    kidx = np.flatnonzero(known)
    for a, b in _runs(~known):
        left = kidx[kidx < a][-ANCHORS:]
        right = kidx[kidx >= b][:ANCHORS]
        anchors = np.concatenate([left, right])
        r, t = kabsch(prior[anchors], coords[anchors])
        seg = prior[a:b] @ r.T + t
        # bend the segment so its ends meet the template where the prior's anchors landed
        n = b - a
        w = (np.arange(1, n + 1) / (n + 1))[:, None]
        d_left = coords[a - 1] - (prior[a - 1] @ r.T + t) if a > 0 and known[a - 1] else 0.0
        d_right = coords[b] - (prior[b] @ r.T + t) if b < len(known) and known[b] else 0.0
        if np.ndim(d_left) and not np.ndim(d_right):
            d_right = d_left
        if np.ndim(d_right) and not np.ndim(d_left):
            d_left = d_right
        out[a:b] = seg + (1 - w) * d_left + w * d_right
    return out


def relax_free(x: np.ndarray, free: np.ndarray, steps: int = RELAX_STEPS) -> np.ndarray:
    """Move ``free`` rows of x [L, 3] (Å) toward BOND spacing and MIN_SEP separation."""
    x = x.copy()
    if not free.any():
        return x
    for _ in range(steps):
        g = np.zeros_like(x)
        d = x[1:] - x[:-1]
        n = np.linalg.norm(d, axis=1, keepdims=True).clip(1e-6)
        f = (n - BOND) * d / n  # pulls i+1 toward i when stretched
        g[1:] += f
        g[:-1] -= f
        pairs = cKDTree(x).query_pairs(MIN_SEP, output_type="ndarray")
        pairs = pairs[np.abs(pairs[:, 0] - pairs[:, 1]) > 1] if len(pairs) else pairs
        if len(pairs):
            d = x[pairs[:, 1]] - x[pairs[:, 0]]
            n = np.linalg.norm(d, axis=1, keepdims=True)
            tiny = n[:, 0] < 1e-3
            d[tiny] = np.array([1.0, 0.0, 0.0]) * (1 + pairs[tiny, :1] % 3)
            n = np.linalg.norm(d, axis=1, keepdims=True)
            f = (n - MIN_SEP) * d / n
            np.add.at(g, pairs[:, 1], f)
            np.add.at(g, pairs[:, 0], -f)
        g[~free] = 0.0
        x -= 0.3 * g
    return x


def template_candidate(
    seq: str,
    ss: str,
    hit: TemplateHit,
    lib: TemplateLibrary,
    ss_source: str = "input",
    prior: Candidate | None = None,
) -> Candidate:
    """C1′ candidate [L, 3] of ``seq`` from one template hit (``source="template"``)."""
    base = prior if prior is not None else aform_candidate(seq, ss, ss_source)
    t_xyz = lib.coords(hit.index).astype(np.float64)
    known = np.zeros(len(seq), dtype=bool)
    coords = np.zeros((len(seq), 3))
    coords[hit.pairs[:, 0]] = t_xyz[hit.pairs[:, 1]]
    known[hit.pairs[:, 0]] = True
    # the template's frame, centred like the prior (the model is translation-aware only
    # through its inputs' centring; keep the candidate's centroid at the origin)
    x = fill_gaps(known, coords, np.asarray(base.coords, dtype=np.float64))
    x = relax_free(x, ~known)
    # aligned neighbours whose template residues are far apart (a deletion in the query) or
    # too close leave a step no backbone spans: close it before it becomes the diffusion start
    x = close_trace(torch.from_numpy(x)).numpy()
    x -= x.mean(axis=0)
    info = {"ss_source": ss_source, **hit.info(), "init_sigma": TEMPLATE_SIGMAS[0]}
    return Candidate(ss=ss, coords=x, source="template", info=info)


def template_candidates(
    seq: str,
    ss: str,
    ss_source: str,
    library: str | None,
    n: int,
    cutoff: str | None = None,
    record_id: str | None = None,
) -> list[Candidate]:
    """Template candidates for one record, best hit first; [] when nothing qualifies.

    Args:
        library: library path, ``default`` (shipped; none if absent) or ``none``/None.
        n: slots of the ensemble (S). Up to ``SearchConfig.max_hits`` distinct templates; with
            fewer hits than half the slots, hits are repeated (best first, each repeat at the
            next of :data:`TEMPLATE_SIGMAS`) so that most samples start from a template.
        cutoff: ``YYYY-MM-DD``; templates released on or after it are never used.
        record_id: the query's id; the library chain with the same ``ENTRY_CHAIN`` is skipped.
    """
    from rnapredict.templates.library import resolve_library
    from rnapredict.templates.search import search

    lib = resolve_library(library)
    if lib is None or n < 1:
        return []
    hits = search(lib, seq, record_id, cutoff)
    if not hits:
        return []
    base = aform_candidate(seq, ss, ss_source)
    cands = [template_candidate(seq, ss, h, lib, ss_source, base) for h in hits[:n]]
    slots = min(n, max(len(cands), (n + 1) // 2))
    out = []
    for i in range(slots):
        c, copy = cands[i % len(cands)], i // len(cands)
        sigma = TEMPLATE_SIGMAS[min(copy, len(TEMPLATE_SIGMAS) - 1)]
        out.append(Candidate(c.ss, c.coords, c.source, {**c.info, "init_sigma": sigma}))
    return out
