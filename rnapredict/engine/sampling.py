"""Sampling an ensemble from the network: trunk once, diffusion per sample, confidence.

Samples are processed in chunks of ``sample_chunk`` (memory), each sample with its own
generator derived from the caller's, so chunking over samples does not change the result.
"""

from __future__ import annotations

import torch

from rnapredict.features.featurize import Features
from rnapredict.model.confidence import plddt_from_logits
from rnapredict.model.diffusion import sample
from rnapredict.model.network import RnaFoldNet
from rnapredict.pipeline.rank import Ensemble

#: A base pair is "formed" when its C1′ atoms are at most this far apart (Å; canonical pairs
#: sit at 10.5 ± 0.5 Å, a stretched pair at ≤ 12.5).
PAIR_FORMED_MAX = 13.0
#: A refined sample that loses more than this share of the pairs formed in its start (and at
#: least one) is replaced by the start.
MAX_BROKEN_SHARE = 0.25


def broken_pairs(x: torch.Tensor, start: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    """[S] bool: samples x [S, L, 3] that broke the base pairs their start [S, L, 3] forms.

    ``partner`` [L] (−1: unpaired). Measured reason: a short hairpin (12 nt, 4 bp) refined by
    the session-4 weights came out with its pairs 16–20 Å apart (C1′), every model; a check
    keeps the assembled candidate instead of a silently wrong model.
    """
    i = torch.nonzero(partner > torch.arange(partner.shape[0])).flatten()
    if i.numel() == 0:
        return torch.zeros(x.shape[0], dtype=torch.bool)
    j = partner[i]
    formed_start = (start[:, i] - start[:, j]).norm(dim=-1) <= PAIR_FORMED_MAX
    formed_x = (x[:, i] - x[:, j]).norm(dim=-1) <= PAIR_FORMED_MAX
    lost = (formed_start & ~formed_x).sum(-1)
    return (lost >= 1) & (lost > MAX_BROKEN_SHARE * formed_start.sum(-1))


def sample_generators(generator: torch.Generator, n: int) -> list[torch.Generator]:
    """n independent per-sample generators seeded from ``generator``."""
    seeds = torch.randint(0, 2**62, (n,), generator=generator).tolist()
    return [torch.Generator().manual_seed(int(s)) for s in seeds]


@torch.no_grad()
def sample_ensemble(
    net: RnaFoldNet,
    f: Features,
    n_samples: int,
    generator: torch.Generator,
    steps: int | None = None,
    chunk_size: int | None = None,
    sample_chunk: int | None = None,
    init_sigma: float | None = None,
) -> Ensemble:
    """Fold one chain (features with B = 1) into ``n_samples`` C1′ models with confidence.

    Args:
        net: the network (eval mode is set here).
        f: features, B = 1.
        n_samples: S.
        generator: the record's generator; per-sample generators are drawn from it.
        steps: diffusion steps (None: the config default).
        chunk_size: decoder chunk size in residues.
        sample_chunk: samples per batched denoiser call (None: all S at once).
        init_sigma: start from the A-form prior (``f.prior``) noised to this level (Å) instead
            of pure noise (partial diffusion); None: full schedule. Needs a prior.
    """
    net.eval()
    gens = sample_generators(generator, n_samples)
    cond = net.run_trunk(f, chunk_size)
    per = sample_chunk or n_samples
    coords, plddt, ptm, kept = [], [], [], []
    for start in range(0, n_samples, per):
        g = gens[start : start + per]
        fs, cs = f.repeat(len(g)), cond.repeat(len(g))

        def denoise(x: torch.Tensor, sigma: torch.Tensor, fs=fs, cs=cs) -> torch.Tensor:
            return net.denoise(x, sigma, cs, fs)

        init = fs.prior if init_sigma is not None and bool(f.has_prior.all()) else None
        x = sample(denoise, fs.mask, g, net.cfg.edm, steps, init, init_sigma)
        x = x.to(f.mask.device)
        bad = torch.zeros(len(g), dtype=torch.bool)
        if init is not None:  # a refinement must not undo its candidate's base pairs
            bad = broken_pairs(x.cpu(), init.cpu().float(), f.partner[0].cpu())
            x = torch.where(bad[:, None, None].to(x.device), init.to(x.dtype), x)
        kept.append(bad)
        pl_logits, ptm_logit = net.confidence_logits(x, cs, fs)
        coords.append(x.cpu())
        plddt.append(plddt_from_logits(pl_logits).cpu())
        ptm.append(torch.sigmoid(ptm_logit.float()).cpu())
    return Ensemble(torch.cat(coords), torch.cat(plddt), torch.cat(ptm), torch.cat(kept))
