"""Secondary-structure ensemble (rnapredict.prior.ensemble) and assembly_candidates."""

from __future__ import annotations

import random

import numpy as np
import pytest
import RNA
import torch

from rnapredict.engine import tiny_engine
from rnapredict.features.secondary import partner_array, predict_ss
from rnapredict.io.records import Record
from rnapredict.pipeline.api import FoldOptions
from rnapredict.prior.assembly import assembly_candidates
from rnapredict.prior.ensemble import EnsembleConfig, bp_distance, sample_structures

CANONICAL = {"AU", "UA", "GC", "CG", "GU", "UG"}


def _random_seq(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGU") for _ in range(n))


SEQ = _random_seq(120, 1)
REF = predict_ss(SEQ)


def _pairs(ss: str) -> list[tuple[int, int]]:
    p = partner_array(ss)
    return [(i, int(j)) for i, j in enumerate(p) if j > i]


def test_same_seed_same_structures_other_seed_differs() -> None:
    a = sample_structures(SEQ, REF, 5, seed=11)
    assert a == sample_structures(SEQ, REF, 5, seed=11)
    assert a != sample_structures(SEQ, REF, 5, seed=12)


def test_samples_are_valid_distinct_canonical_and_reference_first() -> None:
    cfg = EnsembleConfig()
    out = sample_structures(SEQ, REF, 6, seed=3, config=cfg)
    assert len(out) == 6 and out[0] == REF
    assert len(set(out)) == len(out)
    for s in out:
        assert len(s) == len(SEQ) and set(s) <= set("().")
        assert all(SEQ[i] + SEQ[j] in CANONICAL for i, j in _pairs(s))
    # a 120-nt random sequence has plenty of alternatives: the diversity threshold holds
    assert all(bp_distance(a, b) >= cfg.min_bp_distance for k, a in enumerate(out) for b in out[:k])


def test_bp_distance_counts_pairs_in_one_structure_only() -> None:
    assert bp_distance("((..))", "((..))") == 0
    assert bp_distance("((..))", "(....)") == 1
    assert bp_distance("((..))", "......") == 2
    assert bp_distance("(....)", ".(..).") == 2


@pytest.mark.parametrize("seq", ["A", "GC", "AAAAAAAAAAAAAAAAAAAA"])
def test_tiny_and_unpairable_inputs_return_the_reference(seq: str) -> None:
    ref = predict_ss(seq)
    out = sample_structures(seq, ref, 5, seed=0)
    assert out[0] == ref and all(len(s) == len(seq) for s in out)
    assert len(set(out)) == len(out)


def test_constraint_callable_reaches_the_sampler() -> None:
    """A hard constraint (positions 10–30 unpaired) holds in every sampled structure."""

    def constrain(fc: RNA.fold_compound) -> None:
        for i in range(11, 32):  # 1-based
            fc.hc_add_up(i)

    out = sample_structures(SEQ, REF, 5, seed=2, constrain=constrain)
    assert len(out) > 1
    for s in out[1:]:
        assert set(s[10:31]) == {"."}


@pytest.mark.slow
def test_long_sequence_takes_the_domain_path() -> None:
    """4,000 nt: domains resampled independently; same seed → same structures."""
    seq = _random_seq(4000, 5)
    ref = "".join(RNA.fold(seq[k : k + 100])[0] for k in range(0, 4000, 100))
    out = sample_structures(seq, ref, 5, seed=1)
    assert len(out) == 5 and out[0] == ref and len(set(out)) == 5
    assert all(len(s) == 4000 for s in out)
    for s in out:
        partner_array(s)  # balanced
    cands = assembly_candidates(seq, ref, "vienna", 5, torch.Generator().manual_seed(0))
    assert 1 <= len(cands) <= 5 and cands[0].ss == ref


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_given_structure_is_used_by_every_candidate() -> None:
    given = sample_structures(SEQ, REF, 2, seed=0)[1]  # any valid structure but the MFE
    cands = assembly_candidates(SEQ, given, "input", 5, _gen())
    assert cands and all(c.ss == given for c in cands)
    assert all(c.info["ss_source"] == "input" for c in cands)


def test_candidates_same_seed_same_bytes_first_on_own_structure() -> None:
    a = assembly_candidates(SEQ, REF, "vienna", 5, _gen(4))
    b = assembly_candidates(SEQ, REF, "vienna", 5, _gen(4))
    assert [c.ss for c in a] == [c.ss for c in b]
    assert all(x.coords.tobytes() == y.coords.tobytes() for x, y in zip(a, b, strict=True))
    assert a[0].ss == REF and a[0].info["ss_source"] == "vienna"
    # good *and* different: several structures, and no two candidates the same layout
    assert len(a) == 5 and len({c.ss for c in a}) >= 3
    assert len({(c.ss, c.coords.tobytes()) for c in a}) == 5
    assert all(c.info["ss_source"] in ("vienna", "vienna-sample") for c in a)
    assert all(c.info["ss_source"] == "vienna-sample" for c in a if c.ss != REF)


@pytest.mark.parametrize("seq", ["A", "GC", "AAAAAAAAAAAA"])
def test_candidates_for_tiny_and_unpaired_inputs(seq: str) -> None:
    ss = predict_ss(seq)
    cands = assembly_candidates(seq, ss, "vienna", 5, _gen())
    assert len(cands) >= 1 and cands[0].ss == ss
    assert all(np.isfinite(c.coords).all() and c.coords.shape == (len(seq), 3) for c in cands)


@pytest.mark.slow
def test_engine_with_assembly_prior_records_each_models_structure() -> None:
    engine = tiny_engine(0)
    seq = SEQ[:40]
    opts = FoldOptions(n_samples=3, steps=2, prior="assembly")
    given = predict_ss(seq)
    p = engine.predict(Record("given", seq, ss=given), opts)
    assert p.model_ss == [given] * 3
    q1 = engine.predict(Record("mfe", seq, ss=None), opts)
    q2 = engine.predict(Record("mfe", seq, ss=None), opts)
    assert given in q1.model_ss and len(set(q1.model_ss)) > 1
    assert q1.extra["c1"].tobytes() == q2.extra["c1"].tobytes()


def test_n_residues_stay_unpaired_in_samples() -> None:
    seq = "GGGGAAACCCCNNNNGGCGCAAAGCGCCNNAUAUAUGGGAAACCC"
    out = sample_structures(seq, predict_ss(seq), 5, seed=0)
    assert len(out) > 1
    for s in out:
        assert all(s[i] == "." for i, c in enumerate(seq) if c == "N")
