"""Fit the coarse-grained score (:mod:`rnapredict.prior.cgscore`) on train-split decoys.

    python -m rnapredict.train.cgscore build [--data ../shared/data] [-o weights/cgscore.safetensors]
        [--overwrite] [--manifest] [--search-weights EARLIER.safetensors]

Training set: every train chain (released before 2020-01-01) ≥ ``min_length`` nt; its decoys
are the candidates ``fold`` would assemble from its ViennaRNA MFE (a pool of ``structures``
sampled structures × ``alternatives`` library alternatives, seeded as ``fold`` seeds the record),
with a motif library built without the chain's fold of sequence families
(:func:`rnapredict.data.families.families`, families dealt to ``folds`` folds), so a
chain never assembles from its own relatives. A second decoy set per chain (issue 24: the
score must rank what the search changes) holds arrangements of its MFE structure alone
(:func:`arrangement_pool`: ``sampled`` plain assemblies with random per-loop library choices,
``searched`` annealing states with coaxial-stacking variants under the score shipped at build
time, or the file ``--search-weights`` names, whose sha256 the meta records). Label: C1′ TM-score to the native. The fit is a ridge
regression of the within-set normal scores of the TM ranks (:func:`normal_scores`) on
within-set centred, globally standardised features, each decoy set a target of its own. Same
data (and shipped score) → same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnapredict.assets import default_weights_dir
from rnapredict.data import default_data_dir
from rnapredict.data.split import TRAIN_BEFORE
from rnapredict.geometry.candidate import Candidate
from rnapredict.prior.cgscore import (
    CGSCORE_FILE,
    MANIFEST_KEY,
    CgFeatureConfig,
    CgScore,
    features,
)
from rnapredict.train.secondary import TRAIN_VIENNA


@dataclass(frozen=True)
class CgFitConfig:
    """Training-set and fit settings.

    Attributes:
        min_length: train chains at least this long (nt) give decoys.
        structures: secondary structures sampled per chain (MFE first).
        alternatives: library alternatives assembled per structure.
        folds: family folds; a chain's decoys use a library without its fold.
        ridge: L2 weight per sample on standardised features.
        target: within-target label of TM the fit regresses on (:data:`TARGETS`).
        seed: run seed the decoys are drawn with (as ``fold --seed``).
        sampled, searched: arrangements of the chain's MFE structure added as a second decoy
            set (:func:`arrangement_pool`; 0 and 0: plain assembly decoys only).
        contacts: fit with the tertiary-contact features (:mod:`rnapredict.prior.contacts`).
    """

    min_length: int = 50
    structures: int = 16
    alternatives: int = 2
    folds: int = 5
    ridge: float = 1.0
    target: str = "rank"
    seed: int = 0
    sampled: int = 48
    searched: int = 16
    contacts: bool = False


DEFAULT_FIT = CgFitConfig()


def candidate_pool(
    seq: str, ss: str, record_id: str, structures: int, alternatives: int, library: object,
    seed: int = 0,
) -> list[Candidate]:  # fmt: skip
    """Unselected assembly candidates of one record, seeded as ``fold`` seeds it.

    The first structures are those :func:`rnapredict.prior.assembly.assembly_candidates`
    samples (same seed and order), so its pool is a prefix of this one.
    """
    from rnapredict.pipeline.api import record_generators
    from rnapredict.prior.assembly import assemble
    from rnapredict.prior.ensemble import sample_structures

    _, _, prior_gen = record_generators(seed, record_id)
    draw = int(torch.randint(0, 2**31 - 1, (1,), generator=prior_gen))
    pool: list[Candidate] = []
    for r, one in enumerate(sample_structures(seq, ss, structures, draw, vienna=TRAIN_VIENNA)):
        source = "vienna" if r == 0 else "vienna-sample"
        pool += assemble(seq, one, prior_gen, alternatives, library, source)
    return pool


def arrangement_pool(
    seq: str, ss: str, record_id: str, library: object, sampled: int, searched: int,
    seed: int = 0, learned: CgScore | None = None,
) -> list[Candidate]:  # fmt: skip
    """Arrangements of ONE structure ``ss``: what the search changes, the score must rank.

    ``sampled`` plain assemblies (per-loop library choices drawn by match score, steric
    resampling; :func:`rnapredict.prior.assembly.assemble` without search) and up to
    ``searched`` annealing states (:mod:`rnapredict.prior.search`: library choices and
    coaxial-stacking variants under ``learned``, default the shipped score), seeded from the
    record as ``fold`` seeds it. Identical choices are dropped, so the pool may be smaller.
    """
    from rnapredict.pipeline.api import record_generators
    from rnapredict.prior.assembly import assemble
    from rnapredict.prior.search import DEFAULT_SEARCH

    _, _, gen = record_generators(seed, record_id)
    pool = assemble(seq, ss, gen, sampled, library, "vienna") if sampled else []
    if searched:
        pool += assemble(seq, ss, gen, searched, library, "vienna-search", DEFAULT_SEARCH, learned)
    return pool


def tm_to(coords: np.ndarray, native: np.ndarray) -> np.ndarray:
    """[S] C1′ TM-score (native length, residues by index) of [S, L, 3] against [L, 3]."""
    from rnapredict.score.tmscore import tm_fixed_alignment

    k = np.arange(len(native))
    pairs = np.stack([k, k], 1)
    return np.array([tm_fixed_alignment(x, native, pairs).tm_ref for x in coords])


def zscore(v: np.ndarray) -> np.ndarray:
    """(v − mean) / std of a 1-D array (zeros when constant)."""
    s = v.std()
    return (v - v.mean()) / s if s > 0 else np.zeros_like(v)


def normal_scores(v: np.ndarray) -> np.ndarray:
    """Within-set ranks of a 1-D array mapped to standard-normal quantiles, Φ⁻¹((r − ½) / S)
    (ties share their mean rank; zeros when constant): a target that weighs a set by its
    order, not by its TM spread."""
    from scipy.stats import norm, rankdata

    if np.ptp(v) == 0:
        return np.zeros(len(v))
    return norm.ppf((rankdata(v) - 0.5) / len(v))


#: Per-target labels :func:`fit_weights` regresses on.
TARGETS = {"z": zscore, "rank": normal_scores}


def fit_weights(
    sets: list[tuple[np.ndarray, np.ndarray]], ridge: float, target: str = "rank"
) -> np.ndarray:
    """[F] weights from per-target (features [S, F], TM [S]) by ridge regression of the
    within-target label of TM (``target``: ``rank`` normal scores, or ``z`` z-scores) on
    centred features (columns standardised; weights returned in raw feature units)."""
    xs = np.concatenate([f - f.mean(0) for f, _ in sets])
    ys = np.concatenate([TARGETS[target](t) for _, t in sets])
    sd = xs.std(0) + 1e-6
    z = xs / sd
    w = np.linalg.solve(z.T @ z + ridge * len(z) * np.eye(z.shape[1]), z.T @ ys)
    return w / sd


def fold_of_families(ids: list[str], seqs: list[str], folds: int) -> dict[str, int]:
    """Fold per chain id: sequence families dealt round-robin in order of their first id."""
    from rnapredict.data.families import families

    fam = families(ids, seqs)
    order: dict[frozenset[str], int] = {}
    for cid in sorted(ids):
        order.setdefault(fam[cid], len(order))
    return {cid: order[fam[cid]] % folds for cid in ids}


def training_sets(
    chains: list,
    cfg: CgFitConfig = DEFAULT_FIT,
    progress: Callable[[str], None] | None = None,
    feat: CgFeatureConfig | None = None,
    learned: CgScore | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per train chain ≥ ``min_length`` nt: (features [S, F], TM [S]) of its decoys, then
    (``sampled`` / ``searched``) of its MFE structure's arrangements, a target of their own.

    ``chains``: the train :class:`rnapredict.prior.natives.NativeChain` s (decoy targets and
    the motif library's source; :func:`build` reads them from the data directory); ``feat``:
    the features (default: ``CgFeatureConfig(contacts=cfg.contacts)``); ``learned``: the
    score the ``searched`` arrangements anneal under (None: the shipped one)."""
    from rnapredict.features.secondary import predict_ss
    from rnapredict.prior.library import from_chains

    feat = CgFeatureConfig(contacts=cfg.contacts) if feat is None else feat
    fold = fold_of_families([c.id for c in chains], [c.seq for c in chains], cfg.folds)
    out = []
    for f in range(cfg.folds):
        targets = [c for c in chains if fold[c.id] == f and len(c.seq) >= cfg.min_length]
        if not targets:
            continue
        library = from_chains(chains, {c.id for c in chains if fold[c.id] == f})
        for c in targets:
            mfe = predict_ss(c.seq, config=TRAIN_VIENNA)
            pools = [candidate_pool(
                c.seq, mfe, c.id, cfg.structures, cfg.alternatives, library, cfg.seed
            )]  # fmt: skip
            if cfg.sampled or cfg.searched:
                pools.append(
                    arrangement_pool(
                        c.seq, mfe, c.id, library, cfg.sampled, cfg.searched, cfg.seed, learned
                    )
                )
            for pool in pools:
                x = np.stack([p.coords for p in pool])
                f_x = features(c.seq, x, [p.ss for p in pool], feat)
                out.append((f_x, tm_to(x, c.coords)))
            if progress is not None:
                progress(f"fold {f} {c.id} L={len(c.seq)} decoys={[len(p) for p in pools]}")
    return out


