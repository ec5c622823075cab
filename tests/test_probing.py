"""Probing soft constraints: MFE and Boltzmann sampling move toward the data, the evidence
weight, DMS base filter, agreement scores, F1 on PDB structures, and fold's confidence.json."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import RNA

from bench import probing as bench
from rnapredict.engine import tiny_engine
from rnapredict.features.probing import (
    ProbingConfig,
    agreement,
    soft_constraint,
    used_values,
)
from rnapredict.features.secondary import predict_ss
from rnapredict.features.vienna import ViennaConfig, mfe_structure
from rnapredict.fold.options import FoldRunOptions
from rnapredict.fold.runner import fold_inputs
from rnapredict.io.probing import Reactivities, shape_text
from rnapredict.io.secondary import parse_dot_bracket
from tests.conftest import shared_path

TRNA = "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGGAGGUCCUGUGUUCGAUCCACAGAAUUCGCACCA"
TRNA_SS = "(((((((..((((........)))).(((((.......))))).....(((((.......))))))))))))...."
#: A suboptimal fold of TRNA (−19.7 vs −21.6 kcal/mol) sharing no pair with the cloverleaf.
ALT = ".(((((((...((((((.((......)).)))))))))))))..(((..((.((((........)))).)).)))."
FULL = ProbingConfig(gate=False)


def _ideal(ss: str, kind: str = "shape") -> Reactivities:
    """Noise-free profile: 1.0 unpaired, 0.05 paired."""
    return Reactivities(kind, tuple(0.05 if j >= 0 else 1.0 for j in parse_dot_bracket(ss)))


def _energy(seq: str, ss: str, constraint=None) -> float:
    fc = RNA.fold_compound(seq)
    if constraint is not None:
        constraint(fc)
    return fc.eval_structure(ss)


def test_mfe_moves_to_the_structure_the_data_describe():
    assert predict_ss(TRNA) == TRNA_SS
    assert bench.pair_f1(ALT, TRNA_SS) == 0.0
    t04 = ViennaConfig(energy_params="turner2004")  # the set ALT's energies were taken with
    assert predict_ss(TRNA, soft_constraint(_ideal(ALT)), t04) == ALT
    assert predict_ss(TRNA, soft_constraint(_ideal(ALT, "dms")), t04) == ALT
    # the default parameters (Langdon 2018 at 76 nt) follow the data as far
    assert predict_ss(TRNA, soft_constraint(_ideal(ALT))) == ALT
    assert bench.pair_f1(predict_ss(TRNA, soft_constraint(_ideal(ALT, "dms"))), ALT) > 0.9


def test_all_missing_or_uninformative_data_change_nothing():
    seq = TRNA
    ss = predict_ss(seq)
    none = Reactivities("shape", (None,) * len(seq))
    assert _energy(seq, ss, soft_constraint(none, FULL)) == pytest.approx(_energy(seq, ss))
    # a flat profile carries no evidence: weight 0, the plain MFE
    flat = soft_constraint(Reactivities("shape", (0.4,) * len(seq)))
    assert flat.weight(seq) == 0.0 and predict_ss(seq, flat) == ss


@pytest.mark.parametrize("kind", ["shape", "dms"])
def test_pseudo_energies_scale_linearly_with_the_weight(kind, monkeypatch):
    data = _ideal(TRNA_SS, kind)
    c = soft_constraint(data, ProbingConfig())
    base = _energy(TRNA, TRNA_SS)
    monkeypatch.setattr(type(c), "weight", lambda self, seq: 1.0)
    full = _energy(TRNA, TRNA_SS, c) - base
    monkeypatch.setattr(type(c), "weight", lambda self, seq: 0.5)
    half = _energy(TRNA, TRNA_SS, c) - base
    assert abs(full) > 1.0  # kcal/mol: the data matter
    # ViennaRNA keeps per-nucleotide pseudo-energies in integer dcal/mol: rounding only
    assert half == pytest.approx(0.5 * full, rel=0.03)


def test_dms_reads_a_and_c_only():
    rng = np.random.default_rng(0)
    a = np.array([0.05 if j >= 0 else 1.0 for j in parse_dot_bracket(TRNA_SS)])
    b = a.copy()
    gu = np.array([c in "GU" for c in TRNA])
    b[gu] = rng.uniform(0, 3, gu.sum())  # G/U values are ignored
    ca = soft_constraint(Reactivities("dms", tuple(a)), FULL)
    cb = soft_constraint(Reactivities("dms", tuple(b)), FULL)
    assert _energy(TRNA, TRNA_SS, ca) == pytest.approx(_energy(TRNA, TRNA_SS, cb))
    assert np.isnan(used_values(Reactivities("dms", tuple(a)), TRNA)[gu]).all()


def test_sampling_with_the_constraint_shifts_toward_the_data():
    """The ensemble interface: apply, mfe, exp_params_rescale, pf, pbacktrack."""
    rng = np.random.default_rng(1)
    data = bench.simulate(ALT, TRNA, "shape", rng)
    # noisy data for a fold the ensemble disfavours: the evidence weight would damp them (w≈0.2)
    constraint = soft_constraint(data, FULL)

    def sample(c) -> list[str]:
        RNA.cvar.uniq_ML = 1
        RNA.init_rand(7)
        fc = RNA.fold_compound(TRNA)
        if c is not None:
            c(fc)
        _ss, mfe = fc.mfe()
        fc.exp_params_rescale(mfe)
        fc.pf()
        return list(fc.pbacktrack(200))

    plain = np.mean([bench.pair_f1(s, ALT) for s in sample(None)])
    guided = np.mean([bench.pair_f1(s, ALT) for s in sample(constraint)])
    assert guided > plain + 0.1  # 0.17 → 0.33 mean F1 to the fold the data describe


def test_windowed_mfe_honours_the_constraint():
    seq = TRNA + "A" * 10 + TRNA
    ss = ALT + "." * 10 + ALT
    cfg = ViennaConfig(global_max_len=50, max_bp_span=80)
    guided = mfe_structure(seq, cfg, constraint=soft_constraint(_ideal(ss), FULL))
    assert bench.pair_f1(guided, ss) > bench.pair_f1(mfe_structure(seq, cfg), ss) + 0.2


def test_agreement_golden():
    got = agreement(np.array([0.0, 1.0, np.nan, 0.2, 0.6]), np.array([1, 0, 0, 1, 0], bool))
    assert got == {
        "mean_paired": 0.1,
        "mean_unpaired": 0.8,
        "n_paired": 2,
        "n_unpaired": 2,
        "auc": 1.0,
    }
    ties = agreement(np.array([0.5, 0.5]), np.array([1, 0], bool))
    assert ties["auc"] == 0.5
    assert agreement(np.array([0.5, np.nan]), np.array([1, 0], bool))["auc"] is None


@pytest.mark.shared
@pytest.mark.slow
def test_f1_rises_with_data_and_shuffled_data_do_not_hurt():
    """A short version of bench/probing.py (every 5th chain of 20–400 nt, fixed seed; 71
    chains: 0.717 → 0.792 with data, 0.717 shuffled, 0.603 shuffled without the weight)."""
    csv = shared_path("data", "secondary", "pdb_dot_bracket.csv")
    chains = bench.load_chains(csv, 20, 400)[::5]
    res = bench.run(chains, kinds=("shape",), seed=0)
    base = np.mean(res["no data"])
    assert np.mean(res["shape"]) > base + 0.04
    assert np.mean(res["shape shuffled"]) > base - 0.02
    # without the evidence weight shuffled data hurt: the weight is what protects
    assert np.mean(res["shape no gate shuffled"]) < base - 0.05


def test_fold_writes_probing_block(tmp_path):
    fa = tmp_path / "in.fa"
    fa.write_text(f">trna\n{TRNA}\n>other\nGGGAAACCC\n")
    missing = {3, 10, 40}
    values = [None if i + 1 in missing else v for i, v in enumerate(_ideal(ALT).values)]
    sh = tmp_path / "d.shape"
    sh.write_text(">trna\n" + shape_text(values))
    opts = FoldRunOptions(n_samples=2, steps=3, fmt="cif", shape_file=sh, summary_interval=0.0)
    result = fold_inputs([fa], tmp_path / "out", opts, engine=tiny_engine(0))
    assert result.exit_code == 0
    doc = json.loads((tmp_path / "out" / "trna" / "confidence.json").read_text())
    p = doc["probing"]
    assert doc["secondary_structure"] == {
        "dot_bracket": ALT,
        "source": "vienna",
        "energy_params": "langdon2018",  # `auto` at 76 nt
    }
    assert p["kind"] == "shape" and p["guided"] and p["method"] == "deigan2009"
    assert p["weight"] == 1.0 and p["n_measured"] == len(TRNA) - 3
    assert [i + 1 for i, v in enumerate(p["reactivities"]) if v is None] == sorted(missing)
    assert p["agreement"]["auc"] == 1.0 and p["agreement"]["mean_paired"] == 0.05
    assert all("probing_agreement" in m for m in doc["models"])
    assert doc["settings"]["probing"] == {
        "kind": "shape",
        "method": "deigan2009",
        "slope": 1.8,
        "intercept": -0.6,
        "weighting": "evidence",
    }
    other = json.loads((tmp_path / "out" / "other" / "confidence.json").read_text())
    assert "probing" not in other and other["secondary_structure"]["source"] == "vienna"


def test_shape_and_dms_exclude_each_other(tmp_path):
    with pytest.raises(Exception, match="exclude each other"):
        FoldRunOptions(shape_file=tmp_path / "a", dms_file=tmp_path / "b")
    cfg = replace(FoldRunOptions(), shape_slope=2.6, probing_weight=False).probing_config()
    assert cfg.shape_slope == 2.6 and not cfg.gate
