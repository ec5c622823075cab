"""The frozen-weight network: C1′ samples from candidates, with confidence.

:class:`FoldEngine` holds the network and its weights' settings and draws the samples
(:meth:`FoldEngine.sample_candidates`); the fold of a record around it is
:func:`rnapredict.pipeline.fold.predict`."""

from __future__ import annotations

import numpy as np
import torch

from rnapredict.engine.calibration import PlddtCalibration
from rnapredict.engine.sampling import sample_ensemble
from rnapredict.features.featurize import featurize
from rnapredict.geometry.candidate import Candidate
from rnapredict.io.records import Record
from rnapredict.model.network import RnaFoldNet
from rnapredict.pipeline.api import FoldOptions, Prediction, resolve_device
from rnapredict.pipeline.fold import predict
from rnapredict.pipeline.rank import N_PLDDT_CAP, Ensemble

#: Denoiser rows (samples × residues × neighbours) per batched call before chunking samples.
EDGE_ROW_BUDGET = 4_000_000
#: Decoder chunk (residues) when ``FoldOptions.chunk_size`` is None.
DEFAULT_CHUNK = 512


class FoldEngine:
    """Implements :class:`rnapredict.pipeline.api.Engine` and its ``Sampler`` with a
    :class:`RnaFoldNet`.

    Args:
        net: the network (weights loaded).
        model_version: version string written into outputs.
        device: default device (``FoldOptions.device`` overrides when not ``cpu``).
        init_sigma: partial diffusion from the A-form prior at this noise level (Å), or None
            for the full schedule from noise (set from the manifest's ``inference`` block).
    """

    def __init__(
        self,
        net: RnaFoldNet,
        model_version: str,
        device: str = "cpu",
        init_sigma: float | None = None,
        calibration: PlddtCalibration | None = None,
        weights_sha256: str | None = None,
        source_sigma: dict[str, float] | None = None,
    ) -> None:
        self.weights_sha256 = weights_sha256
        self.source_sigma = dict(source_sigma or {})
        self.init_sigma = init_sigma
        self.calibration = calibration
        self.net = net.eval()
        self.model_version = model_version
        self.device = torch.device(resolve_device(device))
        self.net.to(self.device)

    @property
    def config(self):  # noqa: ANN201 - ModelConfig
        return self.net.cfg

    def sample(
        self,
        seq: str,
        ss: str,
        options: FoldOptions,
        generator: torch.Generator,
        prior: np.ndarray | None = None,
        n_samples: int | None = None,
        init_sigma: float | None = None,
    ) -> Ensemble:
        """Unranked C1′ ensemble of one sequence with a given secondary structure.

        Args:
            prior: [L, 3] starting candidate (Å) the model is conditioned on and sampling starts
                from; None: the A-form rule's (when the model uses a prior).
            n_samples: samples to draw (default ``options.n_samples``).
            init_sigma: partial-diffusion start (Å) for this prior (None: the engine's).
        """
        device = (
            torch.device(resolve_device(options.device)) if options.device != "cpu" else self.device
        )
        if device != self.device:
            self.net.to(device)
            self.device = device
        f = featurize(seq, ss, self.net.cfg.edges, self.net.cfg.aform_prior, prior)
        f = f.to(self.device)
        k = self.net.cfg.edges.k + self.net.cfg.denoiser.knn
        per_sample = max(1, len(seq) * k)
        sample_chunk = max(1, EDGE_ROW_BUDGET // per_sample)
        return sample_ensemble(
            self.net,
            f,
            n_samples or options.n_samples,
            generator,
            steps=options.steps,
            chunk_size=options.chunk_size or DEFAULT_CHUNK,
            sample_chunk=sample_chunk,
            init_sigma=init_sigma if init_sigma is not None else self.init_sigma,
        )

    def sample_candidates(
        self,
        seq: str,
        candidates: list[Candidate],
        options: FoldOptions,
        generator: torch.Generator,
    ) -> tuple[Ensemble, list[int]]:
        """Draw ``options.n_samples`` samples spread round-robin over the candidates.

        Returns:
            The unranked ensemble (samples grouped by candidate, candidate order) and [S] the
            candidate index of each sample. With one candidate this equals :meth:`sample`.
        """
        n = options.n_samples
        counts = [len(range(j, n, len(candidates))) for j in range(len(candidates))]
        if len(candidates) == 1:
            gens = [generator]
        else:
            seeds = torch.randint(0, 2**62, (len(candidates),), generator=generator).tolist()
            gens = [torch.Generator().manual_seed(int(x)) for x in seeds]
        parts, owner = [], []
        for j, (cand, count, gen) in enumerate(zip(candidates, counts, gens, strict=True)):
            if count == 0:
                continue
            prior = cand.coords.astype(np.float32)
            sigma = cand.info.get("init_sigma", self.source_sigma.get(cand.source))
            parts.append(self.sample(seq, cand.ss, options, gen, prior, count, sigma))
            owner += [j] * count
        plddt = torch.cat([p.plddt for p in parts])
        if self.calibration is not None:
            plddt = self.calibration.apply(plddt)
        unknown = torch.tensor([c not in "ACGU" for c in seq.upper()])
        plddt = torch.where(unknown, plddt.clamp(max=N_PLDDT_CAP), plddt)
        ens = Ensemble(
            torch.cat([p.coords for p in parts]),
            plddt,
            torch.cat([p.ptm for p in parts]),
            torch.cat([p.kept_start for p in parts]),
        )
        return ens, owner

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        """Fold one record: :func:`rnapredict.pipeline.fold.predict` with this network."""
        return predict(self, record, options)
