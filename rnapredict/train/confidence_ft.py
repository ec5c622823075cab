"""Fine-tune the confidence head on the samples ``fold`` actually ranks.

    python -m rnapredict.train.confidence_ft collect --split train --out runs/conf/train.pt
    python -m rnapredict.train.confidence_ft collect --split validation --out runs/conf/val.pt
    python -m rnapredict.train.confidence_ft fit --train runs/conf/train.pt \
        --val runs/conf/val.pt --out runs/conf/model.safetensors

The main training teaches pLDDT / pTM on the denoiser's outputs at random noise levels, mostly
close to the truth. ``fold`` instead ranks samples refined from motif-library candidates over a
ViennaRNA structure ensemble, many with a wrong secondary structure or arrangement. ``collect``
folds each chain as ``fold`` does (MFE + sampled structures, assembly candidates, partial
diffusion with the frozen weights) with the chain's own sequence family removed from the motif
library for train chains (as for a new RNA), and stores each sample with its real per-residue
C1′ lDDT and TM-score. ``fit`` trains only the confidence module (trunk and denoiser frozen) on
those samples: binned-lDDT cross-entropy, pTM binary cross-entropy and a within-chain pairwise
ranking loss on pTM, so the ranking score orders a chain's samples by their real TM-score.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from torch.nn import functional as F

from rnapredict.features.featurize import Features, collate, featurize_arrays
from rnapredict.features.secondary import partner_array, predict_ss
from rnapredict.model.network import RnaFoldNet
from rnapredict.train.losses import lddt_per_residue, plddt_loss, tm_after_kabsch
from rnapredict.train.secondary import TRAIN_ENERGY_PARAMS, TRAIN_VIENNA


@dataclass(frozen=True)
class ConfidenceFtConfig:
    """Settings of :func:`fit`.

    Attributes:
        epochs: passes over the training chains.
        lr: AdamW learning rate of the confidence module.
        rank_weight: weight of the pairwise ranking loss (pTM logits within a chain).
        ptm_weight: weight of the pTM cross-entropy; the binned-lDDT term has weight 1.
        seed: shuffling seed.
    """

    epochs: int = 6
    lr: float = 3e-4
    rank_weight: float = 1.0
    ptm_weight: float = 1.0
    seed: int = 0


def _features(seq: str, ss_list: list[str], priors: torch.Tensor, net: RnaFoldNet) -> Features:
    """Batched features of one chain's samples: priors [S, L, 3] Å → Features with B = S."""
    items = [
        featurize_arrays(seq, partner_array(ss), net.cfg.edges, p.numpy())
        for ss, p in zip(ss_list, priors, strict=True)
    ]
    return collate(items)


@torch.no_grad()
def collect(
    weights: Path | None,
    data: Path,
    split: str,
    n_candidates: int,
    max_length: int,
    seed: int = 0,
    limit: int | None = None,
    shard: tuple[int, int] = (1, 1),
) -> list[dict[str, Any]]:
    """Per chain: its samples as ``fold`` draws them, with real per-residue lDDT and TM.

    Returns:
        one dict per chain: ``id``, ``seq``, ``ss`` [S] dot-brackets, ``prior`` [S, L, 3] and
        ``x`` [S, L, 3] float32 tensors (Å), ``lddt`` [S, L] (0–1), ``tm`` [S], ``ptm`` /
        ``plddt`` [S] (the frozen head's, raw).
    """
    from rnapredict.data.families import families
    from rnapredict.engine import load_engine
    from rnapredict.pipeline.api import FoldOptions, record_generators
    from rnapredict.pipeline.candidates import record_candidates
    from rnapredict.pipeline.secondary import Secondary
    from rnapredict.prior.library import default_library
    from rnapredict.train.data import load_chains

    engine = load_engine(weights)
    engine.calibration = None
    library = default_library()
    chains = load_chains(data, split, None, ("c1", "allatom"))
    fams = families([c.id for c in chains], [c.seq for c in chains]) if split == "train" else {}
    chains = [c for c in chains if 2 <= len(c.seq) <= max_length][:limit]
    chains = chains[shard[0] - 1 :: shard[1]]
    out = []
    t0 = time.time()
    for k, ch in enumerate(chains):
        lib = library.without(fams.get(ch.id, frozenset({ch.id}))) if fams else library
        _, gen, pgen = record_generators(seed, ch.id)
        mfe = predict_ss(ch.seq, config=TRAIN_VIENNA)
        want = FoldOptions(
            n_samples=n_candidates, seed=seed, templates="none", energy_params=TRAIN_ENERGY_PARAMS
        )
        cands = record_candidates(ch.seq, Secondary(mfe, "vienna"), want, pgen, library=lib)
        opts = FoldOptions(n_samples=len(cands), seed=seed)
        ens, owner = engine.sample_candidates(ch.seq, cands, opts, gen)
        x = ens.coords.float()
        true = torch.from_numpy(ch.coords).float()[None].expand_as(x)
        mask = torch.ones(x.shape[:2], dtype=torch.bool)
        out.append(
            {
                "id": ch.id,
                "seq": ch.seq,
                "ss": [cands[j].ss for j in owner],
                "prior": torch.from_numpy(np.stack([cands[j].coords for j in owner])).float(),
                "x": x,
                "lddt": lddt_per_residue(x, true, mask),
                "tm": tm_after_kabsch(x, true, mask),
                "ptm": ens.ptm.float(),
                "plddt": ens.plddt.mean(-1).float(),
            }
        )
        if k % 20 == 0:
            print(f"[collect {split}] {k + 1}/{len(chains)} {ch.id} L={len(ch.seq)}"
                  f" {time.time() - t0:.0f} s", flush=True)  # fmt: skip
    return out


