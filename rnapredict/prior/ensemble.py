"""Secondary-structure ensemble: the record's structure plus distinct ViennaRNA samples.

Pipeline step 3 of docs/DESIGN.md (drawn in docs/ARCHITECTURE.md). Structures are drawn by
stochastic backtracking from ViennaRNA's partition function without repeats
(``pbacktrack(n, PBACKTRACK_NON_REDUNDANT)``), seeded through ``RNA.init_rand`` so the same
seed gives the same structures. Two paths:

- L ≤ ``pf_max_len``: one global partition function (O(L³), ~0.3 s at 300 nt);
- longer: the reference structure's domains (outermost pairs spanning ≤ ``domain_max_len``)
  are resampled independently (O(L·D²) in all, seconds at 4,000 nt); pairs spanning more and
  the linkers between domains keep the reference.

From the pool the first ``n - 1`` structures that differ from every structure already chosen by
at least ``min_bp_distance`` base pairs are kept, likeliest first (lowest free energy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import RNA

from rnapredict.features.secondary import partner_array
from rnapredict.features.vienna import (
    DEFAULT_CONFIG,
    ViennaConfig,
    base_energy_params,
    energy_parameters,
)

#: Applies probing-data soft constraints to a fold compound in place (set before folding).
Constrain = Callable[[RNA.fold_compound], None]


@dataclass(frozen=True)
class EnsembleConfig:
    """Settings of the secondary-structure ensemble.

    Attributes:
        pool: non-redundant samples drawn (per domain on the long path).
        pf_max_len: longest sequence (nt) sampled from one global partition function.
        domain_max_len: long path: longest domain (nt, outermost pair's span) resampled.
        min_bp_distance: a structure is kept only if it differs from every one already kept
            by at least this many base pairs (relaxed when too few qualify).
        min_len: shorter sequences have no alternatives (the reference only).
    """

    pool: int = 24
    pf_max_len: int = 300
    domain_max_len: int = 200
    min_bp_distance: int = 4
    min_len: int = 8


DEFAULT_ENSEMBLE = EnsembleConfig()


def _samples(seq: str, count: int, seed: int, constrain: Constrain | None) -> list[str]:
    """``count`` distinct Boltzmann samples of ``seq`` (fewer if the ensemble is smaller) under
    the energy parameters loaded now (call inside
    :func:`rnapredict.features.vienna.energy_parameters`: the Boltzmann factors are taken from
    them in ``exp_params_rescale``/``pf``)."""
    md = RNA.md()
    md.uniq_ML = 1  # stochastic backtracking needs the unique multiloop decomposition
    md.compute_bpp = 0
    fc = RNA.fold_compound(seq, md)
    if constrain is not None:
        constrain(fc)
    _ss, mfe = fc.mfe()
    fc.exp_params_rescale(mfe)
    fc.pf()
    RNA.init_rand(seed & 0xFFFFFFFF)
    return list(fc.pbacktrack(count, RNA.PBACKTRACK_NON_REDUNDANT))


def _domains(ref: str, max_len: int) -> list[tuple[int, int]]:
    """Spans ``(i, j)`` (0-based, inclusive) of the outermost pairs of ``ref`` spanning at most
    ``max_len`` nt; any nested structure inside such a span is compatible with the rest."""
    partner = partner_array(ref)
    out, i = [], 0
    while i < len(ref):
        j = int(partner[i])
        if i < j and j - i < max_len:
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out


def _domain_samples(seq: str, ref: str, count: int, seed: int, cfg: EnsembleConfig) -> list[str]:
    """Long path: sample ``k`` replaces every short top-level domain by its ``k``-th sample
    (every domain under the parameters loaded now, like :func:`_samples`)."""
    out = [list(ref) for _ in range(count)]
    for d, (i, j) in enumerate(_domains(ref, cfg.domain_max_len)):
        subs = _samples(seq[i : j + 1], count, seed + 7919 * (d + 1), None)
        for k, sub in enumerate(subs):
            out[k][i : j + 1] = sub
    return list(dict.fromkeys("".join(s) for s in out))


def bp_distance(a: str, b: str) -> int:
    """Base pairs in exactly one of two structures of equal length."""
    pa, pb = partner_array(a), partner_array(b)
    return int(((pa != pb) & (pa > -1)).sum() + ((pa != pb) & (pb > -1)).sum()) // 2


def sample_structures(
    seq: str,
    ref: str,
    n: int,
    seed: int,
    constrain: Constrain | None = None,
    config: EnsembleConfig = DEFAULT_ENSEMBLE,
    vienna: ViennaConfig = DEFAULT_CONFIG,
) -> list[str]:
    """Up to ``n`` distinct dot-brackets for ``seq``, the first being ``ref``.

    Args:
        seq: [L] sequence over ``ACGUN`` (upper case).
        ref: [L] the record's structure (ViennaRNA MFE when none was given).
        n: structures wanted (``ref`` included).
        seed: same seed → same structures.
        constrain: probing-data soft constraints applied to the fold compound (global path
            only; the long path resamples domains unconstrained and is skipped when set).
        config: pool size, length thresholds, diversity threshold.
        vienna: energy parameters of the samples and of their ranking by free energy
            (:func:`rnapredict.features.vienna.base_energy_params` of the whole length: under
            the consensus rule its base set, samples free of the consensus pairs).
    Returns:
        1 … n dot-brackets of length L (``()`` and ``.``), pairwise distinct, ``ref`` first.
    """
    if n <= 1 or len(seq) < config.min_len:
        return [ref]
    if len(seq) > config.pf_max_len and constrain is not None:
        return [ref]
    with energy_parameters(base_energy_params(len(seq), vienna)):
        if len(seq) <= config.pf_max_len:
            pool = _samples(seq, config.pool, seed, constrain)
        else:
            pool = _domain_samples(seq, ref, config.pool, seed, config)
        pool = [s for s in dict.fromkeys(pool) if s != ref]
        if not pool:
            return [ref]
        ev = RNA.fold_compound(seq, RNA.md(), RNA.OPTION_EVAL_ONLY)
        if constrain is not None:
            constrain(ev)
        pool.sort(key=lambda s: (round(ev.eval_structure(s), 2), s))
    chosen = [ref]
    for min_dist in (config.min_bp_distance, 1):
        for s in pool:
            if len(chosen) == n:
                return chosen
            if s not in chosen and all(bp_distance(s, c) >= min_dist for c in chosen):
                chosen.append(s)
    return chosen
