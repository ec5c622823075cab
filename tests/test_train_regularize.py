"""Training options against memorising natives: hidden nucleotides, fresh candidates per epoch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from rnapredict.features.edges import EdgeConfig
from rnapredict.features.featurize import tokenize
from rnapredict.train.configs import CONFIGS, check_config
from rnapredict.train.data import Chain, make_batch


def _chains(n: int) -> list[Chain]:
    rng = np.random.default_rng(0)
    seqs = ["GGGAAACCCAGCU", "GCAUGCUUCGGCAUGC", "ACGUACGUAC"]
    out = []
    for i in range(n):
        s = seqs[i % len(seqs)]
        out.append(Chain(f"c{i}", s, rng.normal(size=(len(s), 3)).astype(np.float32) * 5,
                         "." * len(s), "pdb", ""))  # fmt: skip
    return out


def test_seq_mask_off_replays_the_old_batches_exactly() -> None:
    """seq_mask 0 takes no draws: same batch and same generator state as before the option."""
    chains, edges = _chains(3), EdgeConfig()
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = make_batch(chains, 12, edges, g1)
    b = make_batch(chains, 12, edges, g2, seq_mask=0.0)
    assert torch.equal(a.coords, b.coords)
    assert torch.equal(a.features.tokens, b.features.tokens)
    assert torch.equal(g1.get_state(), g2.get_state())


def test_seq_mask_hides_whole_chains_at_the_asked_rate() -> None:
    chains, edges = _chains(4), EdgeConfig()
    n_tok = int(tokenize("N")[0])
    gen = torch.Generator().manual_seed(0)
    hidden = []
    for _ in range(100):
        batch = make_batch(chains, 16, edges, gen, seq_mask=0.5)
        tok, mask = batch.features.tokens, batch.features.mask
        for b in range(len(chains)):
            t = tok[b][mask[b]]
            all_n = bool((t == n_tok).all())
            assert all_n or not bool((t == n_tok).any())  # a chain is hidden whole or not at all
            hidden.append(all_n)
    assert 0.42 < np.mean(hidden) < 0.58
    full = make_batch(chains, 16, edges, torch.Generator().manual_seed(0), seq_mask=1.0)
    ok = full.features.mask
    assert bool((full.features.tokens[ok] == n_tok).all())


def test_config_checks_of_the_new_options() -> None:
    base = CONFIGS["small_aa"]
    check_config(CONFIGS["small_aa_ft_mask"])
    check_config(CONFIGS["small_aa_ft_fresh"])
    with pytest.raises(SystemExit, match="seq_mask"):
        check_config(dataclasses.replace(base, seq_mask=1.5))
    with pytest.raises(SystemExit, match="refresh_priors"):
        check_config(dataclasses.replace(base, prior_source="aform", refresh_priors=True))


@pytest.mark.shared
def test_prior_adder_seed_changes_some_candidates_and_replays(
    shared_data: Path, tmp_path: Path
) -> None:
    """refresh_priors relies on the candidate seed: another seed gives another candidate for
    chains whose assembly has a choice to make (measured: about a third of 60–150-nt chains),
    the same seed the same bytes."""
    from rnapredict.train.data import load_allatom_chains
    from rnapredict.train.loop import prior_adder

    chains = [c for c in load_allatom_chains(shared_data, "train", tmp_path / "ss.json")
              if 60 <= len(c.seq) <= 150][:12]  # fmt: skip
    add = prior_adder(CONFIGS["small_aa"], chains, 0)
    a, again, other = add(chains), add(chains, 0), add(chains, 1)
    assert all(x.prior.tobytes() == y.prior.tobytes() for x, y in zip(a, again, strict=True))
    moved = [float(np.sqrt(((x.prior - y.prior) ** 2).sum(1).mean()))
             for x, y in zip(a, other, strict=True)]  # fmt: skip
    assert any(m > 1.0 for m in moved)
