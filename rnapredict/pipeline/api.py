"""The inference contract: what ``rnapredict fold`` asks of an engine, and what the pipeline's
stages ask of the network.

``load_engine()`` gives an object with ``predict(record, options) -> Prediction``
(:class:`Engine`); the fold command (batching, output layout, resume) only talks to this
interface. :func:`rnapredict.pipeline.fold.predict` composes the stages and needs of the
network only a :class:`Sampler`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rnapredict.errors import RnapredictError
from rnapredict.features.probing import ProbingConfig
from rnapredict.features.vienna import DEFAULT_CONFIG, ViennaConfig
from rnapredict.io.records import Record
from rnapredict.io.structure import RnaStructure

if TYPE_CHECKING:
    import torch

    from rnapredict.geometry.candidate import Candidate
    from rnapredict.pipeline.rank import Ensemble


@dataclass(frozen=True)
class FoldOptions:
    """Per-run inference options (CLI flags of ``fold``).

    Attributes:
        n_samples: ensemble size S (diffusion samples per record).
        seed: run seed; each record's seed is derived from it and the record id.
        chunk_size: residues per decoder chunk (None: engine default).
        steps: diffusion steps (None: engine default).
        device: ``cpu``, ``cuda`` or ``auto``.
        prior: where sampling starts: ``assembly`` (motif-library candidates over a
            secondary-structure ensemble) or ``aform`` (one A-form candidate; the old path).
        probing: how ``--shape`` / ``--dms`` reactivities become pseudo-energies.
        templates: template library path, ``default`` (the shipped one) or ``none``.
        cutoff: ``YYYY-MM-DD``; no experimental structure (template or motif-library instance)
            released on or after it is used (None: any date).
        cleanup: remove clashes from the all-atom models (``fold --no-cleanup``: off).
        energy_params: ViennaRNA energy parameters of the MFE and the sampled structures
            (``fold --energy-params``): ``auto`` (by length), ``consensus`` (pairs of at
            least 3 of the 4 sets' MFEs) or a parameter set
            (:data:`rnapredict.features.vienna.ENERGY_PARAM_CHOICES`).
    """

    n_samples: int = 5
    seed: int = 0
    chunk_size: int | None = None
    steps: int | None = None
    device: str = "cpu"
    prior: str = "assembly"
    probing: ProbingConfig = ProbingConfig()
    templates: str = "default"
    cutoff: str | None = None
    cleanup: bool = True
    energy_params: str = DEFAULT_CONFIG.energy_params

    def vienna(self) -> ViennaConfig:
        """The ViennaRNA settings of this run (``energy_params`` over the defaults)."""
        return replace(DEFAULT_CONFIG, energy_params=self.energy_params)


@dataclass
class Prediction:
    """An ensemble for one record, ranked best first.

    Attributes:
        models: S all-atom models, ranked; each carries per-residue pLDDT (0–100).
        plddt: [S, L] per-residue pLDDT of the ranked models.
        ptm: [S] pTM-like global confidence (0–1) of the ranked models.
        ranking_score: [S] the score used for ranking.
        sample_index: [S] original sample index of each ranked model.
        ss: dot-bracket used as input; ss_source: ``input`` or ``vienna``.
        seed: the record seed actually used.
        model_version: weights version string.
        model_ss: [S] dot-bracket each ranked model was built from (its candidate's).
        model_prior: [S] provenance of each ranked model's starting candidate.
    """

    record_id: str
    sequence: str
    ss: str
    ss_source: str
    models: list[RnaStructure]
    plddt: np.ndarray
    ptm: np.ndarray
    ranking_score: np.ndarray
    sample_index: list[int]
    seed: int
    model_version: str
    extra: dict = field(default_factory=dict)
    model_ss: list[str] = field(default_factory=list)
    model_prior: list[dict] = field(default_factory=list)


class Engine(Protocol):
    """Anything that folds a record."""

    def predict(self, record: Record, options: FoldOptions) -> Prediction: ...


class Sampler(Protocol):
    """The network side of the pipeline (:class:`rnapredict.engine.engine.FoldEngine`).

    ``sample_candidates(seq, candidates, options, generator)`` draws ``options.n_samples``
    samples [S] spread over the candidates and returns them with the candidate index of each.
    """

    model_version: str
    weights_sha256: str | None
    sample_candidates: Callable[
        [str, list[Candidate], FoldOptions, torch.Generator], tuple[Ensemble, list[int]]
    ]


def record_seed(run_seed: int, record_id: str) -> int:
    """Deterministic per-record seed from the run seed and the record id (not its position)."""
    digest = hashlib.sha256(f"{run_seed}\x00{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def record_generators(
    run_seed: int, record_id: str
) -> tuple[int, torch.Generator, torch.Generator]:
    """The record's seed and its two generators, as ``fold`` uses them: (seed, sampling
    generator, candidate generator) — the candidates draw from their own stream, so the
    number of candidates never shifts the diffusion noise."""
    import torch

    seed = record_seed(run_seed, record_id)
    gen = torch.Generator().manual_seed(seed)
    prior_gen = torch.Generator().manual_seed((seed + 1) % (1 << 63))
    return seed, gen, prior_gen


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when a GPU is usable, else ``cpu``; ``cuda`` without one is an
    error; any other torch device name is returned as given."""
    if device == "cpu":
        return "cpu"
    import torch  # imported here: probing devices is work, not for import time

    has_cuda = torch.cuda.is_available()
    if device == "auto":
        return "cuda" if has_cuda else "cpu"
    if device.startswith("cuda") and not has_cuda:
        raise RnapredictError(f"--device {device}: no usable CUDA device found; use --device cpu")
    return device
