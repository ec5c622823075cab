"""Trunk: chunked Perceiver decoding equals unchunked; the chunk utility itself."""

from __future__ import annotations

import pytest
import torch

from rnapredict.features.featurize import featurize
from rnapredict.model.chunk import chunked
from rnapredict.model.network import RnaFoldNet, count_parameters
from rnapredict.model.presets import SMALL_MODEL, TINY_MODEL

SEQ = "GGGCGCAAGCCUAAGGCUUCGGCCGAUAGCGCCCAAUUGGGAGCUU"
SS = "((((((..((((....)))).....))))))....((....))..."


def _net(cfg=TINY_MODEL, seed: int = 0) -> RnaFoldNet:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return RnaFoldNet(cfg).eval()


def test_chunked_utility_matches_whole() -> None:
    x = torch.arange(60.0).reshape(2, 30)
    out = chunked(lambda a, scale: a * scale + a.cumsum(0), (x,), 7, dim=1, scale=2.0)
    assert torch.equal(out, x * 2.0 + x.cumsum(0))
    with pytest.raises(ValueError):
        chunked(lambda a: a, (x,), 0)


@pytest.mark.parametrize("chunk", [5, 16])
def test_chunked_decoding_equals_unchunked(chunk: int) -> None:
    net = _net(SMALL_MODEL)
    f = featurize(SEQ, SS, net.cfg.edges, with_prior=True)
    with torch.no_grad():
        whole = net.run_trunk(f, None)
        parts = net.run_trunk(f, chunk)
    torch.testing.assert_close(parts.single, whole.single, atol=1e-5, rtol=0)
    torch.testing.assert_close(parts.pair, whole.pair, atol=1e-5, rtol=0)


def test_trunk_is_residue_local_in_padding() -> None:
    """A chain batched with a longer one gives the same single representation."""
    from rnapredict.features.featurize import collate, featurize_arrays
    from rnapredict.features.secondary import partner_array

    net = _net()
    a = featurize_arrays(SEQ[:20], partner_array("((((....))))........"), net.cfg.edges)
    b = featurize_arrays(SEQ, partner_array(SS), net.cfg.edges)
    with torch.no_grad():
        alone = net.run_trunk(collate([a])).single
        batched = net.run_trunk(collate([a, b])).single[:1, :20]
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=0)


def test_small_model_size() -> None:
    """The released size stays in the 1–3 M parameter range it was designed for."""
    assert 1_000_000 < count_parameters(_net(SMALL_MODEL)) < 3_000_000
