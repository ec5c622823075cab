"""Default secondary structure from ViennaRNA (``import RNA``), wrapped in two functions.

- :func:`mfe_structure` — minimum-free-energy dot-bracket. Sequences up to
  ``ViennaConfig.global_max_len`` nt are folded exactly (global MFE, O(L³) time, O(L²) memory).
  Longer ones are folded with a base-pair span limit ``max_bp_span`` using ViennaRNA's
  sliding-window MFE (RNALfold, O(L·W²) time, O(L·W) memory) and the best set of
  non-overlapping local structures is assembled by weighted interval scheduling, so time and
  memory stay near-linear in L.
- :func:`pair_probabilities` — sparse base-pair probabilities (top-k partners per residue),
  from the full partition function for short sequences (≤ 400 nt) and from RNAplfold (local windows)
  for long ones. Never a dense L×L result for long sequences.

Energy parameters: ``ViennaConfig.energy_params`` names one of ViennaRNA's shipped parameter
sets (:data:`ENERGY_PARAMS`), ``auto`` (chosen by length, :func:`resolve_energy_params`) or
``consensus``: the pairs found in the MFE of at least ``consensus_votes`` of the four sets
(:func:`rnapredict.features.consensus.vote`; ``auto`` uses it beyond ``auto_consensus_len``),
optionally enforced as hard constraints in an MFE refold under ``consensus_base`` that fills in
the rest (:func:`mfe_structure`).
ViennaRNA keeps the loaded set process-global and reads it when a fold compound is created and
again when its partition function is scaled, so :func:`energy_parameters` loads the wanted set
only while folding and restores whatever was loaded before (nothing else in the process sees a
change). Process-global also means: fold from one thread at a time (``fold --jobs`` uses
processes).
"""

from __future__ import annotations

import bisect
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import RNA

from rnapredict.errors import RecordError
from rnapredict.features.consensus import greedy_nested, vote
from rnapredict.io.secondary import pair_list, pairs_from_list, parse_dot_bracket, to_dot_bracket

_ALPHABET = frozenset("ACGUN")

#: ViennaRNA's shipped RNA energy parameter sets by the name used here (RNAfold's ``-P`` files).
ENERGY_PARAMS: dict[str, str] = {
    "turner2004": "parameter_set_rna_turner2004",
    "turner1999": "parameter_set_rna_turner1999",
    "andronescu2007": "parameter_set_rna_andronescu2007",
    "langdon2018": "parameter_set_rna_langdon2018",
}
#: ``energy_params`` value of the consensus rule (see :func:`mfe_structure`).
CONSENSUS = "consensus"
#: Choices of ``ViennaConfig.energy_params``: a set of :data:`ENERGY_PARAMS`, by length, or
#: the consensus of the sets.
ENERGY_PARAM_CHOICES: tuple[str, ...] = ("auto", CONSENSUS, *ENERGY_PARAMS)


