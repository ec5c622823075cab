"""Starting candidates of a record: all sources combined, templates first, then the
structural prior (A-form rule or motif-library assembly)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rnapredict.data.cutoff import StructureCutoff
from rnapredict.geometry.candidate import Candidate, aform_candidate

if TYPE_CHECKING:
    import torch

    from rnapredict.features.vienna import ViennaConfig
    from rnapredict.pipeline.api import FoldOptions
    from rnapredict.pipeline.secondary import Secondary

PRIORS = ("aform", "assembly")


@dataclass(frozen=True)
class PriorOptions:
    """How a record's starting candidates are made.

    Attributes:
        prior: ``assembly`` (motif-library assembly over a secondary-structure ensemble) or
            ``aform`` (one A-form candidate from the given/MFE structure; the old path).
        n: number of candidates wanted (the ensemble size S).
        templates: template library path, ``default`` (the shipped one) or ``none``.
        cutoff: ``YYYY-MM-DD``; no experimental structure released on or after it (templates
            and motif-library instances alike) is used (None: any date).
        constrain: probing soft constraints for the sampled structures (``--shape``/``--dms``;
            :func:`rnapredict.features.probing.soft_constraint`), or None.
        vienna: energy parameters of the sampled structures (None: the default).
    """

    prior: str = "assembly"
    n: int = 5
    templates: str = "none"
    cutoff: str | None = None
    constrain: Callable[..., None] | None = None
    vienna: ViennaConfig | None = None


def build_candidates(
    seq: str,
    ss: str,
    ss_source: str,
    opts: PriorOptions,
    generator: torch.Generator,
    record_id: str | None = None,
    library: object | None = None,
) -> list[Candidate]:
    """1 … ``opts.n`` candidates for one record; never empty, never raises for lack of a match.

    Args:
        seq: sequence (``ACGUN``), length L.
        ss: the record's structure (given, or ViennaRNA MFE) — always the first candidate's.
        ss_source: ``input`` or ``vienna`` (a given structure is not replaced by samples).
        generator: the record's generator (candidate choice is seeded by it).
        record_id: the query's id: no template or motif instance of the PDB entry it names
            (:func:`rnapredict.data.cutoff.entry_id`) is used.
        library: the motif library to assemble from (None: the shipped one, bound by the
            cutoff and the self-exclusion); ``bench/`` passes one built without a CV fold.

    Template candidates (:mod:`rnapredict.templates`) come first; the structural prior fills
    the remaining slots. ``opts.cutoff`` and the self-exclusion bound both sources.
    """
    if opts.prior not in PRIORS:
        raise ValueError(f"unknown prior {opts.prior!r} (choose from {', '.join(PRIORS)})")
    from rnapredict.templates.candidate import template_candidates

    tmpl = template_candidates(seq, ss, ss_source, opts.templates, opts.n, opts.cutoff, record_id)
    rest = opts.n - len(tmpl)
    if rest <= 0:
        return tmpl
    if opts.prior == "aform":
        return tmpl + [aform_candidate(seq, ss, ss_source)]
    from rnapredict.prior.assembly import assembly_candidates
    from rnapredict.prior.library import fold_library

    if library is None:
        library = fold_library(StructureCutoff.for_record(opts.cutoff, record_id))
    cands = assembly_candidates(
        seq,
        ss,
        ss_source,
        rest,
        generator,
        library=library,
        constrain=opts.constrain,
        vienna=opts.vienna,
    )
    return tmpl + (cands or [aform_candidate(seq, ss, ss_source)])


def record_candidates(
    seq: str,
    sec: Secondary,
    options: FoldOptions,
    generator: torch.Generator,
    record_id: str | None = None,
    library: object | None = None,
) -> list[Candidate]:
    """:func:`build_candidates` with ``fold``'s options: ``options.n_samples`` wanted, its
    prior, templates and cutoff, the probing constraint of ``sec``."""
    opts = PriorOptions(
        options.prior,
        options.n_samples,
        options.templates,
        options.cutoff,
        sec.constraint,
        options.vienna(),
    )
    return build_candidates(seq, sec.ss, sec.source, opts, generator, record_id, library)
