"""Validation during training: sample each validation chain, C1′ metrics vs the truth."""

from __future__ import annotations

import numpy as np
import torch

from rnapredict.engine.sampling import sample_ensemble
from rnapredict.features.featurize import featurize
from rnapredict.model.network import RnaFoldNet
from rnapredict.train.data import Chain
from rnapredict.train.losses import kabsch_superpose, lddt_per_residue, tm_after_kabsch


@torch.no_grad()
def c1_metrics(pred: torch.Tensor, true: torch.Tensor) -> dict[str, float]:
    """TM-score (Kabsch-refined approximation), lDDT (15 Å) and RMSD (Å) of [L, 3] vs [L, 3]."""
    p, t = pred[None].float(), true[None].float()
    m = torch.ones(1, p.shape[1], dtype=torch.bool)
    moved = kabsch_superpose(p, t, m)
    rmsd = float(torch.sqrt(((moved - t) ** 2).sum(-1).mean()))
    return {
        "tm": float(tm_after_kabsch(p, t, m)[0]),
        "lddt": float(lddt_per_residue(p, t, m).mean()),
        "rmsd": rmsd,
    }


def validate(
    net: RnaFoldNet,
    chains: list[Chain],
    steps: int,
    n_samples: int = 1,
    seed: int = 0,
    init_sigma: float | None = None,
) -> dict[str, float]:
    """Mean C1′ metrics of model 1 (highest ranking score) over ``chains``.

    ``init_sigma``: sample from the chain's prior (``Chain.prior``: A-form or assembled; the
    A-form rule when it has none) noised to this σ, as the shipped engine does.
    """
    rows = []
    for k, ch in enumerate(chains):
        f = featurize(ch.seq, ch.ss, net.cfg.edges, net.cfg.aform_prior, ch.prior)
        gen = torch.Generator().manual_seed(seed + k)
        ens = sample_ensemble(net, f, n_samples, gen, steps=steps, init_sigma=init_sigma)
        best = int(torch.argmax(ens.ranking_score))
        met = c1_metrics(ens.coords[best], torch.from_numpy(ch.coords))
        met["plddt"] = float(ens.plddt[best].mean())
        rows.append(met)
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    # how well pLDDT tracks the real lDDT across chains
    pl = np.array([r["plddt"] for r in rows])
    ld = np.array([r["lddt"] for r in rows])
    out["plddt_lddt_corr"] = (
        float(np.corrcoef(pl, ld)[0, 1]) if len(rows) > 2 and pl.std() > 0 and ld.std() > 0 else 0.0
    )
    return out
