"""The frozen-weight fold engine: record → ranked all-atom ensemble with confidence."""

from __future__ import annotations

import time

import numpy as np
import torch

from rnapredict.engine.api import FoldOptions, Prediction, record_seed
from rnapredict.engine.sampling import Ensemble, sample_ensemble
from rnapredict.features.featurize import featurize
from rnapredict.features.secondary import partner_array, predict_ss
from rnapredict.io.records import Record
from rnapredict.io.structure import RnaStructure
from rnapredict.model.network import RnaFoldNet

#: Denoiser rows (samples × residues × neighbours) per batched call before chunking samples.
EDGE_ROW_BUDGET = 4_000_000
#: Decoder chunk (residues) when ``FoldOptions.chunk_size`` is None.
DEFAULT_CHUNK = 512


def resolve_device(device: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def c1_models(
    seq: str, c1: np.ndarray, partner: np.ndarray, plddt: np.ndarray, cleanup: bool = True
) -> list[RnaStructure]:
    """All-atom models from C1′ traces via :mod:`rnapredict.geometry`.

    Args:
        c1: [S, L, 3] Å; partner: [L]; plddt: [S, L] 0–100; cleanup: clash clean-up
            (:mod:`rnapredict.geometry.cleanup`).
    """
    from rnapredict.geometry.convert import atoms_to_structure
    from rnapredict.geometry.from_c1 import c1_to_atoms

    c1_t, partner_t = torch.from_numpy(c1).double(), torch.from_numpy(partner).long()
    atoms, mask = c1_to_atoms(seq, c1_t, partner_t, cleanup=cleanup)
    return [atoms_to_structure(seq, atoms[s], mask, plddt[s]) for s in range(c1.shape[0])]


class FoldEngine:
    """Implements :class:`rnapredict.engine.api.Engine` with a :class:`RnaFoldNet`.

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
    ) -> None:
        self.init_sigma = init_sigma
        self.net = net.eval()
        self.model_version = model_version
        self.device = resolve_device(device)
        self.net.to(self.device)

    @property
    def config(self):  # noqa: ANN201 - ModelConfig
        return self.net.cfg

    def sample(
        self, seq: str, ss: str, options: FoldOptions, generator: torch.Generator
    ) -> Ensemble:
        """Unranked C1′ ensemble of one sequence with a given secondary structure."""
        device = resolve_device(options.device) if options.device != "cpu" else self.device
        if device != self.device:
            self.net.to(device)
            self.device = device
        f = featurize(seq, ss, self.net.cfg.edges, with_prior=self.net.cfg.aform_prior)
        f = f.to(self.device)
        k = self.net.cfg.edges.k + self.net.cfg.denoiser.knn
        per_sample = max(1, len(seq) * k)
        sample_chunk = max(1, EDGE_ROW_BUDGET // per_sample)
        return sample_ensemble(
            self.net,
            f,
            options.n_samples,
            generator,
            steps=options.steps,
            chunk_size=options.chunk_size or DEFAULT_CHUNK,
            sample_chunk=sample_chunk,
            init_sigma=self.init_sigma,
        )

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        """Fold one record: SS (given or ViennaRNA MFE) → S ranked all-atom models."""
        seq = record.seq.upper()
        t0 = time.perf_counter()
        if record.ss is not None:
            ss, ss_source = record.ss, "input"
        else:
            ss, ss_source = predict_ss(seq), "vienna"
        seed = record_seed(options.seed, record.id)
        gen = torch.Generator().manual_seed(seed)
        t1 = time.perf_counter()
        ens = self.sample(seq, ss, options, gen)
        t2 = time.perf_counter()
        score = ens.ranking_score.numpy()
        order = np.argsort(-score, kind="stable")
        c1 = ens.coords.numpy()[order].astype(np.float64)
        plddt = ens.plddt.numpy()[order].astype(np.float64)
        models = c1_models(seq, c1, partner_array(ss), plddt, options.cleanup)
        timing = {"ss": t1 - t0, "sample": t2 - t1, "atoms": time.perf_counter() - t2}
        return Prediction(
            record_id=record.id,
            sequence=seq,
            ss=ss,
            ss_source=ss_source,
            models=models,
            plddt=plddt,
            ptm=ens.ptm.numpy()[order].astype(np.float64),
            ranking_score=score[order].astype(np.float64),
            sample_index=[int(i) for i in order],
            seed=seed,
            model_version=self.model_version,
            extra={"c1": c1, "timing_s": timing},
        )
