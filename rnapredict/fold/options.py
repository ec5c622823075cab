"""Options of a fold batch (the flags of ``rnapredict fold``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rnapredict.errors import RnapredictError
from rnapredict.features.probing import ProbingConfig
from rnapredict.features.vienna import ENERGY_PARAM_CHOICES, energy_rule
from rnapredict.fold.shard import Shard
from rnapredict.pipeline.api import FoldOptions
from rnapredict.pipeline.candidates import PRIORS
from rnapredict.threads import check_jobs, choose_threads, split_threads

FORMATS = ("pdb", "cif", "both")
#: Settings that say how a record was run, not what was computed: ``--resume`` ignores them.
RUNTIME_SETTINGS = frozenset({"threads"})
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class FoldRunOptions:
    """Everything a batch needs besides its inputs, output directory and engine.

    Attributes:
        n_samples: models per record (``-n``), ranked best first.
        seed: run seed; each record's seed is ``record_seed(seed, id)`` (engine side).
        ss_file: dot-bracket FASTA / BPSEQ / CT file with structures matched by record id.
        relax: relax every model after ranking (``--relax``).
        cleanup: clash clean-up of the all-atom models (``--no-cleanup``: off).
        fmt: ``pdb``, ``cif`` or ``both``.
        max_len: records longer than this (nt) fail without folding; None: no limit.
        chunk_size: decoder chunk (residues); None: engine default.
        steps: diffusion steps; None: engine default.
        shard: which part of the stream to fold (``--shard I/N``).
        resume: skip complete records, redo incomplete ones.
        overwrite: replace existing record outputs.
        device: ``auto``, ``cpu`` or ``cuda``.
        max_memory: bytes a record may need (pre-flight); None: memory available at start.
        weights_dir: weights directory for :func:`rnapredict.engine.load_engine`; None: shipped.
        shape_file, dms_file: ``--shape`` / ``--dms`` reactivities by record id (one at most).
        shape_slope, shape_intercept: Deigan pseudo-energy parameters (kcal/mol).
        probing_weight: scale the pseudo-energies by the data's evidence weight
            (:class:`rnapredict.features.probing.ProbingConstraint`); False: full strength.
        summary_interval: minimum seconds between ``summary.tsv`` rewrites (always at the end).
        prior: ``assembly`` or ``aform`` (``--prior``; see :class:`FoldOptions`).
        report: also write ``report.html/.png/.svg`` per record (``--report``).
        templates: template library (``--templates``): a path, ``default`` (shipped) or ``none``.
        cutoff: ``--cutoff YYYY-MM-DD`` (alias ``--template-cutoff``): no template or
            motif-library instance released on or after it is used (None: any date).
        threads: CPU threads of the whole run (``--threads``); None at construction: the
            default of :func:`rnapredict.threads.default_threads` (set in its place).
        jobs: worker processes folding records in parallel (``--jobs``), sharing ``threads``.
        energy_params: ViennaRNA energy parameters of the MFE and the sampled structures
            (``--energy-params``): ``auto``, ``consensus`` or a parameter set (see
            :class:`FoldOptions`).
    """

    n_samples: int = 5
    seed: int = 0
    ss_file: Path | None = None
    relax: bool = False
    cleanup: bool = True
    fmt: str = "pdb"
    max_len: int | None = None
    chunk_size: int | None = None
    steps: int | None = None
    shard: Shard = field(default_factory=Shard)
    resume: bool = False
    overwrite: bool = False
    device: str = "cpu"
    max_memory: int | None = None
    weights_dir: Path | None = None
    summary_interval: float = 1.0
    prior: str = "assembly"
    shape_file: Path | None = None
    dms_file: Path | None = None
    shape_slope: float = ProbingConfig.shape_slope
    shape_intercept: float = ProbingConfig.shape_intercept
    probing_weight: bool = True
    report: bool = False
    templates: str = "default"
    cutoff: str | None = None
    threads: int | None = None
    jobs: int = 1
    energy_params: str = FoldOptions.energy_params

    def __post_init__(self) -> None:
        check_jobs(self.jobs)
        object.__setattr__(self, "threads", choose_threads(self.threads).threads)
        if self.shape_file is not None and self.dms_file is not None:
            raise RnapredictError("--shape and --dms exclude each other; give one per run")
        if self.n_samples < 1:
            raise RnapredictError(f"-n {self.n_samples}: need at least one model")
        if self.fmt not in FORMATS:
            raise RnapredictError(f"--format {self.fmt!r}: expected one of {', '.join(FORMATS)}")
        if self.device not in DEVICES:
            raise RnapredictError(f"--device {self.device!r}: expected one of {', '.join(DEVICES)}")
        if self.resume and self.overwrite:
            raise RnapredictError("--resume and --overwrite exclude each other; pick one")
        for flag, value in (
            ("--max-len", self.max_len),
            ("--chunk-size", self.chunk_size),
            ("--steps", self.steps),
        ):
            if value is not None and value < 1:
                raise RnapredictError(f"{flag} {value}: must be a positive integer")
        if self.energy_params not in ENERGY_PARAM_CHOICES:
            choices = ", ".join(ENERGY_PARAM_CHOICES)
            raise RnapredictError(
                f"--energy-params {self.energy_params!r}: expected one of {choices}"
            )
        if self.prior not in PRIORS:
            raise RnapredictError(f"--prior {self.prior!r}: expected one of {', '.join(PRIORS)}")
        if self.max_memory is not None and self.max_memory <= 0:
            raise RnapredictError("--max-memory must be positive")
        from rnapredict.data.cutoff import parse_cutoff
        from rnapredict.templates.library import resolve_library

        object.__setattr__(self, "cutoff", parse_cutoff(self.cutoff))
        resolve_library(self.templates)  # a missing or broken library stops before folding

    def fold_options(self, device: str | None = None) -> FoldOptions:
        """The engine's per-record options (``device`` resolved from ``auto`` by the caller)."""
        return FoldOptions(
            n_samples=self.n_samples,
            seed=self.seed,
            chunk_size=self.chunk_size,
            steps=self.steps,
            device=device or self.device,
            prior=self.prior,
            probing=self.probing_config(),
            templates=self.templates,
            cutoff=self.cutoff,
            cleanup=self.cleanup,
            energy_params=self.energy_params,
        )

    @property
    def worker_threads(self) -> int:
        """Threads each record is folded with (``threads`` split over ``jobs``)."""
        assert self.threads is not None  # resolved in __post_init__
        return split_threads(self.threads, self.jobs)

    def probing_config(self) -> ProbingConfig:
        """Pseudo-energy settings of the probing data (``--shape-slope`` / ``-intercept``)."""
        return ProbingConfig(
            shape_slope=self.shape_slope,
            shape_intercept=self.shape_intercept,
            gate=self.probing_weight,
        )

    @property
    def probing(self) -> tuple[str, Path] | None:
        """``(kind, path)`` of the probing input, or None."""
        if self.shape_file is not None:
            return "shape", self.shape_file
        if self.dms_file is not None:
            return "dms", self.dms_file
        return None

    def settings(self) -> dict[str, object]:
        """The settings recorded in each ``confidence.json`` (``probing`` only with data;
        ``threads``, per record, is not compared by ``--resume``: see :data:`RUNTIME_SETTINGS`)."""
        out: dict[str, object] = {
            "n_samples": self.n_samples,
            "steps": self.steps,
            "chunk_size": self.chunk_size,
            "format": self.fmt,
            "relax": self.relax,
            "prior": self.prior,
            "templates": self.templates,
            "cutoff": self.cutoff,
            "cleanup": self.cleanup,
            "energy_params": self.energy_params,
            "energy_rule": energy_rule(FoldOptions(energy_params=self.energy_params).vienna()),
            "threads": self.worker_threads,
        }
        if self.probing is not None:
            kind = self.probing[0]
            out["probing"] = {"kind": kind, **self.probing_config().method(kind)}
        return out