def search_score(path: Path | None) -> tuple[CgScore | None, bytes | None]:
    """The score the search decoys anneal under and its file's bytes: the file ``path``, or
    (None) the shipped one, verified against the manifest (None, None when none is shipped)."""
    from rnapredict.assets import read_asset

    if path is None:
        found = read_asset(default_weights_dir(), MANIFEST_KEY)
        return (None, None) if found is None else (None, found[1])
    data = path.read_bytes()
    return CgScore.from_bytes(data, str(path)), data


def searched_with_note(data: bytes, shipped: CgScore | None) -> str:
    """Whether the score file ``data`` is the one ``shipped``'s search decoys were annealed
    under (its meta ``searched_with_sha256``): a rebuild under it can reproduce the file."""
    digest = hashlib.sha256(data).hexdigest()
    want = dict(shipped.meta).get("searched_with_sha256") if shipped is not None else None
    if want is None:
        return f"search weights sha256 {digest}; the shipped score names no searched_with_sha256"
    if digest == want:
        return f"search weights sha256 {digest} match the shipped score's searched_with_sha256"
    return (
        f"search weights sha256 {digest} differ from the shipped score's searched_with_sha256 "
        f"{want}: this build will not reproduce the shipped file"
    )


def build(
    data: Path | list,
    cfg: CgFitConfig = DEFAULT_FIT,
    progress: Callable[[str], None] | None = None,
    search_weights: Path | None = None,
) -> CgScore:
    """The fitted score of the train chains of the data directory ``data`` (or of the given
    chains); meta records the training set and settings. The ``searched`` decoys anneal under
    the score file ``search_weights`` (None: the shipped score); meta records its sha256."""
    from rnapredict.prior.natives import load_native_chains

    learned, searched_with = search_score(search_weights) if cfg.searched else (None, None)
    chains = load_native_chains(data, ("train",)) if isinstance(data, Path) else data
    config = CgFeatureConfig(contacts=cfg.contacts)
    sets = training_sets(chains, cfg, progress, config, learned)
    meta = {
        "fit": json.dumps(cfg.__dict__, sort_keys=True),
        "n_targets": str(len(sets)),
        "n_decoys": str(sum(len(t) for _, t in sets)),
        "train_before": TRAIN_BEFORE,
    }
    if searched_with is not None:  # the score the search decoys were annealed under
        meta["searched_with_sha256"] = hashlib.sha256(searched_with).hexdigest()
    return CgScore(fit_weights(sets, cfg.ridge, cfg.target), config, tuple(sorted(meta.items())))