@dataclass(frozen=True)
class ViennaConfig:
    """Settings of the ViennaRNA wrappers.

    Attributes:
        global_max_len: longest sequence (nt) folded with the exact global MFE / partition
            function; longer ones use windowed folding.
        pf_global_max_len: longest sequence (nt) whose pair probabilities come from the
            global partition function (O(L³)); longer ones use RNAplfold windows.
        max_bp_span: largest base-pair span (j - i, nt) allowed in windowed folding.
        global_max_bp_span: largest base-pair span (nt) of the exact global MFE of sequences
            longer than ``span_min_len``; None: unlimited.
        span_min_len: ``global_max_bp_span`` applies to sequences longer than this (nt).
        plfold_window: RNAplfold window size W (nt) for long-sequence pair probabilities.
        min_probability: pair probabilities below this are dropped.
        energy_params: energy parameter set of every fold compound built here (structures,
            samples, evaluation): a name of :data:`ENERGY_PARAMS`; ``auto`` — ``auto_short``
            up to ``auto_max_len`` nt, ``auto_long`` beyond, the consensus rule beyond
            ``auto_consensus_len`` (:func:`resolve_energy_params`); or ``consensus``.
        auto_max_len: ``auto``: longest sequence (nt) folded with ``auto_short``.
        auto_short: ``auto``: parameter set of sequences up to ``auto_max_len`` nt.
        auto_long: ``auto``: parameter set of longer sequences.
        auto_consensus_len: ``auto``: longer sequences use the consensus rule; None: never.
        consensus_votes: consensus: a pair is kept when the MFEs of at least this many of the
            :data:`ENERGY_PARAMS` sets have it.
        consensus_refold: consensus: refold under ``consensus_base`` with the kept pairs
            enforced (fills in compatible pairs); False: the kept pairs only.
        consensus_base: consensus: parameter set of the refold, of the sampled structures and
            of their free energies; its pairs win ties between conflicting candidates.
        probability_params: parameter set of :func:`pair_probabilities` (used by the probing
            evidence weight, :func:`rnapredict.features.probing.evidence_z`, whose thresholds
            were set with Turner 2004).
    """

    global_max_len: int = 1000
    pf_global_max_len: int = 400
    max_bp_span: int = 300
    global_max_bp_span: int | None = None
    span_min_len: int = 150
    plfold_window: int = 240
    min_probability: float = 1e-3
    energy_params: str = "auto"
    auto_max_len: int = 120
    auto_short: str = "langdon2018"
    auto_long: str = "turner1999"
    auto_consensus_len: int | None = 300
    consensus_votes: int = 3
    consensus_refold: bool = False
    consensus_base: str = "turner1999"
    probability_params: str = "turner2004"

    def __post_init__(self) -> None:
        fields = (
            "energy_params",
            "auto_short",
            "auto_long",
            "consensus_base",
            "probability_params",
        )
        for field in fields:
            value = getattr(self, field)
            allowed = ENERGY_PARAM_CHOICES if field == "energy_params" else tuple(ENERGY_PARAMS)
            if value not in allowed:
                raise ValueError(f"{field} {value!r}: expected one of {', '.join(allowed)}")
        if not 1 <= self.consensus_votes <= len(ENERGY_PARAMS):
            raise ValueError(
                f"consensus_votes {self.consensus_votes}: expected 1 to {len(ENERGY_PARAMS)}"
            )


DEFAULT_CONFIG = ViennaConfig()


def uses_consensus(length: int, config: ViennaConfig = DEFAULT_CONFIG) -> bool:
    """Whether a sequence of ``length`` nt is folded by the consensus rule."""
    if config.energy_params == CONSENSUS:
        return True
    limit = config.auto_consensus_len
    return config.energy_params == "auto" and limit is not None and length > limit


def base_energy_params(length: int, config: ViennaConfig = DEFAULT_CONFIG) -> str:
    """The parameter set (a key of :data:`ENERGY_PARAMS`) of the fold compounds of a sequence
    of ``length`` nt (its MFE or refold, samples, free energies): ``config.energy_params``; for
    ``auto`` ``auto_short``/``auto_long`` by length; under the consensus rule
    ``consensus_base``."""
    if uses_consensus(length, config):
        return config.consensus_base
    if config.energy_params != "auto":
        return config.energy_params
    return config.auto_short if length <= config.auto_max_len else config.auto_long


def resolve_energy_params(length: int, config: ViennaConfig = DEFAULT_CONFIG) -> str:
    """What a sequence of ``length`` nt is folded with, as recorded (``confidence.json``) and
    in MFE cache keys: a parameter set (:func:`base_energy_params`), or for the consensus rule
    ``consensus<k>of4+<set>`` (pairs in at least k of the four sets' MFEs, refolded under
    ``<set>``) or ``consensus<k>of4-<set>`` (no refold; ``<set>`` wins ties)."""
    base = base_energy_params(length, config)
    if not uses_consensus(length, config):
        return base
    sign = "+" if config.consensus_refold else "-"
    return f"consensus{config.consensus_votes}of{len(ENERGY_PARAMS)}{sign}{base}"


def energy_rule(config: ViennaConfig = DEFAULT_CONFIG) -> str:
    """What ``config.energy_params`` means, whatever the length, e.g. ``langdon2018<=120,
    turner1999<=300, consensus3of4-turner1999`` for ``auto``: recorded with a run's settings so
    that ``--resume`` never mixes records folded under two meanings of one name."""
    if config.energy_params == CONSENSUS:
        return resolve_energy_params(1, config)
    if config.energy_params != "auto":
        return config.energy_params
    short = f"{config.auto_short}<={config.auto_max_len}"
    if config.auto_consensus_len is None:
        return f"{short}, {config.auto_long}"
    long = resolve_energy_params(config.auto_consensus_len + 1, config)
    return f"{short}, {config.auto_long}<={config.auto_consensus_len}, {long}"


def _current_parameters() -> str:
    """ViennaRNA's process-global energy parameters now loaded, as parameter-file text."""
    fd, path = tempfile.mkstemp(suffix=".par")
    os.close(fd)
    try:
        RNA.params_save(path)
        with open(path) as fh:
            return fh.read()
    finally:
        os.unlink(path)


