"""Probing reactivities → ViennaRNA soft constraints (pseudo-energies), and agreement scores.

:func:`soft_constraint` returns a callable that adds the pseudo-energies to a
``RNA.fold_compound``; the same callable serves the MFE (:func:`rnapredict.features.secondary.
predict_ss`) and Boltzmann sampling (apply it, then ``fc.mfe()``, ``fc.exp_params_rescale(mfe)``,
``fc.pf()``, ``fc.pbacktrack(n)``: ViennaRNA stores soft constraints for both the MFE and the
partition-function recursions).

Conversions (ViennaRNA's own implementations, chosen per kind of data):

- **SHAPE** — Deigan et al. (2009) PNAS 106:97: ΔG(i) = m·ln(r_i + 1) + b kcal/mol added for
  every nucleotide stacked in a helix, ``fc.sc_add_SHAPE_deigan``; defaults m = 1.8,
  b = −0.6 kcal/mol (``RNA.PROBING_METHOD_DEIGAN2009_DEFAULT_m`` / ``_b``, as in RNAfold
  ``--shape``).
- **DMS** — Eddy (2014) Annu Rev Biophys 43:433 likelihood pseudo-energies,
  ΔG_x(i) = −RT·ln p(r_i | x) for x ∈ {paired, unpaired}, with p from kernel density estimates
  over the DMS reference reactivities ViennaRNA ships (checked on 2.8.0)
  (``RNA.probing_data_prior_probing_DMS_{unpaired,paired}``), applied by
  ``RNA.probing_data_eddy`` + ``fc.sc_probing``. Only A and C carry data: DMS methylates
  A-N1 and C-N3 on the Watson–Crick face, so their reactivity reports pairing; G and U are
  set to "no data" (standard DMS practice, e.g. Cordero et al. 2012 Biochemistry 51:7037).

Reactivities are normalized values (≈ 0 paired, ≈ 1 unpaired); negative values above the
missing mark are read as 0 (as RNAstructure does), missing ones as no constraint.

Both conversions trust every value, so an uninformative profile (shuffled, another record's,
a failed experiment) pulls the fold away from the native one. The pseudo-energies are therefore
scaled by an evidence weight (:class:`ProbingConstraint`): how far the data agree with
ViennaRNA's own unpaired probabilities beyond chance. ``bench/probing.py`` (354 PDB chains,
20–400 nt, synthetic profiles) mean base-pair F1: no data 0.701; SHAPE 0.771 (0.793 without
the weight), shuffled SHAPE 0.700 (0.591 without); DMS 0.733 (0.751), shuffled DMS 0.693 (0.579).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import RNA

from rnapredict.features.vienna import pair_probabilities
from rnapredict.io.probing import Reactivities
from rnapredict.io.secondary import parse_dot_bracket

if TYPE_CHECKING:
    from rnapredict.io.structure import RnaStructure

#: ViennaRNA's "no data" value for reactivity vectors.
NO_DATA = -999.0
#: Nucleotides whose DMS reactivity reports pairing.
DMS_BASES = frozenset("AC")

SoftConstraint = Callable[[RNA.fold_compound], None]


@dataclass(frozen=True)
class ProbingConfig:
    """How reactivities become pseudo-energies.

    Attributes:
        shape_slope: Deigan slope m (kcal/mol); ``--shape-slope``.
        shape_intercept: Deigan intercept b (kcal/mol); ``--shape-intercept``.
        temperature: °C for the DMS likelihood pseudo-energies (RT).
        gate: scale the pseudo-energies by the evidence weight (:meth:`ProbingConstraint.
            weight`); False applies them at full strength whatever the data look like.
        gate_z: (z_lo, z_hi): evidence z-scores at and below z_lo give weight 0, at and above
            z_hi weight 1, linear between. Chosen with ``bench/probing.py`` on synthetic data
            (shuffled profiles must not hurt; see the README's F1 table).
    """

    shape_slope: float = RNA.PROBING_METHOD_DEIGAN2009_DEFAULT_m
    shape_intercept: float = RNA.PROBING_METHOD_DEIGAN2009_DEFAULT_b
    temperature: float = 37.0
    gate: bool = True
    gate_z: tuple[float, float] = (1.0, 2.0)

    def method(self, kind: str) -> dict[str, object]:
        """Description of the conversion used for ``kind`` (for ``confidence.json``)."""
        weight = "evidence" if self.gate else "full"
        if kind == "shape":
            return {
                "method": "deigan2009",
                "slope": self.shape_slope,
                "intercept": self.shape_intercept,
                "weighting": weight,
            }
        return {
            "method": "eddy2014-dms-prior",
            "bases": "AC",
            "temperature": self.temperature,
            "weighting": weight,
        }


def vienna_vector(data: Reactivities, seq: str) -> list[float]:
    """[L + 1] reactivities in ViennaRNA's layout (index 0 unused, ``NO_DATA`` where missing).

    Args:
        data: [L] reactivities; seq: [L] sequence (for the DMS base filter).
    """
    if len(data.values) != len(seq):
        raise ValueError(f"{len(data.values)} reactivities for a {len(seq)}-nt sequence")
    out = [NO_DATA]
    for base, v in zip(seq.upper(), data.values, strict=True):
        if v is None or (data.kind == "dms" and base not in DMS_BASES):
            out.append(NO_DATA)
        else:
            out.append(max(float(v), 0.0))
    return out


def used_values(data: Reactivities, seq: str) -> np.ndarray:
    """[L] reactivities the constraint uses (NaN for missing and, for DMS, G/U; negatives 0)."""
    vec = np.array(vienna_vector(data, seq)[1:], dtype=np.float64)
    vec[vec == NO_DATA] = np.nan
    return vec


def evidence_z(values: np.ndarray, seq: str) -> float:
    """How far the data agree with the thermodynamic ensemble beyond chance.

    Spearman correlation ρ between the measured reactivities and ViennaRNA's unpaired
    probabilities (no data; :func:`pair_probabilities`, RNAplfold windows beyond 400 nt),
    as a z-score ρ·√(n − 1) over the n measured nucleotides (≈ N(0, 1) for data unrelated to
    the structure, e.g. a shuffled profile).

    Args:
        values: [L] reactivities, NaN where missing; seq: [L].
    """
    have = ~np.isnan(values)
    n = int(have.sum())
    if n < 4 or np.ptp(values[have]) == 0.0:  # a flat profile: no evidence
        return 0.0
    paired = np.zeros(len(seq))
    for i, j, p in pair_probabilities(seq, top_k=len(seq)):
        paired[i] += p
        paired[j] += p
    from scipy.stats import spearmanr  # scipy.stats is slow to import; only needed here

    rho = spearmanr(values[have], 1.0 - paired[have]).statistic
    return 0.0 if not np.isfinite(rho) else float(rho) * float(np.sqrt(n - 1))


class ProbingConstraint:
    """Soft constraint from one record's reactivities; call it on a fresh fold compound.

    The pseudo-energies are scaled by an evidence weight w ∈ [0, 1] (:meth:`weight`): profiles
    that agree with the thermodynamic ensemble no better than chance (z ≤ z_lo) are ignored,
    clearly agreeing ones (z ≥ z_hi) apply in full. Why: Deigan/Eddy pseudo-energies trust every
    value, so an uninformative profile (shuffled, wrong record, failed experiment) pulls the
    fold away from the native structure (−0.11 mean F1 in ``bench/probing.py``); the weight
    keeps that loss under 0.02 at the cost of part of the gain. SHAPE: m·w and b·w; DMS:
    −w·RT·ln p (Eddy energies at temperature w·T in kelvin, without ViennaRNA's rescaling).
    """

    def __init__(self, data: Reactivities, cfg: ProbingConfig = ProbingConfig()) -> None:
        if data.kind not in ("shape", "dms"):
            raise ValueError(f"unknown probing kind {data.kind!r}")
        self.data = data
        self.cfg = cfg
        self._z: dict[str, float] = {}

    def z(self, seq: str) -> float:
        """Evidence z-score of the data on ``seq`` (cached)."""
        if seq not in self._z:
            self._z[seq] = evidence_z(used_values(self.data, seq), seq)
        return self._z[seq]

    def weight(self, seq: str) -> float:
        """Evidence weight w ∈ [0, 1] applied to the pseudo-energies (1 without the gate)."""
        if not self.cfg.gate:
            return 1.0
        lo, hi = self.cfg.gate_z
        return float(np.clip((self.z(seq) - lo) / (hi - lo), 0.0, 1.0))

    def __call__(self, fc: RNA.fold_compound) -> None:
        seq = fc.sequence
        w = self.weight(seq)
        if w <= 0.0:
            return
        vec = vienna_vector(self.data, seq)
        cfg = self.cfg
        if self.data.kind == "shape":
            ok = fc.sc_add_SHAPE_deigan(vec, w * cfg.shape_slope, w * cfg.shape_intercept)
        else:
            kelvin = w * (cfg.temperature + 273.15)
            probe = RNA.probing_data_eddy(
                vec,
                kelvin - 273.15,
                RNA.PROBING_STRATEGY_EDDY_NO_TEMPERATURE_RESCALING,
                list(RNA.probing_data_prior_probing_DMS_unpaired),
                list(RNA.probing_data_prior_probing_DMS_paired),
            )
            ok = fc.sc_probing(probe)
        if not ok:
            raise RuntimeError(f"ViennaRNA refused the {self.data.kind} soft constraints")


def soft_constraint(data: Reactivities, cfg: ProbingConfig = ProbingConfig()) -> SoftConstraint:
    """A callable adding ``data``'s pseudo-energies to a fold compound (MFE and partition
    function alike); see :class:`ProbingConstraint`."""
    return ProbingConstraint(data, cfg)


def agreement(values: np.ndarray, paired: np.ndarray) -> dict[str, float | int | None]:
    """How well a secondary structure explains reactivities.

    Args:
        values: [L] reactivities, NaN where missing (see :func:`used_values`).
        paired: [L] bool, True for nucleotides in a base pair.
    Returns:
        ``mean_paired`` / ``mean_unpaired`` (mean reactivity of measured paired / unpaired
        nucleotides), their counts, and ``auc``: probability that a measured unpaired
        nucleotide is more reactive than a measured paired one (0.5 = no agreement, 1 =
        perfect; ties count half); None where a class is empty.
    """
    values = np.asarray(values, dtype=np.float64)
    paired = np.asarray(paired, dtype=bool)
    have = ~np.isnan(values)
    p, u = values[have & paired], values[have & ~paired]
    auc = None
    if len(p) and len(u):
        from scipy.stats import rankdata

        ranks = rankdata(np.concatenate([u, p]))
        auc = float((ranks[: len(u)].sum() - len(u) * (len(u) + 1) / 2) / (len(u) * len(p)))
    return {
        "mean_paired": round(float(p.mean()), 4) if len(p) else None,
        "mean_unpaired": round(float(u.mean()), 4) if len(u) else None,
        "n_paired": int(len(p)),
        "n_unpaired": int(len(u)),
        "auc": None if auc is None else round(auc, 4),
    }


def probing_report(
    constraint: ProbingConstraint,
    seq: str,
    ss: str,
    models: Sequence[RnaStructure],
    guided: bool,
) -> dict[str, Any]:
    """What ``confidence.json`` records about the probing data of one record.

    Args:
        constraint: the record's soft constraint; seq: [L]; ss: dot-bracket [L] used.
        models: the ranked all-atom models; each one's secondary structure is read from its
            3D coordinates (canonical pairs, :func:`rnapredict.score.basepairs.
            canonical_pair_table`) and compared with the data.
        guided: whether the data shaped the structure (False when one was given).
    Returns:
        ``kind``, ``source``, conversion ``method``, ``weight`` and ``evidence_z``,
        ``n_measured``, per-residue ``reactivities`` (null where missing), the agreement of
        ``ss`` with the data and one agreement per model (rank order).
    """
    from rnapredict.score.basepairs import canonical_pair_table  # score code only here

    data = constraint.data
    used = used_values(data, seq)
    return {
        "kind": data.kind,
        "source": data.source,
        "guided": guided,
        **constraint.cfg.method(data.kind),
        "weight": round(constraint.weight(seq), 4) if guided else None,
        "evidence_z": round(constraint.z(seq), 3) if guided else None,
        "n_measured": int((~np.isnan(used)).sum()),
        "reactivities": [None if v is None else round(v, 4) for v in data.values],
        "agreement": agreement(used, parse_dot_bracket(ss) >= 0),
        "model_agreement": [agreement(used, canonical_pair_table(m) >= 0) for m in models],
    }
