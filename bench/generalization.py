"""Does the learned refinement generalise? Seen training chains vs unseen validation chains.

Runs training's validation protocol (the chain's assembled candidate on its ViennaRNA MFE
structure, built with its own sequence family left out of the motif library, noised to σ 1 Å,
20 steps, 1 sample; the sampled training chains get their MFE structure too, as validation
chains have no other) on a random sample of *training* chains and on the validation split, and
prints the candidate's own C1′ figures beside the model's. A model that moves candidates
towards the native on the chains it was trained on but not on new ones has memorised
arrangements rather than learned them (issue 14's diagnosis).

    python -m bench.generalization [--weights shipped runs/x/ckpt-N/ema.safetensors ...]
        [--n-train 74] [--max-length 200] [--config small_aa] [--hide-sequence]

``--hide-sequence`` gives the network every chain as all ``N`` (structure and candidate
unchanged): a seen-chain gain that vanishes then came from recognising the sequence.

TM here is training's Kabsch-refined approximation (``rnapredict.train.losses``), lower
than US-align's; compare rows with each other, not with ``bench/accuracy.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from pathlib import Path

import numpy as np
import torch

from rnapredict.data import default_data_dir
from rnapredict.model.network import RnaFoldNet
from rnapredict.train.data import Chain, load_chains, with_mfe

REPO = Path(__file__).resolve().parents[1]

METRICS = ("tm", "lddt", "rmsd")


def candidate_metrics(chains: list[Chain]) -> dict[str, float]:
    """Mean C1′ figures of the chains' candidates (``Chain.prior``) themselves."""
    from rnapredict.train.validate import c1_metrics

    rows = [c1_metrics(torch.from_numpy(c.prior), torch.from_numpy(c.coords)) for c in chains]
    return {k: float(np.mean([r[k] for r in rows])) for k in METRICS}


def load_net(spec: str, config: str) -> RnaFoldNet:
    """``shipped`` (weights/) or a safetensors state dict (checkpoint or EMA) of ``config``'s
    model, loaded strictly."""
    from safetensors.torch import load_file

    from rnapredict.engine.weights import build_network, load_weights
    from rnapredict.train.configs import CONFIGS

    if spec == "shipped":
        cfg, tensors, _ = load_weights(REPO / "weights")
    else:  # "__ema_updates__" and the like are checkpoint bookkeeping, not weights
        cfg = CONFIGS[config].model
        tensors = {k: v for k, v in load_file(spec).items() if not k.startswith("__")}
    return build_network(cfg, tensors)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--weights", nargs="+", default=["shipped"])
    p.add_argument("--config", default="small_aa", help="training config of checkpoint files")
    p.add_argument("--data", type=Path, default=default_data_dir())
    p.add_argument("--ss-cache", type=Path, default=REPO / "runs" / "ss_cache.json")
    p.add_argument("--n-train", type=int, default=74)
    p.add_argument("--max-length", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hide-sequence", action="store_true", help="every nucleotide as N")
    a = p.parse_args(argv)
    if not a.data.is_dir():
        raise SystemExit(f"no training data at {a.data}")
    torch.set_num_threads(1)
    from rnapredict.train.configs import CONFIGS
    from rnapredict.train.loop import prior_adder
    from rnapredict.train.validate import validate

    cache = a.ss_cache if a.ss_cache.parent.is_dir() else None
    train = load_chains(a.data, "train", cache, ("c1", "allatom"))
    val = load_chains(a.data, "validation", cache, ("c1", "allatom"))
    add = prior_adder(CONFIGS[a.config], train, a.seed)
    pool = [c for c in train if len(c.seq) <= a.max_length]
    splits = {
        f"train ({a.n_train} seen)": add(
            with_mfe(random.Random(a.seed).sample(pool, min(a.n_train, len(pool))), cache)
        ),
        f"validation ({len(val)} unseen)": add(val),
    }
    if a.hide_sequence:
        splits = {
            f"{name}, sequence hidden": [dataclasses.replace(c, seq="N" * len(c.seq)) for c in chs]
            for name, chs in splits.items()
        }
    print("| weights | chains | candidate TM / lDDT | model TM / lDDT | ΔTM | ΔlDDT | s |")
    print("|---|---|---|---|---|---|---|")
    base = {name: candidate_metrics(chs) for name, chs in splits.items()}
    for spec in a.weights:
        net = load_net(spec, a.config)
        for name, chs in splits.items():
            t0 = time.perf_counter()
            out = validate(net, chs, 20, 1, a.seed, 1.0)
            b = base[name]
            print(
                f"| {spec} | {name} | {b['tm']:.3f} / {b['lddt']:.3f} | {out['tm']:.3f} /"
                f" {out['lddt']:.3f} | {out['tm'] - b['tm']:+.3f} | {out['lddt'] - b['lddt']:+.3f}"
                f" | {time.perf_counter() - t0:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
