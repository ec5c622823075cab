"""ViennaRNA energy parameter sets (``ViennaConfig.energy_params``, ``fold --energy-params``):
known MFE energies of a tRNA per set, the process-global parameters restored after every call,
the same structures in spawned worker processes, the choice reaching samples, cache keys and
the CLI."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import RNA

from rnapredict.data.sscache import SSCache, cache_key
from rnapredict.features.secondary import predict_ss
from rnapredict.features.vienna import (
    DEFAULT_CONFIG,
    ENERGY_PARAMS,
    ViennaConfig,
    energy_parameters,
    mfe_structure,
    pair_probabilities,
    resolve_energy_params,
)
from rnapredict.io.secondary import parse_dot_bracket
from rnapredict.prior.ensemble import sample_structures

TRNA = "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGGAGGUCCUGUGUUCGAUCCACAGAAUUCGCACCA"
CLOVERLEAF = "(((((((..((((........)))).(((((.......))))).....(((((.......))))))))))))...."
#: tRNA-Phe MFE per parameter set (RNAfold 2.8 -P <set>): structure, free energy (kcal/mol).
TRNA_MFE = {
    "turner2004": (CLOVERLEAF, -22.40),
    "turner1999": (
        "((((((.....((((((.((......)).))))))...((((..((((........))))..))))))))))....",
        -23.80,
    ),
    "andronescu2007": (CLOVERLEAF, -21.65),
    "langdon2018": (CLOVERLEAF, -24.70),
}


def cfg(name: str, **kw: object) -> ViennaConfig:
    return replace(DEFAULT_CONFIG, energy_params=name, **kw)


def energy(seq: str, ss: str, params: str) -> float:
    with energy_parameters(params):
        fc = RNA.fold_compound(seq)
    return round(fc.eval_structure(ss), 2)


def global_mfe_energy(seq: str) -> float:
    """MFE energy under whatever parameters ViennaRNA has loaded process-wide now."""
    return round(RNA.fold_compound(seq).mfe()[1], 2)


@pytest.mark.parametrize("name", list(ENERGY_PARAMS))
def test_each_set_gives_the_known_trna_mfe_and_energy(name: str) -> None:
    ss = mfe_structure(TRNA, cfg(name))
    want_ss, want_e = TRNA_MFE[name]
    assert ss == want_ss
    assert energy(TRNA, ss, name) == pytest.approx(want_e, abs=0.011)


def test_global_parameters_are_restored_after_every_call() -> None:
    assert global_mfe_energy(TRNA) == pytest.approx(-22.40, abs=0.011)  # Turner 2004 loaded
    mfe_structure(TRNA, cfg("langdon2018"))
    sample_structures(TRNA, CLOVERLEAF, 3, seed=0, vienna=cfg("turner1999"))
    pair_probabilities(TRNA, config=cfg("andronescu2007", probability_params="langdon2018"))
    assert global_mfe_energy(TRNA) == pytest.approx(-22.40, abs=0.011)
    # a set the caller loaded itself stays loaded, also when folding fails inside
    RNA.params_load_RNA_Turner1999()
    try:
        assert mfe_structure(TRNA, cfg("langdon2018")) == CLOVERLEAF
        with pytest.raises(RuntimeError), energy_parameters("langdon2018"):
            raise RuntimeError("boom")
        assert global_mfe_energy(TRNA) == pytest.approx(-23.80, abs=0.011)
        # "turner2004" means Turner 2004 whatever the process has loaded
        assert mfe_structure(TRNA, cfg("turner2004")) == CLOVERLEAF
    finally:
        RNA.params_load_RNA_Turner2004()


def test_auto_picks_the_set_by_length_and_unknown_sets_are_refused() -> None:
    auto = cfg("auto", auto_max_len=100, auto_short="langdon2018", auto_long="turner1999")
    assert resolve_energy_params(100, auto) == "langdon2018"
    assert resolve_energy_params(101, auto) == "turner1999"
    assert resolve_energy_params(1000, cfg("andronescu2007")) == "andronescu2007"
    assert mfe_structure(TRNA, replace(auto, auto_max_len=70)) == TRNA_MFE["turner1999"][0]
    for bad in ({"energy_params": "turner2099"}, {"auto_long": "auto"}):
        with pytest.raises(ValueError, match="expected one of"):
            replace(DEFAULT_CONFIG, **bad)
    with pytest.raises(ValueError, match="turner2099"), energy_parameters("turner2099"):
        pass


def test_span_limit_applies_to_long_global_folds_only() -> None:
    seq = (TRNA * 3)[:200]
    limited = mfe_structure(seq, cfg("turner2004", global_max_bp_span=40))
    p = parse_dot_bracket(limited)
    assert max(int(j) - i for i, j in enumerate(p) if j > i) <= 40
    assert limited != mfe_structure(seq, cfg("turner2004"))
    short = cfg("turner2004", global_max_bp_span=10)  # the tRNA is under span_min_len
    assert mfe_structure(TRNA, short) == CLOVERLEAF


def test_pair_probabilities_keep_turner2004_unless_asked() -> None:
    base = pair_probabilities(TRNA)
    assert pair_probabilities(TRNA, config=cfg("turner1999")) == base
    other = pair_probabilities(TRNA, config=cfg("turner2004", probability_params="turner1999"))
    assert other != base


def test_samples_match_a_process_with_that_set_loaded() -> None:
    """The partition function (whose Boltzmann factors ViennaRNA builds at ``pf`` time, not at
    fold-compound creation) is the chosen set's: the same samples as with Turner 1999 loaded
    process-wide, on the global and on the long (per-domain) path."""
    long_seq = (TRNA * 5)[:340]
    long_ref = mfe_structure(long_seq, cfg("turner1999"))
    jobs = [(TRNA, TRNA_MFE["turner1999"][0]), (long_seq, long_ref)]
    got = [sample_structures(s, r, 8, seed=3, vienna=cfg("turner1999")) for s, r in jobs]
    RNA.params_load_RNA_Turner1999()
    try:
        want = [sample_structures(s, r, 8, seed=3, vienna=cfg("turner1999")) for s, r in jobs]
    finally:
        RNA.params_load_RNA_Turner2004()
    assert got == want
    assert got[0] != sample_structures(
        TRNA, TRNA_MFE["turner1999"][0], 8, 3, vienna=cfg("turner2004")
    )


def _samples(name: str) -> list[str]:
    return sample_structures(TRNA, TRNA_MFE[name][0], 6, seed=3, vienna=cfg(name))


def test_samples_follow_the_set_same_seed_same_structures_in_spawned_workers() -> None:
    t99, t04 = _samples("turner1999"), _samples("turner2004")
    assert t99[0] == TRNA_MFE["turner1999"][0] and len(t99) == 6
    assert t99 != t04
    ctx = multiprocessing.get_context("spawn")  # what fold --jobs uses: a fresh interpreter
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        assert list(pool.map(_samples, ["turner1999", "turner2004"])) == [t99, t04]


def test_cache_key_names_the_parameters_and_old_keys_serve_turner2004_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ss.json"
    stale = "." * len(TRNA)  # a bare-key entry of an old cache (Turner 2004 by then)
    path.write_text(json.dumps({TRNA: stale}))
    assert SSCache(path, cfg("turner2004"))(TRNA) == stale
    t99 = SSCache(path, cfg("turner1999"))
    assert t99(TRNA) == TRNA_MFE["turner1999"][0] == predict_ss(TRNA, config=cfg("turner1999"))
    t99.save()
    keys = set(json.loads(path.read_text()))
    assert keys == {TRNA, f"turner1999:{TRNA}"}
    assert cache_key(TRNA, cfg("auto", auto_max_len=70)) == f"turner1999:{TRNA}"
    long_seq = (TRNA * 3)[:200]
    assert cache_key(long_seq, cfg("turner2004", global_max_bp_span=150)).startswith(
        "turner2004/span150:"
    )


@pytest.mark.slow
def test_cli_fold_energy_params_reach_the_structure_and_the_record(tmp_path: Path) -> None:
    """``rnapredict fold --energy-params turner1999`` folds the tRNA on Turner 1999's MFE and
    says so in confidence.json; an unknown set is a usage error (exit 2) before folding."""
    from rnapredict.engine import tiny_engine
    from rnapredict.engine.weights import write_weights

    net = tiny_engine(seed=0).net
    wdir = tmp_path / "tiny-weights"
    write_weights(wdir, net.state_dict(), net.cfg, {"model_version": "tiny-test"})
    fa = tmp_path / "trna.fa"
    fa.write_text(f">trna\n{TRNA}\n")
    base = [sys.executable, "-m", "rnapredict", "fold", str(fa), "-n", "1", "--steps", "2"]
    base += ["--weights", str(wdir), "--templates", "none", "-q"]
    out = tmp_path / "out"
    proc = subprocess.run(
        [*base, "-o", str(out), "--energy-params", "turner1999"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((out / "trna" / "confidence.json").read_text())
    assert doc["secondary_structure"]["dot_bracket"] == TRNA_MFE["turner1999"][0]
    assert doc["settings"]["energy_params"] == "turner1999"
    assert doc["secondary_structure"]["energy_params"] == "turner1999"
    proc = subprocess.run([*base, "-o", str(tmp_path / "auto")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((tmp_path / "auto" / "trna" / "confidence.json").read_text())
    assert doc["settings"]["energy_params"] == "auto"  # the run's choice; the record's set:
    assert doc["secondary_structure"]["energy_params"] == "langdon2018"  # 76 nt ≤ 120
    assert doc["secondary_structure"]["dot_bracket"] == TRNA_MFE["langdon2018"][0]
    proc = subprocess.run(
        [*base, "-o", str(tmp_path / "bad"), "--energy-params", "turner2099"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2 and "turner2099" in proc.stderr
    assert not (tmp_path / "bad" / "trna").exists()


def test_training_loaders_keep_the_turner_2004_structures_the_weights_saw(
    shared_data: Path,
) -> None:
    """The shipped weights were trained on Turner 2004 MFEs: ``train.data`` still folds
    validation chains with them (not the ``auto`` default), so a rebuild reproduces them."""
    from rnapredict.train.data import load_allatom_chains
    from rnapredict.train.secondary import TRAIN_VIENNA

    chains = [c for c in load_allatom_chains(shared_data, "validation") if c.ss_source == "vienna"]
    assert chains
    turner = [mfe_structure(c.seq, cfg("turner2004")) for c in chains]
    assert [c.ss for c in chains] == turner
    assert TRAIN_VIENNA == cfg("turner2004")
    assert any(mfe_structure(c.seq) != t for c, t in zip(chains, turner, strict=True))


def test_energy_rule_names_every_length_rule() -> None:
    """The recorded rule changes whenever what a name folds with changes (``--resume`` compares it)."""
    from rnapredict.features.vienna import ViennaConfig, energy_rule, resolve_energy_params

    auto = ViennaConfig()
    rule = energy_rule(auto)
    for length in (50, 120, 121, 300, 301, 2000):  # every length's resolved set is named
        assert resolve_energy_params(length, auto) in rule
    assert energy_rule(ViennaConfig(auto_consensus_len=None)) == "langdon2018<=120, turner1999"
    assert energy_rule(ViennaConfig(auto_max_len=150)) != rule
    assert energy_rule(ViennaConfig(energy_params="turner2004")) == "turner2004"
    assert energy_rule(ViennaConfig(energy_params="consensus")) == "consensus3of4-turner1999"
