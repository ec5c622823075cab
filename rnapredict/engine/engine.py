"""The frozen-weight fold engine: record → ranked all-atom ensemble with confidence."""

from __future__ import annotations

import time

import numpy as np
import torch

from rnapredict.engine.api import FoldOptions, Prediction, record_generators
from rnapredict.engine.calibration import PlddtCalibration
from rnapredict.engine.sampling import Ensemble, sample_ensemble
from rnapredict.features.featurize import featurize
from rnapredict.features.probing import probing_report, soft_constraint
from rnapredict.features.secondary import partner_array, predict_ss
from rnapredict.io.records import Record
from rnapredict.io.structure import RnaStructure
from rnapredict.model.network import RnaFoldNet
from rnapredict.prior.candidates import Candidate
from rnapredict.prior.cgscore import model_ranking
from rnapredict.prior.provider import PriorOptions, build_candidates

#: Denoiser rows (samples × residues × neighbours) per batched call before chunking samples.
EDGE_ROW_BUDGET = 4_000_000
#: Decoder chunk (residues) when ``FoldOptions.chunk_size`` is None.
DEFAULT_CHUNK = 512


#: confidence.json ``prior.refinement`` of a model that is its unrefined candidate.
KEPT_START_NOTE = (
    "the candidate unrefined: the diffusion broke more than a quarter of its base pairs"
)


def resolve_device(device: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def c1_models(
    seq: str, c1: np.ndarray, ss: list[str], plddt: np.ndarray, cleanup: bool = True
) -> tuple[list[RnaStructure], list[str | None]]:
    """All-atom models from C1′ traces via :mod:`rnapredict.geometry`.

    Args:
        c1: [S, L, 3] Å; ss: [S] dot-bracket per model (pairs for the rebuild and the
        clean-up); plddt: [S, L] 0–100; cleanup: clash clean-up
        (:mod:`rnapredict.geometry.cleanup`).

    Returns:
        The S models and, per model, None or why its clean-up was reverted: where a cleaned
        model fails :func:`rnapredict.geometry.check.model_problem` while the raw one passes,
        the failing residues take their raw coordinates (the checks are per residue, so the
        model then passes); it is never written broken. Reverting the whole model instead
        kept every clash of the raw trace for one stretched bond (clashscore 857 at 990 nt).
    """
    from rnapredict.geometry.check import bad_residues, model_problem
    from rnapredict.geometry.convert import atoms_to_structure
    from rnapredict.geometry.from_c1 import c1_to_atoms

    n_s = c1.shape[0]
    atoms = torch.empty(0)
    mask = torch.empty(0)
    for one in dict.fromkeys(ss):  # one rebuild per distinct structure
        idx = [s for s in range(n_s) if ss[s] == one]
        xyz = torch.from_numpy(c1[idx]).double()
        part, mask = c1_to_atoms(seq, xyz, torch.from_numpy(partner_array(one)).long())
        if atoms.numel() == 0:
            atoms = part.new_zeros((n_s, *part.shape[1:]))
        atoms[idx] = part
    raw = [atoms_to_structure(seq, atoms[s], mask, plddt[s]) for s in range(n_s)]
    if not cleanup:
        return raw, [None] * n_s
    from rnapredict.geometry.cleanup import clean_atoms

    models: list[RnaStructure] = []
    notes: list[str | None] = []
    for s in range(n_s):  # one model at a time: a joint L-BFGS settles each model less
        cleaned = clean_atoms(seq, atoms[s], partner_array(ss[s]))
        clean = atoms_to_structure(seq, cleaned, mask, plddt[s])
        problem = model_problem(clean)
        if problem is None or model_problem(raw[s]) is not None:
            models.append(clean)
            notes.append(None)
            continue
        bad = bad_residues(clean)
        mixed = cleaned.clone()
        mixed[bad] = atoms[s][bad].to(mixed.dtype)
        hybrid = atoms_to_structure(seq, mixed, mask, plddt[s])
        if bad and model_problem(hybrid) is None:
            models.append(hybrid)
            notes.append(f"clean-up reverted for {len(bad)} residue(s) ({problem})")
        else:
            models.append(raw[s])
            notes.append(f"clean-up reverted ({problem})")
    return models, notes


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
        self.device = resolve_device(device)
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
        device = resolve_device(options.device) if options.device != "cpu" else self.device
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
        ens = Ensemble(
            torch.cat([p.coords for p in parts]),
            plddt,
            torch.cat([p.ptm for p in parts]),
            torch.cat([p.kept_start for p in parts]),
        )
        return ens, owner

    def predict(self, record: Record, options: FoldOptions) -> Prediction:
        """Fold one record: SS (given or ViennaRNA MFE) → candidates → S ranked models."""
        seq = record.seq.upper()
        t0 = time.perf_counter()
        constraint = (
            None if record.probing is None else soft_constraint(record.probing, options.probing)
        )
        if record.ss is not None:
            ss, ss_source = record.ss, "input"
        else:
            ss, ss_source = predict_ss(seq, probing=constraint), "vienna"
        seed, gen, prior_gen = record_generators(options.seed, record.id)
        popts = PriorOptions(
            options.prior, options.n_samples, options.templates, options.template_cutoff, constraint
        )
        cands = build_candidates(seq, ss, ss_source, popts, prior_gen, record.id)
        t1 = time.perf_counter()
        ens, owner = self.sample_candidates(seq, cands, options, gen)
        t2 = time.perf_counter()
        score = model_ranking(
            seq,
            ens.coords.numpy(),
            [cands[j].ss for j in owner],
            ens.ranking_score.numpy(),
            [cands[j].source for j in owner],
        )
        order = np.argsort(-score, kind="stable")
        c1 = ens.coords.numpy()[order].astype(np.float64)
        plddt = ens.plddt.numpy()[order].astype(np.float64)
        ranked = [cands[owner[i]] for i in order]
        models, geometry_notes = c1_models(seq, c1, [c.ss for c in ranked], plddt, options.cleanup)
        timing = {"prior": t1 - t0, "sample": t2 - t1, "atoms": time.perf_counter() - t2}
        extra = {"c1": c1, "timing_s": timing, "weights_sha256": self.weights_sha256}
        if constraint is not None:
            extra["probing"] = probing_report(constraint, seq, ss, models, guided=record.ss is None)
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
            extra=extra,
            model_ss=[c.ss for c in ranked],
            model_prior=[
                {
                    "source": c.source,
                    **c.info,
                    **({"geometry": g} if g else {}),
                    **({"refinement": KEPT_START_NOTE} if bool(ens.kept_start[i]) else {}),
                }
                for c, g, i in zip(ranked, geometry_notes, order, strict=True)
            ],
        )
