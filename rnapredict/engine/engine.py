"""The frozen-weight fold engine: record → ranked all-atom ensemble with confidence."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch

from rnapredict.engine.api import FoldOptions, Prediction, record_generators, resolve_device
from rnapredict.engine.calibration import PlddtCalibration
from rnapredict.engine.sampling import Ensemble, sample_ensemble
from rnapredict.features.featurize import featurize
from rnapredict.features.probing import probing_report, soft_constraint
from rnapredict.features.secondary import partner_array, predict_ss
from rnapredict.geometry.candidate import Candidate
from rnapredict.geometry.trace import TraceConfig
from rnapredict.io.records import Record
from rnapredict.io.structure import RnaStructure
from rnapredict.model.network import RnaFoldNet
from rnapredict.prior.provider import PriorOptions, build_candidates

#: Denoiser rows (samples × residues × neighbours) per batched call before chunking samples.
EDGE_ROW_BUDGET = 4_000_000
#: Decoder chunk (residues) when ``FoldOptions.chunk_size`` is None.
DEFAULT_CHUNK = 512


#: Rounds of :func:`_repair` (each reverts the residues the check still names).
REPAIR_ROUNDS = 4
#: A model no repair saves is rebuilt once on its trace closed tighter than the default
#: (steps 4.5–7.5 Å) with 3× the closure steps, before it is replaced (random 3,000 nt: a
#: link the closure left at 2.07 Å).
RETRY_TRACE = TraceConfig(max_step=7.5, min_step=4.5)
RETRY_CLOSURE_STEPS = 300
#: Extra sampling rounds that replace models no repair makes physical (each draws as many
#: samples as are missing, from generators derived from the record seed).
REPLACEMENT_ROUNDS = 3
#: Highest pLDDT of an unknown (``N``) residue: the network sees no base there, so its
#: confidence says nothing about which nucleotide it is (an all-N record scored 99.75).
N_PLDDT_CAP = 30.0

#: confidence.json ``prior.refinement`` of a model that is its unrefined candidate.
KEPT_START_NOTE = (
    "the candidate unrefined: the diffusion broke more than a quarter of its base pairs"
)


def _repair(
    seq: str,
    cleaned: torch.Tensor,
    raw: torch.Tensor,
    mask: torch.Tensor,
    plddt: np.ndarray,
    problem: str,
) -> tuple[RnaStructure | None, str]:
    """A physical model from a cleaned model [L, A, 3] that fails the check, or None.

    The failing residues take their raw coordinates (built on the C1′ trace, not cleaned);
    a residue swapped back can break its link to a cleaned neighbour, so the neighbours the
    check then names follow, for up to :data:`REPAIR_ROUNDS` rounds. Then the whole raw model,
    if it passes. Returns the model (or None) and the note saying what was done (or why not).
    """
    from rnapredict.geometry.check import bad_residues, model_problem
    from rnapredict.geometry.convert import atoms_to_structure

    mixed = cleaned.clone()
    reverted: set[int] = set()
    model = atoms_to_structure(seq, mixed, mask, plddt)
    for _ in range(REPAIR_ROUNDS):
        bad = set(bad_residues(model)) - reverted
        if not bad:
            break
        reverted |= bad
        idx = sorted(reverted)
        mixed[idx] = raw[idx].to(mixed.dtype)
        model = atoms_to_structure(seq, mixed, mask, plddt)
        if model_problem(model) is None:
            return model, f"clean-up reverted for {len(reverted)} residue(s) ({problem})"
    whole = atoms_to_structure(seq, raw, mask, plddt)
    left = model_problem(whole)
    if left is None:
        return whole, f"clean-up reverted ({problem})"
    return None, model_problem(model) or left


def c1_models(
    seq: str, c1: np.ndarray, ss: list[str], plddt: np.ndarray, cleanup: bool = True
) -> tuple[list[RnaStructure], list[str | None], list[bool]]:
    """All-atom models from C1′ traces via :mod:`rnapredict.geometry`.

    Args:
        c1: [S, L, 3] Å (gaps closed first: :func:`rnapredict.geometry.trace.close_trace`);
        ss: [S] dot-bracket per model (pairs for the rebuild and the clean-up); plddt:
        [S, L] 0–100; cleanup: clash clean-up (:mod:`rnapredict.geometry.cleanup`).

    Returns:
        The S models; per model None or what was done to make it pass
        :func:`rnapredict.geometry.check.model_problem` (or, if nothing could, why it fails);
        and per model whether it passes. Where a cleaned model fails, its failing residues
        (and then any neighbour whose link that breaks) take their raw coordinates; failing
        that, the whole raw model; failing that, the model is rebuilt once on its trace
        closed tighter (``RETRY_TRACE``, written back into ``c1``). Reverting the whole model
        at once kept every clash of the raw trace for one stretched bond (clashscore 857 at
        990 nt).
    """
    from rnapredict.geometry.check import model_problem
    from rnapredict.geometry.convert import atoms_to_structure
    from rnapredict.geometry.from_c1 import c1_to_atoms
    from rnapredict.geometry.trace import close_trace

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
        problems = [model_problem(m) for m in raw]
        return raw, problems, [p is None for p in problems]
    models: list[RnaStructure] = []
    notes: list[str | None] = []
    passed: list[bool] = []
    for s in range(n_s):  # one model at a time: a joint L-BFGS settles each model less
        model, note = _clean_and_repair(seq, atoms[s], mask, plddt[s], ss[s])
        if model is None:  # a link the closure could not join: once more, tighter and longer
            c1[s] = close_trace(torch.from_numpy(c1[s]), RETRY_TRACE).numpy()
            xyz = torch.from_numpy(c1[s]).double()
            partner = torch.from_numpy(partner_array(ss[s])).long()
            rebuilt, _ = c1_to_atoms(seq, xyz, partner, closure_steps=RETRY_CLOSURE_STEPS)
            model, again = _clean_and_repair(seq, rebuilt, mask, plddt[s], ss[s])
            if model is None:
                note = again
            else:
                note = "; ".join(n for n in (f"rebuilt on a tighter trace ({note})", again) if n)
        models.append(model if model is not None else raw[s])
        notes.append(note)
        passed.append(model is not None)
    return models, notes, passed


def _clean_and_repair(
    seq: str, atoms: torch.Tensor, mask: torch.Tensor, plddt: np.ndarray, ss: str
) -> tuple[RnaStructure | None, str | None]:
    """Clean one model atoms [L, A, 3] and check it; repair (:func:`_repair`) if it fails.
    Returns the physical model or None, and what was done (or why it fails)."""
    from rnapredict.geometry.check import model_problem
    from rnapredict.geometry.cleanup import clean_atoms
    from rnapredict.geometry.convert import atoms_to_structure

    cleaned = clean_atoms(seq, atoms, partner_array(ss))
    clean = atoms_to_structure(seq, cleaned, mask, plddt)
    problem = model_problem(clean)
    if problem is None:
        return clean, None
    return _repair(seq, cleaned, atoms, mask, plddt, problem)


@dataclass
class _Pool:
    """Built samples of one record, unranked (sample order; replacements appended)."""

    c1: np.ndarray  # [S, L, 3] Å, gaps closed
    plddt: np.ndarray  # [S, L]
    ptm: np.ndarray  # [S]
    score: np.ndarray  # [S] ranking score
    kept_start: np.ndarray  # [S] bool
    owner: list[int]  # [S] candidate index
    models: list[RnaStructure]
    notes: list[str | None]
    passed: np.ndarray  # [S] bool: the model passes the check

    def cat(self, other: _Pool) -> _Pool:
        return _Pool(
            *(np.concatenate([a, b]) for a, b in ((self.c1, other.c1), (self.plddt, other.plddt),
              (self.ptm, other.ptm), (self.score, other.score),
              (self.kept_start, other.kept_start))),
            self.owner + other.owner, self.models + other.models, self.notes + other.notes,
            np.concatenate([self.passed, other.passed]),
        )  # fmt: skip

    def ranked(self, n: int) -> np.ndarray:
        """Indices of the ``n`` best-scoring physical models (stable order), or, when none
        is physical, of the ``n`` best-scoring ones (the record check then says why)."""
        order = np.argsort(-self.score, kind="stable")
        good = order[self.passed[order]]
        return (good if len(good) else order)[:n]


def _build(
    seq: str, cands: list[Candidate], ens: Ensemble, owner: list[int], cleanup: bool
) -> _Pool:
    """Close the traces' gaps, build and check the all-atom models of an ensemble."""
    from rnapredict.geometry.trace import close_trace, out_of_range, trace_note

    raw = ens.coords.double()
    moved = out_of_range(raw).tolist()
    c1 = close_trace(raw).numpy().copy()  # c1_models may close a failing model's trace further
    plddt = ens.plddt.numpy().astype(np.float64)
    models, notes, passed = c1_models(seq, c1, [cands[j].ss for j in owner], plddt, cleanup)
    joined = [
        "; ".join(n for n in (trace_note(*m), g) if n) or None
        for m, g in zip(moved, notes, strict=True)
    ]
    return _Pool(
        c1, plddt, ens.ptm.numpy().astype(np.float64),
        ens.ranking_score.numpy().astype(np.float64), ens.kept_start.numpy().astype(bool),
        list(owner), models, joined, np.asarray(passed, dtype=bool),
    )  # fmt: skip


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
            options.prior, options.n_samples, options.templates, options.cutoff, constraint
        )
        cands = build_candidates(seq, ss, ss_source, popts, prior_gen, record.id)
        t1 = time.perf_counter()
        ens, owner = self.sample_candidates(seq, cands, options, gen)
        t2 = time.perf_counter()
        pool = _build(seq, cands, ens, owner, options.cleanup)
        for k in range(REPLACEMENT_ROUNDS):  # models no repair made physical: new samples
            missing = options.n_samples - int(pool.passed.sum())
            if missing <= 0:
                break
            more = replace(options, n_samples=missing)
            gen_k = torch.Generator().manual_seed((seed + 2 + k) % (1 << 63))
            pool = pool.cat(
                _build(
                    seq, cands, *self.sample_candidates(seq, cands, more, gen_k), options.cleanup
                )
            )
        order = pool.ranked(options.n_samples)
        models = [pool.models[i] for i in order]
        ranked = [cands[pool.owner[i]] for i in order]
        c1, plddt = pool.c1[order], pool.plddt[order]
        timing = {"prior": t1 - t0, "sample": t2 - t1, "atoms": time.perf_counter() - t2}
        extra = {"c1": c1, "timing_s": timing, "weights_sha256": self.weights_sha256}
        dropped = [i for i in range(len(pool.models)) if not pool.passed[i]]
        if dropped and pool.passed.any():
            extra["replaced"] = (
                f"{len(dropped)} sample(s) not physical after repair were replaced by new "
                f"samples (first: {pool.notes[dropped[0]]})"
            )
            if len(order) < options.n_samples:
                extra["replaced"] += (
                    f"; only {len(order)} of {options.n_samples} models are physical after "
                    f"{len(pool.models)} samples, the rest are not written"
                )
        if constraint is not None:
            extra["probing"] = probing_report(constraint, seq, ss, models, guided=record.ss is None)
        return Prediction(
            record_id=record.id,
            sequence=seq,
            ss=ss,
            ss_source=ss_source,
            models=models,
            plddt=plddt,
            ptm=pool.ptm[order],
            ranking_score=pool.score[order],
            sample_index=[int(i) for i in order],
            seed=seed,
            model_version=self.model_version,
            extra=extra,
            model_ss=[c.ss for c in ranked],
            model_prior=[
                {
                    "source": c.source,
                    **c.info,
                    **({"geometry": pool.notes[i]} if pool.notes[i] else {}),
                    **({"refinement": KEPT_START_NOTE} if pool.kept_start[i] else {}),
                }
                for c, i in zip(ranked, order, strict=True)
            ],
        )
