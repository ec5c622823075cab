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
sets (:data:`ENERGY_PARAMS`) or ``auto`` (chosen by length, :func:`resolve_energy_params`).
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import RNA

from rnapredict.errors import RecordError

_ALPHABET = frozenset("ACGUN")

#: ViennaRNA's shipped RNA energy parameter sets by the name used here (RNAfold's ``-P`` files).
ENERGY_PARAMS: dict[str, str] = {
    "turner2004": "parameter_set_rna_turner2004",
    "turner1999": "parameter_set_rna_turner1999",
    "andronescu2007": "parameter_set_rna_andronescu2007",
    "langdon2018": "parameter_set_rna_langdon2018",
}
#: Choices of ``ViennaConfig.energy_params``: a set of :data:`ENERGY_PARAMS`, or by length.
ENERGY_PARAM_CHOICES: tuple[str, ...] = ("auto", *ENERGY_PARAMS)


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
            samples, evaluation): a name of :data:`ENERGY_PARAMS`, or ``auto`` — ``auto_short``
            up to ``auto_max_len`` nt, ``auto_long`` beyond (:func:`resolve_energy_params`).
        auto_max_len: ``auto``: longest sequence (nt) folded with ``auto_short``.
        auto_short: ``auto``: parameter set of sequences up to ``auto_max_len`` nt.
        auto_long: ``auto``: parameter set of longer sequences.
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
    probability_params: str = "turner2004"

    def __post_init__(self) -> None:
        for field in ("energy_params", "auto_short", "auto_long", "probability_params"):
            value = getattr(self, field)
            allowed = ENERGY_PARAM_CHOICES if field == "energy_params" else tuple(ENERGY_PARAMS)
            if value not in allowed:
                raise ValueError(f"{field} {value!r}: expected one of {', '.join(allowed)}")


DEFAULT_CONFIG = ViennaConfig()


def resolve_energy_params(length: int, config: ViennaConfig = DEFAULT_CONFIG) -> str:
    """The parameter set (a key of :data:`ENERGY_PARAMS`) a sequence of ``length`` nt is folded
    with: ``config.energy_params``, or for ``auto`` ``auto_short``/``auto_long`` by length."""
    if config.energy_params != "auto":
        return config.energy_params
    return config.auto_short if length <= config.auto_max_len else config.auto_long


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

    Args:
        seq: [L] sequence over ``ACGUN`` (case-insensitive, T read as U); ``N`` stays unpaired.
        config: thresholds; sequences longer than ``config.global_max_len`` are folded with
            base-pair span ≤ ``config.max_bp_span`` (windowed, near-linear time).
        constraint: applied to the fold compound before folding (soft constraints such as
            :func:`rnapredict.features.probing.soft_constraint`).
    Returns:
        dot-bracket string [L] with ``(`` ``)`` ``.`` only.
    Raises:
        RecordError: a character outside ``ACGUNT`` (1-based position).
    """
    seq = _check(seq)
    if not seq:
        return ""
    md = RNA.md()
    if len(seq) <= config.global_max_len:
        if config.global_max_bp_span is not None and len(seq) > config.span_min_len:
            md.max_bp_span = config.global_max_bp_span
        with energy_parameters(resolve_energy_params(len(seq), config)):
            fc = RNA.fold_compound(seq, md)
            if constraint is not None:
                constraint(fc)
            structure, _energy = fc.mfe()
        return structure
    md.max_bp_span = config.max_bp_span
    md.window_size = config.max_bp_span
    hits: list[tuple[int, int, str, float]] = []

    def collect(start: int, end: int, structure: str, energy: float, data: list) -> None:
        if structure:
            data.append((start, end, structure, energy))

    with energy_parameters(resolve_energy_params(len(seq), config)):
        fc = RNA.fold_compound(seq, md, RNA.OPTION_WINDOW)
        if constraint is not None:
            constraint(fc)
        fc.mfe_window_cb(collect, hits)
    return _assemble_windows(len(seq), hits)


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
