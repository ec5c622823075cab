"""Library entry points of ``rnapredict score``: score models against a reference.

``score_structures`` scores in-memory models; ``score_models`` reads files (the reference once)
and returns one :class:`ScoreResult` per model. Metrics: TM-score with US-align's RNA
conventions (index or structure alignment), RMSD over the aligned representative atoms,
all-heavy-atom RMSD over residues matched with the same nucleotide, GDT-TS, lDDT (global and
per reference residue), INF (all / WC / non-WC / stacking) and the model's clashscore.

A metric that needs more than the representative atom is NA (None, with the reason in
``ScoreResult.na``) when a structure lacks the atoms it needs (:mod:`.completeness`): INF
without bases, clashscore and all-heavy-atom RMSD without (most) heavy atoms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rnapredict.errors import ScoringError, StructureError
from rnapredict.io.pdbio import read_models
from rnapredict.io.structure import RnaStructure
from rnapredict.score.basepairs import Interactions, annotate
from rnapredict.score.clash import ClashReport, clashscore
from rnapredict.score.completeness import too_few_atoms
from rnapredict.score.inf import INFResult, inf
from rnapredict.score.lddt import lddt
from rnapredict.score.matching import match_residues, representative
from rnapredict.score.seqalign import align_sequences
from rnapredict.score.superpose import superposed_rmsd
from rnapredict.score.tmscore import TMResult, tm_fixed_alignment

Align = Literal["index", "structure", "sequence"]
MIN_RESIDUES = 3


@dataclass(frozen=True)
class ScoreOptions:
    """How to score.

    Attributes:
        atom: representative atom per residue (US-align default ``C3'``; ``C1'`` for Kaggle).
        align: ``index`` (residues matched by number), ``structure`` (TM-align) or
            ``sequence`` (global sequence alignment, :mod:`.seqalign`).
        lddt_radius: lDDT inclusion radius (Å).
        interactions: compute INF (base-pair annotation of both structures).
        clashes: compute the model's clashscore.
        min_atom_fraction: INF, clashscore and all-heavy-atom RMSD are NA when a structure
            carries less than this fraction of the standard heavy atoms they need (bases for
            INF; all heavy atoms for the others).
    """

    atom: str = "C3'"
    align: Align = "index"
    lddt_radius: float = 15.0
    interactions: bool = True
    clashes: bool = True
    min_atom_fraction: float = 0.9


@dataclass(frozen=True)
class Reference:
    """A reference prepared once for many models."""

    structure: RnaStructure
    name: str
    rep_index: np.ndarray  # [Kr] residues having the representative atom
    rep_xyz: np.ndarray  # [Kr, 3]
    interactions: Interactions | None
    inf_na: str | None = None  # why INF cannot be computed against this reference

    @property
    def skipped(self) -> int:
        """Reference residues without the representative atom (left out of every metric)."""
        return self.structure.n_residues - len(self.rep_index)


#: Metrics that may be NA: key in ``ScoreResult.na`` → how messages name it.
NA_LABELS = {"rmsd_all_atom": "all-heavy-atom RMSD", "inf": "INF", "clashscore": "clashscore"}


@dataclass
class ScoreResult:
    """Scores of one model against the reference (see :meth:`to_dict` for the JSON form).

    ``inf``, ``clash`` and ``rmsd_all_atom`` are None when not computed: ``na`` maps the
    metric (``inf``, ``clashscore``, ``rmsd_all_atom``) to the reason when it could not be
    computed; a metric switched off in :class:`ScoreOptions` is None without a reason.
    """

    model: str
    ref: str
    align: str
    atom: str
    matched_by: str
    tm: TMResult
    lddt: float
    lddt_per_residue: list[tuple[str, float | None]]
    rmsd_all_atom: float | None
    n_atoms_all_atom: int
    inf: INFResult | None
    clash: ClashReport | None
    skipped_model: int
    skipped_ref: int
    alignment: list[tuple[str, str]] = field(repr=False)
    lddt_radius: float = 15.0
    na: dict[str, str] = field(default_factory=dict)
    #: ``--align sequence``: identical / aligned pairs and aligned pairs / reference length.
    seq_identity: float | None = None
    seq_coverage: float | None = None

    @property
    def tm_ref(self) -> float:
        return self.tm.tm_ref

    def to_dict(self, *, details: bool = True) -> dict[str, Any]:
        """JSON-ready dict with every metric key (None where NA or switched off);
        ``details`` adds per-residue lDDT, the alignment, the superposition and clashes."""

        def num(v: float | None) -> float | None:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

        inf_keys = {"inf_all": None, "inf_wc": None, "inf_nwc": None, "inf_stack": None}
        out: dict[str, Any] = {
            "model": self.model,
            "ref": self.ref,
            "status": "ok",
            "error": None,
            "align": self.align,
            "atom": self.atom,
            "matched_by": self.matched_by,
            "seq_identity": None if self.seq_identity is None else round(self.seq_identity, 4),
            "seq_coverage": None if self.seq_coverage is None else round(self.seq_coverage, 4),
            "tm_ref": num(self.tm.tm_ref),
            "tm_model": num(self.tm.tm_model),
            "rmsd": num(self.tm.rmsd),
            "aligned": self.tm.aligned,
            "len_ref": self.tm.len_ref,
            "len_model": self.tm.len_model,
            "d0_ref": self.tm.d0_ref,
            "gdt_ts": num(self.tm.gdt_ts),
            "lddt": num(self.lddt),
            "lddt_radius": self.lddt_radius,
            "rmsd_all_atom": num(self.rmsd_all_atom),
            "n_atoms_all_atom": self.n_atoms_all_atom,
            **(self.inf.to_dict() if self.inf else inf_keys),
            "clashscore": self.clash.score if self.clash else None,
            "n_clashes": self.clash.n_clashes if self.clash else None,
            "skipped_model_residues": self.skipped_model,
            "skipped_ref_residues": self.skipped_ref,
            "na": dict(self.na),
        }
        if details:
            out["lddt_per_residue"] = [
                {"residue": r, "lddt": num(v)} for r, v in self.lddt_per_residue
            ]
            out["alignment"] = [list(p) for p in self.alignment]
            out["superposition"] = {
                "rotation": self.tm.rot.tolist(),
                "translation": self.tm.trans.tolist(),
            }
            out["worst_clashes"] = [c.__dict__ for c in self.clash.worst] if self.clash else []
        return out


def failure_dict(model: str, ref: str, error: str, options: ScoreOptions) -> dict[str, Any]:
    """The JSON form of a model that could not be scored (``status`` ``failed``)."""
    return {
        "model": model,
        "ref": ref,
        "status": "failed",
        "error": error,
        "align": options.align,
        "atom": options.atom,
    }


def _require_atoms(s: RnaStructure, idx: np.ndarray, atom: str, name: str) -> None:
    """Raise a ScoringError naming the file when too few residues carry ``atom``."""
    if len(idx) >= MIN_RESIDUES:
        return
    hint = ""
    for other in ("C3'", "C1'", "P"):
        if other != atom and len(representative(s, other)[0]) >= MIN_RESIDUES:
            hint = f' (it has {other} atoms: try --atom "{other}")'
            break
    raise ScoringError(
        f"only {len(idx)} residue(s) with atom {atom}, need {MIN_RESIDUES}{hint}", file=name
    )


def prepare_reference(
    ref: RnaStructure, options: ScoreOptions, name: str = "reference"
) -> Reference:
    """Representative atoms and interactions of a reference (raises if too few residues)."""
    idx, xyz = representative(ref, options.atom)
    _require_atoms(ref, idx, options.atom, name)
    inf_na = None
    if options.interactions:
        inf_na = too_few_atoms("reference", ref, options.min_atom_fraction, part="base")
    interactions = annotate(ref) if options.interactions and inf_na is None else None
    return Reference(ref, name, idx, xyz, interactions, inf_na)


def _all_atom_rmsd(
    model: RnaStructure, ref: RnaStructure, model2ref: np.ndarray
) -> tuple[float | None, int]:
    """RMSD (Å) over heavy atoms with the same name in matched residues of the same base."""
    ms, rs = model.residue_starts(), ref.residue_starts()
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for i, j in enumerate(model2ref):
        if j < 0 or model.seq[i] != ref.seq[j]:
            continue
        rnames = {ref.atom_names[k]: k for k in range(rs[j], rs[j + 1])}
        for k in range(ms[i], ms[i + 1]):
            kr = rnames.get(model.atom_names[k])
            if kr is not None and model.elements[k] not in ("H", "D"):
                xs.append(model.coords[k])
                ys.append(ref.coords[kr])
    if len(xs) < MIN_RESIDUES:
        return None, len(xs)
    return superposed_rmsd(np.array(xs), np.array(ys)), len(xs)


def _atom_metrics(
    model: RnaStructure, reference: Reference, model2ref: np.ndarray, options: ScoreOptions
) -> tuple[float | None, int, INFResult | None, ClashReport | None, dict[str, str]]:
    """Metrics beyond the representative atom, each None with a reason where the structures
    lack the atoms it needs: (all-heavy-atom RMSD (Å), its atom count, INF, clashscore, na).

    Args:
        model2ref: [Lm] reference residue of each model residue, -1 if unmatched.
    """
    ref, frac = reference.structure, options.min_atom_fraction
    na: dict[str, str] = {}
    matched = np.nonzero(model2ref >= 0)[0]
    lack = too_few_atoms("model", model, frac, matched) or too_few_atoms(
        "reference", ref, frac, model2ref[matched]
    )
    rmsd_all, n_all = (None, 0) if lack else _all_atom_rmsd(model, ref, model2ref)
    if lack or rmsd_all is None:
        na["rmsd_all_atom"] = lack or f"only {n_all} matched heavy atoms"
    inf_res = None
    if options.interactions and (reference.interactions is not None or reference.inf_na):
        lack = reference.inf_na or too_few_atoms("model", model, frac, matched, part="base")
        if not lack and reference.interactions is not None:
            inf_res = inf(annotate(model), reference.interactions, model2ref)
            if math.isnan(inf_res.all):
                lack, inf_res = "no base pair or stacking in either structure", None
        if lack:
            na["inf"] = lack
    clash = None
    if options.clashes:
        lack = too_few_atoms("model", model, frac)
        if lack:
            na["clashscore"] = lack
        else:
            clash = clashscore(model)
    return rmsd_all, n_all, inf_res, clash, na


def score_against(
    model: RnaStructure, reference: Reference, options: ScoreOptions, name: str = "model"
) -> ScoreResult:
    """Score one model against a prepared reference."""
    ref = reference.structure
    m_idx, m_xyz = representative(model, options.atom)
    _require_atoms(model, m_idx, options.atom, name)
    r_idx = reference.rep_index
    model2ref = np.full(model.n_residues, -1, dtype=np.int64)
    seq_match = None
    if options.align in ("index", "sequence"):
        if options.align == "index":
            r2m, how = match_residues(model, ref, model_name=name, ref_name=reference.name)
        else:
            try:
                seq_match = align_sequences(model.seq, ref.seq)
            except ScoringError as err:
                raise ScoringError(f"{err.message} with {reference.name}", file=name) from None
            r2m, how = seq_match.ref2model, "sequence"
        pos_m = np.full(model.n_residues, -1, dtype=np.int64)
        pos_m[m_idx] = np.arange(len(m_idx))
        pairs = [
            (pos_m[r2m[j]], k) for k, j in enumerate(r_idx) if r2m[j] >= 0 and pos_m[r2m[j]] >= 0
        ]
        if not pairs:
            raise ScoringError(
                f"no residue with atom {options.atom} matches {reference.name}", file=name
            )
        tm = tm_fixed_alignment(m_xyz, reference.rep_xyz, np.array(pairs, dtype=np.int64))
        for j, i in enumerate(r2m):
            if i >= 0:
                model2ref[i] = j
    elif options.align == "structure":
        from rnapredict.score.tmalign import tm_align  # numba import only when needed

        how = "structure"
        tm = tm_align(
            m_xyz,
            reference.rep_xyz,
            "".join(model.seq[i] for i in m_idx),
            "".join(ref.seq[i] for i in r_idx),
            atom=options.atom,
        )
        model2ref[m_idx[tm.pairs[:, 0]]] = r_idx[tm.pairs[:, 1]]
    else:
        raise ScoringError(
            f"unknown alignment mode {options.align!r} (index, structure or sequence)"
        )

    # lDDT over the reference's representative atoms; unmatched ones count as lost.
    ref2model = np.full(ref.n_residues, -1, dtype=np.int64)
    ref2model[model2ref[model2ref >= 0]] = np.nonzero(model2ref >= 0)[0]
    m_rep, _ = model.atom_coords(options.atom)
    mapped = np.full((len(r_idx), 3), np.nan)
    ok = ref2model[r_idx] >= 0
    mapped[ok] = m_rep[ref2model[r_idx][ok]]
    ld = lddt(mapped, reference.rep_xyz, radius=options.lddt_radius)
    labels = ref.residue_labels()
    per_res = [
        (labels[j], None if math.isnan(v) else float(v))
        for j, v in zip(r_idx.tolist(), ld.per_residue, strict=True)
    ]
    rmsd_all, n_all, inf_res, clash, na = _atom_metrics(model, reference, model2ref, options)
    m_labels = model.residue_labels()
    alignment = [(m_labels[m_idx[a]], labels[r_idx[b]]) for a, b in tm.pairs]
    return ScoreResult(
        model=name,
        ref=reference.name,
        align=options.align,
        atom=options.atom,
        matched_by=how,
        tm=tm,
        lddt=ld.score,
        lddt_per_residue=per_res,
        rmsd_all_atom=rmsd_all,
        n_atoms_all_atom=n_all,
        inf=inf_res,
        clash=clash,
        skipped_model=model.n_residues - len(m_idx),
        skipped_ref=reference.skipped,
        alignment=alignment,
        lddt_radius=options.lddt_radius,
        na=na,
        seq_identity=None if seq_match is None else seq_match.identity,
        seq_coverage=None if seq_match is None else seq_match.coverage,
    )


def score_structures(
    model: RnaStructure,
    ref: RnaStructure,
    options: ScoreOptions | None = None,
    *,
    model_name: str = "model",
    ref_name: str = "reference",
) -> ScoreResult:
    """Score an in-memory model against an in-memory reference."""
    options = options or ScoreOptions()
    return score_against(model, prepare_reference(ref, options, ref_name), options, model_name)


def read_for_scoring(path: Path | str) -> RnaStructure:
    """First model of a structure file (errors name the file)."""
    return read_first_model(path)[0]


def read_first_model(path: Path | str) -> tuple[RnaStructure, int]:
    """First model of a structure file and how many models the file holds (only the first
    is scored; callers say so when there are more). Errors name the file."""
    try:
        models = read_models(path)
    except StructureError:
        raise
    except (OSError, ValueError, RuntimeError) as err:
        raise StructureError(f"cannot read structure: {err}", file=str(path)) from None
    return models[0], len(models)


def score_models(
    models: list[Path], ref: Path, options: ScoreOptions | None = None
) -> list[ScoreResult]:
    """Score model files against a reference file (read once). Raises on the first bad file."""
    options = options or ScoreOptions()
    reference = prepare_reference(read_for_scoring(ref), options, str(ref))
    return [score_against(read_for_scoring(p), reference, options, str(p)) for p in models]
