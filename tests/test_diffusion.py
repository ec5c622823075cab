"""EDM schedule and sampler: fixed defaults, equivariance, batching, determinism."""

from __future__ import annotations

import math

import pytest
import torch

from rnapredict.engine.sampling import sample_ensemble
from rnapredict.features.featurize import featurize
from rnapredict.model.diffusion import (
    EDMConfig,
    edm_coefficients,
    noise_schedule,
    random_rotation,
    sample,
)
from rnapredict.model.network import RnaFoldNet
from rnapredict.model.presets import TINY_MODEL

SEQ = "GGGCGCAAGCCUAAGGCUUCGGCCGAUAGCGCCC"
SS = "((((((..((((....))))....))))))...."


@pytest.fixture(scope="module")
def net() -> RnaFoldNet:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        net = RnaFoldNet(TINY_MODEL).eval()
        # non-zero coordinate heads so equivariance is actually exercised
        for lin in net.denoiser.w_out:
            torch.nn.init.normal_(lin.weight, std=0.3)
    return net


def test_defaults_are_the_design_values() -> None:
    c = EDMConfig()
    assert (c.sigma_data, c.s_max, c.s_min, c.p) == (16.0, 160.0, 4e-4, 7.0)
    assert (c.gamma0, c.gamma_min, c.noise_scale, c.step_scale) == (0.8, 1.0, 1.003, 1.5)


def test_schedule_endpoints_and_monotone() -> None:
    s = noise_schedule(EDMConfig(), 20)
    assert math.isclose(float(s[0]), 16 * 160, rel_tol=1e-9)
    assert math.isclose(float(s[-1]), 16 * 4e-4, rel_tol=1e-9)
    assert bool((s[1:] < s[:-1]).all())


def test_edm_coefficients_at_sigma_data() -> None:
    c_in, c_skip, c_out, c_noise = edm_coefficients(torch.tensor([16.0]), 16.0)
    assert math.isclose(float(c_skip), 0.5, rel_tol=1e-6)
    assert math.isclose(float(c_out), 16 / math.sqrt(2), rel_tol=1e-6)
    assert math.isclose(float(c_in), 1 / (16 * math.sqrt(2)), rel_tol=1e-6)
    assert float(c_noise) == 0.0


def test_denoiser_is_rotation_equivariant(net: RnaFoldNet) -> None:
    f = featurize(SEQ, SS, net.cfg.edges, with_prior=True)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, len(SEQ), 3, generator=g) * 12.0
    rot = random_rotation(1, g)[0].float()
    sigma = torch.tensor([7.0])
    with torch.no_grad():
        cond = net.run_trunk(f)
        y = net.denoise(x, sigma, cond, f)
        y_rot = net.denoise(x @ rot.T, sigma, cond, f)
        pl, ptm = net.confidence_logits(y, cond, f)
        pl_r, ptm_r = net.confidence_logits(y_rot, cond, f)
    assert float((y - x).abs().max()) > 0.1  # the network moved the points
    torch.testing.assert_close(y_rot, y @ rot.T, atol=2e-4, rtol=0)
    torch.testing.assert_close(pl_r, pl, atol=2e-4, rtol=0)
    torch.testing.assert_close(ptm_r, ptm, atol=2e-4, rtol=0)


def test_samples_batched_equal_one_by_one_and_seed_repeats(net: RnaFoldNet) -> None:
    f = featurize(SEQ, SS, net.cfg.edges, with_prior=True)
    run = lambda chunk, seed: sample_ensemble(  # noqa: E731
        net, f, 3, torch.Generator().manual_seed(seed), steps=6, sample_chunk=chunk
    )
    batched, single, again, other = run(None, 5), run(1, 5), run(None, 5), run(None, 6)
    torch.testing.assert_close(single.coords, batched.coords, atol=1e-3, rtol=0)
    torch.testing.assert_close(single.plddt, batched.plddt, atol=1e-3, rtol=0)
    assert torch.equal(again.coords, batched.coords)
    assert not torch.allclose(other.coords, batched.coords)
    assert float(batched.plddt.min()) >= 0.0 and float(batched.plddt.max()) <= 100.0


def _oracle(truth: torch.Tensor):
    """The ideal denoiser for a single structure: the truth superposed onto the input."""
    from rnapredict.train.losses import kabsch_superpose

    def denoise(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        t = truth.expand_as(x)
        return kabsch_superpose(t, x, torch.ones(x.shape[:2], dtype=torch.bool))

    return denoise


@pytest.mark.parametrize("init_sigma", [None, 8.0])
def test_sampler_with_ideal_denoiser_recovers_the_structure(init_sigma: float | None) -> None:
    from rnapredict.geometry.aform import aform_c1
    from rnapredict.train.losses import kabsch_superpose

    truth = torch.from_numpy(aform_c1(SEQ, SS)).float()[None]
    gens = [torch.Generator().manual_seed(s) for s in range(2)]
    mask = torch.ones(2, truth.shape[1], dtype=torch.bool)
    init = truth.expand(2, -1, -1) + 3.0 if init_sigma else None
    x = sample(_oracle(truth), mask, gens, EDMConfig(), 20, init, init_sigma)
    moved = kabsch_superpose(x, truth.expand_as(x), mask)
    rmsd = ((moved - truth) ** 2).sum(-1).mean(-1).sqrt()
    assert float(rmsd.max()) < 0.05  # Å; the last noise level is 16 · 4e-4 Å