@contextmanager
def energy_parameters(name: str) -> Iterator[None]:
    """ViennaRNA computes with parameter set ``name`` (a key of :data:`ENERGY_PARAMS`) inside;
    on exit the process-global set loaded before is back in place (also after an error).

    A fold compound copies the free-energy parameters when it is created, but its Boltzmann
    factors when the partition function is scaled or computed (``exp_params_rescale``,
    ``pf``): keep every call that folds inside the block.
    """
    if name not in ENERGY_PARAMS:
        raise ValueError(f"energy parameters {name!r}: expected one of {', '.join(ENERGY_PARAMS)}")
    before = _current_parameters()
    RNA.params_load_from_string(getattr(RNA, ENERGY_PARAMS[name]), name)
    try:
        yield
    finally:
        RNA.params_load_from_string(before, "restored")


def _check(seq: str) -> str:
    seq = seq.upper().replace("T", "U")
    bad = next((i for i, c in enumerate(seq) if c not in _ALPHABET), None)
    if bad is not None:
        raise RecordError(f"illegal character {seq[bad]!r} for folding", position=bad + 1)
    return seq


def _assemble_windows(n: int, hits: list[tuple[int, int, str, float]]) -> str:
    """Best non-overlapping set of local structures (weighted interval scheduling).

    Args:
        n: sequence length L.
        hits: ``(start, end, structure, energy)`` with 1-based inclusive ``start..end``,
            ``len(structure) >= end - start + 1`` (RNALfold may add a trailing dangle char),
            energy in kcal/mol (negative is better).
    Returns:
        dot-bracket [L].
    """
    hits = sorted((h for h in hits if h[3] < 0), key=lambda h: h[1])
    ends = [h[1] for h in hits]
    best = [0.0] * (len(hits) + 1)  # best[k]: best gain using hits[:k]
    take = [False] * (len(hits) + 1)
    for k, (start, _end, _ss, energy) in enumerate(hits, 1):
        prev = bisect.bisect_left(ends, start, 0, k - 1)  # hits ending before `start`
        with_it = best[prev] - energy
        take[k] = with_it > best[k - 1]
        best[k] = with_it if take[k] else best[k - 1]
    out = ["."] * n
    k = len(hits)
    while k > 0:
        if take[k]:
            start, end, ss, _ = hits[k - 1]
            out[start - 1 : end] = ss[: end - start + 1]
            k = bisect.bisect_left(ends, start, 0, k - 1)
        else:
            k -= 1
    return "".join(out)


def mfe_structure(
    seq: str,
    config: ViennaConfig = DEFAULT_CONFIG,
    constraint: Callable[[RNA.fold_compound], None] | None = None,
) -> str:
    """ViennaRNA minimum-free-energy secondary structure of ``seq``.

    Under the consensus rule (:func:`uses_consensus`) the MFE of each of the
    :data:`ENERGY_PARAMS` sets is computed, the pairs of at least ``config.consensus_votes`` of
    them kept (nested, :func:`rnapredict.features.consensus.vote`) and, with
    ``config.consensus_refold``, the MFE under ``config.consensus_base`` with those pairs
    enforced is returned (every kept pair is in it).

    Args:
        seq: [L] sequence over ``ACGUN`` (case-insensitive, T read as U); ``N`` stays unpaired.
        config: thresholds; sequences longer than ``config.global_max_len`` are folded with
            base-pair span ≤ ``config.max_bp_span`` (windowed, near-linear time).
        constraint: applied to every fold compound before folding (soft constraints such as
            :func:`rnapredict.features.probing.soft_constraint`).
    Returns:
        dot-bracket string [L] with ``(`` ``)`` ``.`` only.
    Raises:
        RecordError: a character outside ``ACGUNT`` (1-based position).
    """
    seq = _check(seq)
    if not seq:
        return ""
    base = base_energy_params(len(seq), config)
    if not uses_consensus(len(seq), config):
        return _mfe(seq, config, base, constraint)
    kept = consensus_pairs(seq, config, constraint)
    if config.consensus_refold:
        refold = _mfe(seq, config, base, constraint, enforce=kept)
        refolded = pair_list(parse_dot_bracket(refold))
        kept = greedy_nested([*kept, *refolded], len(seq))  # windows may miss some
    return to_dot_bracket(pairs_from_list(len(seq), kept))