def pairwise_rank_loss(
    logits: torch.Tensor, tm: torch.Tensor, margin: float = 0.01
) -> torch.Tensor:
    """Logistic ranking loss of one chain's samples: logits [S], real TM [S] → scalar.

    Every pair (i, j) with ``tm[i] − tm[j] > margin`` adds ``softplus(logit[j] − logit[i])``
    weighted by the TM difference (a wrong order of two very different samples costs more);
    the weighted mean over such pairs, 0 when there are none.
    """
    diff = tm[:, None] - tm[None, :]
    better = diff > margin
    if not better.any():
        return logits.sum() * 0.0
    gap = logits[:, None] - logits[None, :]
    w = diff[better]
    return (F.softplus(-gap[better]) * w).sum() / w.sum()


def chain_losses(
    net: RnaFoldNet, row: dict[str, Any], cfg: ConfidenceFtConfig
) -> dict[str, torch.Tensor]:
    """Losses of one chain's samples (trunk frozen, confidence module trainable)."""
    f = _features(row["seq"], row["ss"], row["prior"], net)
    with torch.no_grad():
        cond = net.run_trunk(f)
    pl_logits, ptm_logit = net.confidence_logits(row["x"], cond, f)
    lddt, tm = row["lddt"], row["tm"]
    terms = {
        "plddt": plddt_loss(pl_logits, lddt, f.mask),
        "ptm": F.binary_cross_entropy_with_logits(ptm_logit.float(), tm),
    }
    terms["rank"] = pairwise_rank_loss(ptm_logit.float(), tm)
    terms["loss"] = terms["plddt"] + cfg.ptm_weight * terms["ptm"] + cfg.rank_weight * terms["rank"]
    return terms


@torch.no_grad()
def evaluate(net: RnaFoldNet, rows: list[dict[str, Any]], calib: bool = False) -> dict[str, float]:
    """Ranking and confidence figures over chains (5 first samples = what fold ranks).

    Returns: TM of the top-ranked sample (model 1), mean TM (random pick), mean within-chain
    Spearman of ranking score vs TM, mean |mean pLDDT/100 − lDDT| of model 1, and the same
    model-1 TM when the top 5 of all S samples are kept (over-generation).
    """
    from scipy.stats import spearmanr

    from rnapredict.model.confidence import plddt_from_logits
    from rnapredict.pipeline.rank import ranking_score

    net.eval()
    m1, rnd, rho, err, m1_all, best_all = [], [], [], [], [], []
    for row in rows:
        f = _features(row["seq"], row["ss"], row["prior"], net)
        cond = net.run_trunk(f)
        pl, ptm_logit = net.confidence_logits(row["x"], cond, f)
        per_res = plddt_from_logits(pl)
        score = ranking_score(torch.sigmoid(ptm_logit), per_res).numpy()
        plddt = per_res.mean(-1).numpy()
        tm, lddt = row["tm"].numpy(), row["lddt"].mean(-1).numpy()
        k = min(5, len(tm))
        top = int(np.argmax(score[:k]))
        m1.append(tm[top])
        rnd.append(tm[:k].mean())
        err.append(abs(plddt[top] / 100.0 - lddt[top]))
        if np.std(tm) > 1e-6 and np.std(score) > 1e-9:
            rho.append(spearmanr(score, tm).statistic)
        order = np.argsort(-score)[:k]
        m1_all.append(tm[order[0]])
        best_all.append(tm[order].max())
    return {
        "model1_tm": float(np.mean(m1)),
        "random_tm": float(np.mean(rnd)),
        "spearman": float(np.mean(rho)) if rho else math.nan,
        "plddt_error": float(np.mean(err)),
        "overgen_model1_tm": float(np.mean(m1_all)),
        "overgen_best5_tm": float(np.mean(best_all)),
    }