def main(argv: list[str] | None = None) -> int:
    from rnapredict.io.atomic import atomic_write_bytes

    p = argparse.ArgumentParser(prog="python -m rnapredict.train.cgscore")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="fit the coarse-grained score on train-split decoys")
    b.add_argument("--data", type=Path, default=default_data_dir())
    b.add_argument("-o", "--out", type=Path, default=default_weights_dir() / CGSCORE_FILE)
    b.add_argument("--overwrite", action="store_true")
    b.add_argument("--manifest", action="store_true", help="record it in OUT's manifest.json")
    b.add_argument(
        "--search-weights",
        type=Path,
        default=None,
        help="score file the search decoys anneal under (default: the shipped score); pass the "
        "file the shipped score's meta searched_with_sha256 names to rebuild it reproducibly",
    )
    a = p.parse_args(argv)
    if a.search_weights is not None:
        from rnapredict.prior.cgscore import default_cgscore

        _, given = search_score(a.search_weights)
        print(searched_with_note(given, default_cgscore()), flush=True)
    score = build(a.data, progress=lambda s: print(s, flush=True), search_weights=a.search_weights)
    data = score.to_bytes()
    atomic_write_bytes(a.out, data, overwrite=a.overwrite)
    digest = hashlib.sha256(data).hexdigest()
    if a.manifest:
        from rnapredict.assets import record_asset

        record_asset(
            a.out,
            MANIFEST_KEY,
            train_before=TRAIN_BEFORE,
            built_by="python -m rnapredict.train.cgscore build --manifest",
        )
    print(f"{a.out}: {dict(score.meta)['n_targets']} targets; sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