def consensus_pairs(
    seq: str,
    config: ViennaConfig = DEFAULT_CONFIG,
    constraint: Callable[[RNA.fold_compound], None] | None = None,
) -> list[tuple[int, int]]:
    """The consensus rule's kept pairs of ``seq``: 0-based ``(i, j)``, nested, sorted, found in
    the MFEs (each under ``constraint``) of at least ``config.consensus_votes`` of the
    :data:`ENERGY_PARAMS` sets (ties: :func:`base_energy_params`'s set first)."""
    seq = _check(seq)
    names = list(ENERGY_PARAMS)
    mfes = [_mfe(seq, config, name, constraint) for name in names]
    return vote(
        mfes, config.consensus_votes, prefer=names.index(base_energy_params(len(seq), config))
    )


def _mfe(
    seq: str,
    config: ViennaConfig,
    params: str,
    constraint: Callable[[RNA.fold_compound], None] | None,
    enforce: Sequence[tuple[int, int]] = (),
) -> str:
    """MFE dot-bracket [L] of a checked ``seq`` under parameter set ``params``: global up to
    ``config.global_max_len`` nt, windowed beyond; ``enforce``: 0-based pairs ``(i, j)`` every
    structure must contain (hard constraints)."""
    md = RNA.md()
    windowed = len(seq) > config.global_max_len
    if windowed:
        md.max_bp_span = config.max_bp_span
        md.window_size = config.max_bp_span
    elif config.global_max_bp_span is not None and len(seq) > config.span_min_len:
        md.max_bp_span = config.global_max_bp_span
    hits: list[tuple[int, int, str, float]] = []

    def collect(start: int, end: int, structure: str, energy: float, data: list) -> None:
        if structure:
            data.append((start, end, structure, energy))

    with energy_parameters(params):
        fc = (
            RNA.fold_compound(seq, md, RNA.OPTION_WINDOW)
            if windowed
            else RNA.fold_compound(seq, md)
        )
        if constraint is not None:
            constraint(fc)
        _enforce_pairs(fc, enforce)
        if not windowed:
            return fc.mfe()[0]
        fc.mfe_window_cb(collect, hits)
    return _assemble_windows(len(seq), hits)


#: Hard-constraint flags of an enforced pair: in every loop context, the pair must form.
_ENFORCE = RNA.CONSTRAINT_CONTEXT_ALL_LOOPS | RNA.CONSTRAINT_CONTEXT_ENFORCE


def _enforce_pairs(fc: RNA.fold_compound, pairs: Sequence[tuple[int, int]]) -> None:
    """Hard constraints on ``fc``: every structure contains each of ``pairs`` (0-based
    ``(i, j)``, nested, pairable)."""
    for i, j in pairs:
        fc.hc_add_bp(i + 1, j + 1, _ENFORCE)


def pair_probabilities(
    seq: str, top_k: int = 3, config: ViennaConfig = DEFAULT_CONFIG
) -> list[tuple[int, int, float]]:
    """Sparse base-pair probabilities: for every residue its ``top_k`` likeliest partners.

    Args:
        seq: [L] sequence over ``ACGUN`` (case-insensitive, T read as U).
        top_k: partners kept per residue (a pair is kept if it is in either end's top k).
        config: thresholds; parameter set ``config.probability_params``.
    Returns:
        list of ``(i, j, p)`` with 0-based ``i < j`` and probability ``p`` in (0, 1], sorted by
        ``(i, j)``; length O(L·top_k).
    """
    seq = _check(seq)
    n = len(seq)
    if n < 2:
        return []
    raw: list[tuple[int, int, float]] = []
    with energy_parameters(config.probability_params):
        if n <= config.pf_global_max_len:
            fc = RNA.fold_compound(seq, RNA.md())
            fc.pf()
            bpp = np.asarray(fc.bpp(), dtype=np.float64)[1:, 1:]  # [L, L] upper triangle
            ii, jj = np.nonzero(np.triu(bpp, 1) >= config.min_probability)
            raw.extend(zip(ii.tolist(), jj.tolist(), bpp[ii, jj].tolist(), strict=True))
        else:
            w = min(config.plfold_window, n)
            for ep in RNA.pfl_fold(seq, w, min(config.max_bp_span, w), config.min_probability):
                raw.append((ep.i - 1, ep.j - 1, float(ep.p)))
    per_res: list[list[tuple[float, int]]] = [[] for _ in range(n)]
    for k, (i, j, p) in enumerate(raw):
        per_res[i].append((p, k))
        per_res[j].append((p, k))
    keep: set[int] = set()
    for lst in per_res:
        lst.sort(reverse=True)
        keep.update(k for _p, k in lst[:top_k])
    return sorted(raw[k] for k in keep)
