"""``python -m rnapredict.train --config small --out runs/small [--resume]``.

Fine-tuning: ``--init-from weights --lora-rank 8 [--lora-alpha 16]`` (see rnapredict.train.lora).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnapredict.data import default_data_dir
from rnapredict.train.configs import CONFIGS
from rnapredict.train.loop import RunOptions, train

DEFAULT_DATA = default_data_dir()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m rnapredict.train", description=__doc__)
    p.add_argument("--config", required=True, choices=sorted(CONFIGS))
    p.add_argument("--out", type=Path, required=True, help="run directory (checkpoints, logs)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="../shared/data")
    p.add_argument("--resume", action="store_true", help="continue from OUT/LATEST")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--val-minutes", type=float, default=12.0)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--val-limit", type=int, default=None, help="validate on the first N chains")
    p.add_argument(
        "--init-from", type=Path, default=None,
        help="start from released weights (manifest.json + safetensors) of the same model",
    )  # fmt: skip
    p.add_argument(
        "--lora-rank", type=int, default=None,
        help="train only rank-R LoRA adapters on the trunk, denoiser and confidence layers",
    )  # fmt: skip
    p.add_argument("--lora-alpha", type=float, default=None, help="LoRA scale alpha/R (default R)")
    a = p.parse_args(argv)
    train(
        RunOptions(
            config=a.config, out=a.out, data=a.data, resume=a.resume, seed=a.seed,
            max_minutes=a.max_minutes, max_steps=a.max_steps, threads=a.threads,
            ckpt_minutes=a.ckpt_minutes, val_minutes=a.val_minutes, log_every=a.log_every,
            val_limit=a.val_limit, init_from=a.init_from, lora_rank=a.lora_rank,
            lora_alpha=a.lora_alpha,
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
