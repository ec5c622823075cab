"""Export a training run to ``weights/``: released weights, manifest, resumable train state.

``python -m rnapredict.train.export --run runs/small --out weights [--accuracy FILE.json]``

Writes ``weights/model.safetensors`` + ``manifest.json`` (from the run's best validation
checkpoint, else its latest), ``weights/train_state/`` (the latest checkpoint plus the loss
curves, so a later session continues with ``--resume``) and ``weights/MODEL_CARD.md``.
A LoRA run's adapters are merged into the base weights first (rnapredict.train.lora), so the
export loads in the unchanged engine; the manifest records ``lora`` (rank, alpha, init_from).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from rnapredict.data.split import TRAIN_BEFORE, VAL_BEFORE, VAL_FROM
from rnapredict.engine.weights import write_weights
from rnapredict.model.network import ModelConfig, RnaFoldNet
from rnapredict.train.checkpoint import latest_checkpoint
from rnapredict.train.ema import EMA_FILE
from rnapredict.train.lora import LoraConfig, merged_state


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(s) for s in path.read_text().splitlines() if s.strip()]


def export_run(
    run: Path,
    out: Path,
    accuracy: Path | None = None,
    init_sigma: float | None = None,
    source: str = "best",
    notes: Path | None = None,
    model: Path | None = None,
    extra: dict[str, Any] | None = None,
    card: bool = True,
) -> dict[str, Any]:
    """Export ``run`` into ``out`` (overwrites the previous export); returns the manifest.

    ``init_sigma`` (Å) is stored as the engine's default partial-diffusion start from the
    A-form prior (None: full schedule from noise). ``source``: "best" (the best validation
    weights, else the latest) or "latest" (the latest checkpoint's EMA weights when kept,
    else its raw weights).
    """
    if source not in ("best", "latest"):
        raise ValueError(f"source must be 'best' or 'latest', not {source!r}")
    ckpt = latest_checkpoint(run)
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {run}")
    state = json.loads((ckpt / "state.json").read_text())
    best = run / "best"
    if source == "best" and (best / "model.safetensors").exists():
        src, info = best / "model.safetensors", json.loads((best / "best.json").read_text())
        step = info["step"]
    else:
        src, info, step = ckpt / "model.safetensors", {}, state["step"]
        if (ckpt / EMA_FILE).exists():
            src = ckpt / EMA_FILE
    if model is not None:  # e.g. the run's weights with a fine-tuned confidence head
        src = model
    cfg = ModelConfig.from_dict(state["config"]["model"])
    meta = {
        "model_version": f"rnapredict-{state['config_name']}-step{step}",
        "config_name": state["config_name"],
        "step": step,
        "train_hours": round(state["train_seconds"] / 3600, 3),
        "data_cutoff": "2022-05-01",
        "split": {"train": f"released before {TRAIN_BEFORE}",
                  "validation": f"{VAL_FROM} … before {VAL_BEFORE}"},
        "train_ids_sha256": state["train_ids_sha256"],
        "val_ids_sha256": state["val_ids_sha256"],
        "n_train": state["n_train"],
        "n_val": state["n_val"],
        "validation_c1": {k: info[k] for k in ("tm", "lddt", "rmsd") if k in info},
        "inference": {"init_sigma": init_sigma},
        "exported": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
    }  # fmt: skip
    for key, value in (extra or {}).items():  # merged one level deep (e.g. "inference")
        both = isinstance(value, dict) and isinstance(meta.get(key), dict)
        meta[key] = {**meta[key], **value} if both else value
    tensors = {k: v for k, v in load_file(str(src)).items() if not k.startswith("__")}
    if state.get("lora"):
        with torch.random.fork_rng(devices=[]):  # a skeleton: every tensor is loaded over
            skeleton = RnaFoldNet(cfg)
        tensors = merged_state(skeleton, LoraConfig.from_dict(state["lora"]), tensors)
        meta["model_version"] += f"-lora{state['lora']['rank']}"
        meta["lora"] = {
            "rank": state["lora"]["rank"],
            "alpha": state["lora"]["alpha"],
            "init_from": state.get("init_from", {}).get("sha256"),
        }
    manifest = write_weights(out, tensors, cfg, meta, overwrite=True)
    # resumable state: latest checkpoint + curves
    ts = out / "train_state"
    tmp = out / ".train_state.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shutil.copytree(ckpt, tmp / ckpt.name)
    (tmp / "LATEST").write_text(ckpt.name + "\n")
    for name in ("train.jsonl", "val.jsonl"):
        if (run / name).exists():
            shutil.copy2(run / name, tmp / name)
    if best.exists():
        shutil.copytree(best, tmp / "best")
    for f in tmp.rglob("*"):  # committed files: world-readable
        f.chmod(0o755 if f.is_dir() else 0o644)
    shutil.rmtree(ts, ignore_errors=True)
    tmp.rename(ts)
    if card:
        acc = json.loads(accuracy.read_text()) if accuracy is not None else None
        text = model_card(manifest, state, run, acc)
        if notes is not None:  # the release's own selection notes, verbatim
            text += "\n" + notes.read_text()
        (out / "MODEL_CARD.md").write_text(text)
    return manifest


def _curve_rows(rows: list[dict[str, Any]], keys: list[str], n: int = 8) -> list[str]:
    if not rows:
        return ["(none yet)"]
    pick = sorted({round(k * (len(rows) - 1) / max(n - 1, 1)) for k in range(n)})
    head = "| " + " | ".join(["step", "hours", *keys]) + " |"
    lines = [head, "|" + "---|" * (len(keys) + 2)]
    for i in pick:
        r = rows[i]
        vals = [str(r.get(k, "")) for k in keys]
        lines.append(
            "| " + " | ".join([str(r["step"]), str(r.get("train_hours", "")), *vals]) + " |"
        )
    return lines


def model_card(
    manifest: dict[str, Any], state: dict[str, Any], run: Path, acc: dict[str, Any] | None
) -> str:
    """Markdown model card with data, split, training time, curves and validation figures."""
    cfg = manifest["config"]
    train = _jsonl(run / "train.jsonl")
    val = _jsonl(run / "val.jsonl")
    lines = [
        f"# rnapredict model card — {manifest['model_version']}",
        "",
        "## Model",
        "C1′ diffusion model: tokens + secondary structure (given or ViennaRNA MFE) + the A-form",
        "C1′ prior of the geometry module as sparse edge features → sparse residue encoder",
        f"({cfg['trunk']['encoder_layers']} layers, K = {2 * cfg['edges']['window'] + 1 + cfg['edges']['n_graph']}"
        " edges per residue) → Perceiver IO",
        f"({cfg['trunk']['latents']} latents, {cfg['trunk']['latent_layers']} latent layers,"
        " chunked per-residue decoding) → EDM denoiser over C1′",
        f"(E(3)-equivariant message passing, {cfg['denoiser']['layers']} layers, fixed edges +"
        f" {cfg['denoiser']['knn']} nearest neighbours in the noisy coordinates), AF3 Alg. 18",
        "sampler (σ_data 16, s_max 160, s_min 4e-4, p 7, γ0 0.8, γ_min 1, λ 1.003, η 1.5;",
        f"default {cfg['edm']['steps']} steps). Confidence head: pLDDT (50 bins) and a pTM-like",
        "score predicted from the sampled coordinates; `fold` blends both with the samples'",
        "agreement (`rnapredict.pipeline.rank`) and ranks by 0.8·pTM + 0.2·mean pLDDT/100.",
        "All atoms are built from the C1′ trace by `rnapredict.geometry` (ideal nucleotides).",
        f"Parameters: see manifest config; weights file {manifest['bytes'] / 1e6:.1f} MB (float32).",
        "",
        "## Data and split",
        "`../shared/data` (release cutoff 2022-05-01): C1′ coordinates of 454 chains.",
        f"Train: {manifest['n_train']} chains released before {TRAIN_BEFORE}; validation:"
        f" {manifest['n_val']} chains released {VAL_FROM} … {VAL_BEFORE} (exclusive).",
        f"id-list sha256: train `{manifest['train_ids_sha256'][:16]}…`,"
        f" validation `{manifest['val_ids_sha256'][:16]}…`.",
        "Secondary structure for training: PDB-derived annotation where one exists for a train",
        "chain released before 2020 (15 chains), ViennaRNA MFE otherwise; validation uses MFE",
        "(what `fold` does without `--ss`). Crops with a length curriculum"
        f" {state['config']['curriculum']}, random rotations.",
        "Nothing released after the cutoff and no benchmark set was used. The released",
        "checkpoint was selected by validation C1′ TM-score (the only tuning on validation).",
        "",
        "## Training",
        f"{manifest['step']} optimizer steps (released checkpoint), {manifest['train_hours']} h of"
        f" training on 1–2 shared CPU cores over {state['sessions']} training invocation(s);"
        f" batch {state['config']['batch_size']} crops × {state['config']['n_noise']} noise levels,"
        f" AdamW lr {state['config']['lr']}"
        + (
            f", cosine decay to {state['config']['lr_final']} over steps"
            f" {state['config']['lr_decay'][0]}–{state['config']['lr_decay'][1]}"
            if state["config"].get("lr_decay")
            else ""
        )
        + (
            f", EMA of the weights (decay {state['config']['ema_decay']}; the released weights"
            " are the EMA)"
            if state["config"].get("ema_decay")
            else ""
        )
        + ". Losses: EDM-weighted MSE, smooth lDDT,",
        "sparse distogram, C1′ pseudo-torsions, pLDDT and pTM (of the one-step denoised output).",
        *(
            [
                f"Refinement draws (from step {_first_step(train, 'refine_frac')}): a share of"
                f" {state['config']['prior_frac']} of the noise draws start from the A-form prior",
                "superposed on the truth (or a point between the two; the prior's share is capped at"
                f" σ / {state['config'].get('prior_full_sigma', 4.0)} Å) at σ log-uniform in"
                f" {state['config']['prior_sigma']} Å, target the truth, loss weight",
                "1 / (MSE(input, truth) + σ²σ_d²/(σ² + σ_d²)) — the EDM weight when the input is the"
                " truth: the denoiser learns the path that inference takes from the prior.",
            ]
            if state["config"].get("prior_frac")
            else []
        ),
        "",
        "Training loss (running mean per logging interval):",
        "",
        *_curve_rows(train, ["loss", "diffusion", "smooth_lddt", "tm_denoised"]),
        "",
        "Validation during training (model 1 of 1 sample, C1′; TM-score is a Kabsch-refined",
        "approximation, lDDT radius 15 Å; `protocol`: diffusion steps and the σ of the start from",
        "the A-form prior — rows without one are 10 steps from noise, not comparable with the",
        f"others; the A-form prior itself scores TM {AFORM_VAL['tm']}, lDDT {AFORM_VAL['lddt']}"
        " on this measure):",
        "",
        *_curve_rows(val, ["tm", "lddt", "rmsd", "plddt", "plddt_lddt_corr", "protocol"]),
        "",
        "## Validation figures (bench/accuracy.py)",
    ]
    if acc is None:
        lines.append("Not run for this export.")
    else:
        lines += acc.get("markdown", "").splitlines()
    lines += [
        "",
        "## Known limits",
        *_baseline_line(acc),
        "- Trained on C1′ only (454 short chains, ≤ 233 nt, median 30); all-atom detail comes",
        "  from ideal geometry, not from learning. Torsion head is supervised by C1′",
        "  pseudo-angles only.",
        "- Long RNAs (> 233 nt) are outside the training distribution; the model has seen",
        "  crops of at most the curriculum length. Expect A-form-like helices and weak tertiary",
        "  structure; pLDDT is calibrated only on the training distribution.",
        "- Early release trained for little CPU time; later sessions continue from",
        "  `weights/train_state/`.",
    ]
    return "\n".join(lines) + "\n"


# the A-form-from-MFE prior on the same measure as the validation rows (44 chains; computed
# with train.validate.c1_metrics on the prior itself)
AFORM_VAL = {"tm": 0.123, "lddt": 0.600}


def _first_step(rows: list[dict[str, Any]], key: str) -> int | str:
    return next((r["step"] for r in rows if key in r), "?")


def _baseline_line(acc: dict[str, Any] | None) -> list[str]:
    if not acc or "all" not in acc.get("summary", {}):
        return []
    m = acc["summary"]["all"]
    verdict = "beats" if m["tm_best"] > m["aform_tm"] else "does NOT yet beat"
    return [
        f"- On validation this release {verdict} the A-form-from-SS baseline on mean",
        f"  best-of-5 C1′ TM-score ({m['tm_best']:.3f} vs {m['aform_tm']:.3f}).",
        "- Sampling starts from the A-form prior noised to σ = manifest `inference.init_sigma`",
        "  (partial diffusion; chosen on validation); None means the full AF3 schedule from noise.",
    ]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m rnapredict.train.export")
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--out", type=Path, default=Path("weights"))
    p.add_argument("--accuracy", type=Path, default=None, help="JSON from bench/accuracy.py")
    p.add_argument("--init-sigma", type=float, default=None, help="partial diffusion start, Å")
    p.add_argument(
        "--source", choices=("best", "latest"), default="best",
        help="best validation weights, or the latest checkpoint (its EMA weights when kept)",
    )  # fmt: skip
    p.add_argument("--notes", type=Path, default=None, help="markdown appended to the card")
    p.add_argument(
        "--model", type=Path, default=None,
        help="safetensors to ship instead of the run's (same network; e.g. confidence_ft fit)",
    )  # fmt: skip
    p.add_argument(
        "--extra", type=Path, default=None,
        help="JSON object merged into the manifest (one level deep, e.g. inference settings)",
    )  # fmt: skip
    p.add_argument(
        "--keep-card", action="store_true", help="keep OUT/MODEL_CARD.md (maintained by hand)"
    )
    a = p.parse_args(argv)
    extra = json.loads(a.extra.read_text()) if a.extra is not None else None
    m = export_run(
        a.run, a.out, a.accuracy, a.init_sigma, a.source, a.notes, a.model, extra,
        card=not a.keep_card,
    )  # fmt: skip
    print(f"exported {m['model_version']} to {a.out} (sha256 {m['sha256'][:12]}…)")


if __name__ == "__main__":
    main()
