"""The consensus rule of secondary structures (``energy_params="consensus"``): pairs found in
the MFEs of several ViennaRNA parameter sets, kept nested, optionally refolded under hard
constraints; its samples, its cache keys, the process-global parameters around it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import RNA

from rnapredict.data.sscache import SSCache, cache_key
from rnapredict.features.consensus import greedy_nested, vote
from rnapredict.features.vienna import (
    DEFAULT_CONFIG,
    ENERGY_PARAMS,
    ViennaConfig,
    base_energy_params,
    consensus_pairs,
    mfe_structure,
    resolve_energy_params,
)
from rnapredict.io.secondary import pair_list, pairs_from_list, parse_dot_bracket, to_dot_bracket
from rnapredict.prior.ensemble import sample_structures


def nested_pairs(ss: str) -> list[tuple[int, int]]:
    return pair_list(parse_dot_bracket(ss))


def dot_bracket(pairs: list[tuple[int, int]], n: int) -> str:
    return to_dot_bracket(pairs_from_list(n, pairs))


TRNA = "GCGGAUUUAGCUCAGUUGGGAGAGCGCCAGACUGAAGAUCUGGAGGUCCUGUGUUCGAUCCACAGAAUUCGCACCA"
CLOVERLEAF = "(((((((..((((........)))).(((((.......))))).....(((((.......))))))))))))...."
#: 200 nt of repeated tRNA: the four sets' MFEs disagree on its long-range pairs.
LONG = (TRNA * 3)[:200]


def consensus(**kw: object) -> ViennaConfig:
    return replace(DEFAULT_CONFIG, energy_params="consensus", **kw)


def energy(seq: str, ss: str, params: str = "turner1999") -> float:
    from rnapredict.features.vienna import energy_parameters

    with energy_parameters(params):
        fc = RNA.fold_compound(seq)
    return round(fc.eval_structure(ss), 2)


def test_vote_keeps_pairs_by_count_and_stays_nested() -> None:
    a = "((((....))))"  # (0, 11) (1, 10) (2, 9) (3, 8)
    b = ".(((....)))."  # (1, 10) (2, 9) (3, 8)
    c = "..((....)).."  # (2, 9) (3, 8)
    assert nested_pairs(b) == [(1, 10), (2, 9), (3, 8)]
    assert vote([a, b, c], 3) == [(2, 9), (3, 8)]
    assert vote([a, b, c], 2) == [(1, 10), (2, 9), (3, 8)]
    assert dot_bracket(vote([a, b, c], 1), 12) == a
    # two structures that disagree, one vote each: the preferred one wins every conflict
    x, y = "((....))....", "..((....)).."
    assert dot_bracket(vote([x, y], 1, prefer=0), 12) == x
    assert dot_bracket(vote([x, y], 1, prefer=1), 12) == y
    # crossing and shared residues are refused whatever the order
    assert greedy_nested([(0, 5), (3, 9), (5, 11), (6, 9)], 12) == [(0, 5), (6, 9)]


def test_trna_consensus_and_refold_golden() -> None:
    """tRNA-Phe: three of the four sets give the cloverleaf (Turner 1999 does not), so 3/4
    keeps it; the refold under Turner 1999 keeps all its pairs and adds one in the anticodon
    loop (-23.70 kcal/mol under Turner 1999, between the cloverleaf's -23.40 and the
    unconstrained MFE's -23.80)."""
    assert mfe_structure(TRNA, consensus(consensus_refold=False)) == CLOVERLEAF
    assert energy(TRNA, CLOVERLEAF) == pytest.approx(-23.40, abs=0.011)
    refold = mfe_structure(TRNA, consensus(consensus_refold=True))
    assert refold == "(((((((..((((........)))).((((((....).))))).....(((((.......))))))))))))...."
    assert energy(TRNA, refold) == pytest.approx(-23.70, abs=0.011)
    assert set(nested_pairs(CLOVERLEAF)) < set(nested_pairs(refold))
    # all four agree only on the acceptor stem's six outer pairs
    assert consensus_pairs(TRNA, consensus(consensus_votes=4)) == [(k, 71 - k) for k in range(6)]


@pytest.mark.parametrize("votes", [2, 3])
@pytest.mark.parametrize("global_max_len", [1000, 150])  # global MFE, windowed MFE
def test_refold_contains_every_consensus_pair(votes: int, global_max_len: int) -> None:
    cfg = consensus(
        consensus_votes=votes, consensus_refold=True, global_max_len=global_max_len, max_bp_span=100
    )
    kept = consensus_pairs(LONG, cfg)
    assert kept and kept == sorted(kept)
    refold = mfe_structure(LONG, cfg)
    assert set(kept) <= set(nested_pairs(refold))
    assert len(nested_pairs(refold)) > len(kept)  # the refold fills in around them
    if global_max_len == 1000:  # global: a constrained MFE between the two
        free = mfe_structure(LONG, replace(DEFAULT_CONFIG, energy_params="turner1999"))
        assert energy(LONG, free) <= energy(LONG, refold) <= energy(LONG, dot_bracket(kept, 200))


def test_rule_names_and_auto_threshold() -> None:
    assert resolve_energy_params(200, consensus()) == "consensus3of4-turner1999"
    assert resolve_energy_params(200, consensus(consensus_refold=True, consensus_votes=2)) == (
        "consensus2of4+turner1999"
    )
    auto = DEFAULT_CONFIG  # auto: Langdon 2018 ≤ 120 nt, Turner 1999 ≤ 300 nt, consensus beyond
    assert resolve_energy_params(120, auto) == "langdon2018"
    assert resolve_energy_params(300, auto) == "turner1999"
    assert resolve_energy_params(301, auto) == "consensus3of4-turner1999"
    assert base_energy_params(301, auto) == "turner1999"
    assert resolve_energy_params(301, replace(auto, auto_consensus_len=None)) == "turner1999"
    assert mfe_structure(TRNA, replace(auto, auto_consensus_len=70)) == CLOVERLEAF
    for bad in ({"consensus_votes": 0}, {"consensus_votes": 5}, {"consensus_base": "auto"}):
        with pytest.raises(ValueError, match="consensus_"):
            replace(DEFAULT_CONFIG, **bad)


def test_parameters_restored_and_samples_follow_the_base_set() -> None:
    """Folding and sampling by the consensus rule leave the process-global parameters as they
    were; the samples are the base set's (Turner 1999) around the consensus structure, the same
    for the same seed, on the global and on the per-domain (> 300 nt) path."""

    def loaded_energy() -> float:
        return round(RNA.fold_compound(TRNA).mfe()[1], 2)

    before = loaded_energy()
    assert before == pytest.approx(-22.40, abs=0.011)  # Turner 2004 loaded process-wide
    t99 = replace(DEFAULT_CONFIG, energy_params="turner1999")
    for seq in (LONG, (TRNA * 5)[:340]):
        for cfg in (consensus(), consensus(consensus_refold=True)):
            ref = mfe_structure(seq, cfg)
            assert loaded_energy() == before
            got = sample_structures(seq, ref, 6, seed=5, vienna=cfg)
            assert got[0] == ref and len(got) == 6
            assert got == sample_structures(seq, ref, 6, seed=5, vienna=cfg)
            assert got == sample_structures(seq, ref, 6, seed=5, vienna=t99)
            assert loaded_energy() == before


def test_cache_key_names_the_rule(tmp_path: Path) -> None:
    assert cache_key(TRNA, consensus()) == f"consensus3of4-turner1999:{TRNA}"
    keys = {cache_key(TRNA, consensus(consensus_refold=r, consensus_votes=k)) for r in (0, 1)
            for k in range(1, len(ENERGY_PARAMS) + 1)}  # fmt: skip
    assert len(keys) == 2 * len(ENERGY_PARAMS)
    path = tmp_path / "ss.json"
    path.write_text(json.dumps({f"turner1999:{TRNA}": "." * len(TRNA)}))
    got = SSCache(path, consensus())(TRNA)
    assert got == CLOVERLEAF  # the Turner 1999 entry is never served for the rule


@pytest.mark.slow
def test_cli_fold_with_the_consensus_rule(tmp_path: Path) -> None:
    """``rnapredict fold --energy-params consensus`` folds the tRNA on the consensus structure
    and records the rule (votes, refold, base set) in confidence.json."""
    import subprocess
    import sys

    from rnapredict.engine import tiny_engine
    from rnapredict.engine.weights import write_weights

    net = tiny_engine(seed=0).net
    wdir = tmp_path / "tiny-weights"
    write_weights(wdir, net.state_dict(), net.cfg, {"model_version": "tiny-test"})
    fa = tmp_path / "trna.fa"
    fa.write_text(f">trna\n{TRNA}\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "rnapredict", "fold", str(fa), "-n", "2", "--steps", "2"]
    cmd += ["--weights", str(wdir), "--templates", "none", "-q", "-o", str(out)]
    proc = subprocess.run(
        [*cmd, "--energy-params", "consensus"], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((out / "trna" / "confidence.json").read_text())
    assert doc["settings"]["energy_params"] == "consensus"
    assert doc["secondary_structure"]["energy_params"] == "consensus3of4-turner1999"
    assert doc["secondary_structure"]["dot_bracket"] == CLOVERLEAF


def test_constraint_reaches_every_set_of_the_consensus() -> None:
    """A constraint (probing data in ``fold``) applies to each set's MFE and to the refold:
    with the acceptor stem's 5′ strand forced unpaired no kept pair touches it."""

    def open_acceptor(fc: RNA.fold_compound) -> None:
        for k in range(1, 8):
            fc.hc_add_up(k)

    for refold in (False, True):
        ss = mfe_structure(TRNA, consensus(consensus_refold=refold), constraint=open_acceptor)
        assert ss[:7] == "......."
        assert nested_pairs(ss)  # the hairpins stay
    kept = consensus_pairs(TRNA, consensus(), open_acceptor)
    assert kept and all(i >= 7 for i, _j in kept)