def fit(
    net: RnaFoldNet,
    train_rows: list[dict[str, Any]],
    val_rows: list[dict[str, Any]],
    cfg: ConfidenceFtConfig,
    say=print,  # noqa: ANN001
) -> list[dict[str, float]]:
    """Train ``net.confidence`` in place; returns the per-epoch validation log."""
    for p in net.parameters():
        p.requires_grad_(False)
    params = list(net.confidence.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    gen = np.random.default_rng(cfg.seed)
    log = [{"epoch": 0, **evaluate(net, val_rows)}]
    say(log[-1])
    for epoch in range(1, cfg.epochs + 1):
        net.eval()  # no dropout in the model; frozen parts stay in eval
        t0, tot = time.time(), []
        for i in gen.permutation(len(train_rows)):
            terms = chain_losses(net, train_rows[i], cfg)
            opt.zero_grad()
            terms["loss"].backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            tot.append([float(terms[k].detach()) for k in ("loss", "plddt", "ptm", "rank")])
        mean = np.mean(tot, 0)
        row = {"epoch": epoch, "train_loss": float(mean[0]), "train_plddt": float(mean[1]),
               "train_ptm": float(mean[2]), "train_rank": float(mean[3]),
               "seconds": time.time() - t0, **evaluate(net, val_rows)}  # fmt: skip
        log.append(row)
        say(row)
    return log


def _save_rows(rows: list[dict[str, Any]], path: Path) -> None:
    import io

    from rnapredict.io.atomic import atomic_write_bytes

    buf = io.BytesIO()
    torch.save(rows, buf)
    atomic_write_bytes(path, buf.getvalue(), overwrite=True)


def _load_rows(path: Path) -> list[dict[str, Any]]:
    """Rows saved by :func:`_save_rows` (tensors, strings, lists only: weights_only load)."""
    return torch.load(path, weights_only=True)


def main(argv: list[str] | None = None) -> None:
    from rnapredict.train.__main__ import DEFAULT_DATA

    p = argparse.ArgumentParser(
        prog="python -m rnapredict.train.confidence_ft", description=__doc__
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--weights", type=Path, default=None)
    c.add_argument("--data", type=Path, default=DEFAULT_DATA)
    c.add_argument("--split", choices=("train", "validation"), required=True)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("-n", "--candidates", type=int, default=8)
    c.add_argument("--max-length", type=int, default=300)
    c.add_argument("--limit", type=int, default=None)
    c.add_argument("--shard", default=None, help="K/N: every N-th chain from K (1-based)")
    c.add_argument("--seed", type=int, default=0)
    f = sub.add_parser("fit")
    f.add_argument("--weights", type=Path, default=None)
    f.add_argument("--train", type=Path, nargs="+", required=True)
    f.add_argument("--val", type=Path, nargs="+", required=True)
    f.add_argument("--out", type=Path, required=True, help="fine-tuned model.safetensors")
    f.add_argument("--epochs", type=int, default=ConfidenceFtConfig.epochs)
    f.add_argument("--lr", type=float, default=ConfidenceFtConfig.lr)
    f.add_argument("--rank-weight", type=float, default=ConfidenceFtConfig.rank_weight)
    f.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(getattr(a, "threads", 1))
    if a.cmd == "collect":
        k, n = (int(v) for v in (a.shard or "1/1").split("/"))
        rows = collect(
            a.weights, a.data, a.split, a.candidates, a.max_length, a.seed, a.limit, (k, n)
        )
        _save_rows(rows, a.out)
        print(f"wrote {len(rows)} chains to {a.out}")
        return
    from rnapredict.assets import default_weights_dir
    from rnapredict.engine.weights import build_network, load_weights

    mcfg, tensors, _ = load_weights(a.weights or default_weights_dir())
    net = build_network(mcfg, tensors)
    train_rows = [r for path in a.train for r in _load_rows(path)]
    val_rows = [r for path in a.val for r in _load_rows(path)]
    cfg = ConfidenceFtConfig(epochs=a.epochs, lr=a.lr, rank_weight=a.rank_weight)
    fit(net, train_rows, val_rows, cfg)
    sd = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(sd, str(a.out))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
