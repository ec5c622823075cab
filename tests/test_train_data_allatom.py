"""Training data from ``allatom/``: C1′ traces, 3D-annotated pairs, MFE substitution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnapredict.features.secondary import partner_array
from rnapredict.train.data import Chain, allatom_c1, load_allatom_chains, pick_chains, with_mfe


@pytest.mark.shared
def test_allatom_trna_trace_and_pairs(shared_data: Path) -> None:
    """1EVV A (yeast tRNA-Phe): 76 nt, C1′ steps of a real chain, cloverleaf stems found in 3D."""
    seq, xyz, ss = allatom_c1(shared_data / "allatom" / "1EVV.pdb.gz", "A")
    assert len(seq) == len(xyz) == len(ss) == 76
    step = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
    assert 5.0 < np.median(step) < 6.5
    assert step.max() < 10.0  # no chain break (native C1′ links reach ~9.9 Å)
    pairs = partner_array(ss)
    assert pairs[0] == 71 and pairs[6] == 65  # acceptor stem G1–C72 … A7–U66
    assert 38 <= (pairs >= 0).sum() <= 46  # 19–23 canonical pairs in a tRNA


@pytest.mark.shared
def test_allatom_split_dates(shared_data: Path, tmp_path: Path) -> None:
    train = load_allatom_chains(shared_data, "train", tmp_path / "ss.json")
    val = load_allatom_chains(shared_data, "validation", tmp_path / "ss.json")
    assert len(train) > 250 and len(val) > 25
    assert all(c.release_date < "2020-01-01" and c.ss_source == "pdb" for c in train)
    assert all("2020-01-01" <= c.release_date < "2022-05-01" for c in val)
    assert all(c.ss_source == "vienna" for c in val)
    assert not {c.id for c in train} & {c.id for c in val}


def test_pick_chains_mixes_at_the_asked_rate() -> None:
    base = [Chain(f"c{i}", "GGGAAACCC", np.zeros((9, 3), np.float32), "(((...)))", "pdb", "")
            for i in range(4)]  # fmt: skip
    alt = with_mfe(base)
    assert all(a.ss_source == "vienna" and len(a.ss) == 9 for a in alt)
    gen = torch.Generator().manual_seed(0)
    picks = [pick_chains(base, alt, [0, 1, 2, 3], 0.3, gen) for _ in range(500)]
    frac = np.mean([c.ss_source == "vienna" for p in picks for c in p])
    assert 0.26 < frac < 0.34
    again = pick_chains(base, alt, [0, 1], 0.3, torch.Generator().manual_seed(5))
    assert again == pick_chains(base, alt, [0, 1], 0.3, torch.Generator().manual_seed(5))
    assert pick_chains(base, None, [2], 0.3, gen) == [base[2]]


@pytest.mark.shared
def test_assembled_priors_leave_the_family_out(shared_data: Path, tmp_path: Path) -> None:
    """A train chain's assembled prior is built without its family: with the chain itself in
    the library the prior reproduces its junctions far better (so leaving it out matters)."""
    from rnapredict.data.families import families
    from rnapredict.prior.library import default_library
    from rnapredict.train.data import with_assembled_priors
    from rnapredict.train.losses import tm_after_kabsch

    library = default_library()
    assert library is not None
    chains = [c for c in load_allatom_chains(shared_data, "train", tmp_path / "ss.json")
              if c.id == "4KQY_A"]  # fmt: skip
    assert chains, "4KQY_A (SAM-I riboswitch, 119 nt) missing from allatom train chains"
    fam = families([c.id for c in chains], [c.seq for c in chains])
    out = with_assembled_priors(chains, library, fam, seed=0)
    again = with_assembled_priors(chains, library, fam, seed=0)
    assert out[0].prior.tobytes() == again[0].prior.tobytes()
    leaky = with_assembled_priors(chains, library, {"4KQY_A": frozenset()}, seed=0)

    def tm(prior: np.ndarray) -> float:
        x, y = (torch.from_numpy(a[None]).double() for a in (prior, chains[0].coords))
        return float(tm_after_kabsch(x, y, torch.ones(1, len(prior), dtype=torch.bool)))

    assert tm(leaky[0].prior) > tm(out[0].prior) + 0.2


def test_prior_source_is_a_schedule_change_and_a_new_val_protocol() -> None:
    from rnapredict.train.resume import schedule_changes, val_key

    old = {"lr": 1e-3, "val_init_sigma": 6.0}  # a checkpoint written before prior_source
    assert schedule_changes(old, {**old, "prior_source": "aform"}) == []
    new = {**old, "prior_source": "assembly", "val_init_sigma": 1.0}
    assert schedule_changes(old, new) == ["prior_source", "val_init_sigma"]
    assert val_key(old) != val_key(new)
    assert val_key(old) == val_key({**old, "prior_source": "aform"})
