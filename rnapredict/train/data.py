"""Training/validation chains from ``../shared/data`` and random crops for batches.

Split policy (``../shared/data/README.md``): train = released before 2020-01-01, validation =
2020-01-01 … 2022-04-30; nothing else is ever read. Secondary structure per chain: the
PDB-derived annotation when one exists for a train chain and matches its sequence, otherwise
ViennaRNA MFE (cached in a JSON file so it is computed once). Validation chains always use MFE,
as the engine does at inference.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnapredict.features.edges import EdgeConfig
from rnapredict.features.featurize import Features, collate, featurize_arrays
from rnapredict.features.secondary import partner_array, predict_ss
from rnapredict.io.atomic import atomic_write_text
from rnapredict.model.diffusion import random_rotation

TRAIN_BEFORE = "2020-01-01"
VAL_FROM, VAL_BEFORE = "2020-01-01", "2022-05-01"


@dataclass(frozen=True)
class Chain:
    """One chain with C1′ coordinates [L, 3] (Å) and the secondary structure used for it."""

    id: str
    seq: str
    coords: np.ndarray
    ss: str
    ss_source: str
    release_date: str
    prior: np.ndarray | None = None


def _in_split(row: dict[str, str], split: str) -> bool:
    date = row["release_date"]
    if split == "train":
        return row["split"] == "train" and date < TRAIN_BEFORE
    if split == "validation":
        return row["split"] == "validation" and VAL_FROM <= date < VAL_BEFORE
    raise ValueError(f"unknown split {split!r}")


def _pdb_ss(data_dir: Path) -> dict[str, tuple[str, str, str]]:
    """pdb_chain (lower case) → (sequence, dot-bracket, release date), PDB-derived."""
    path = data_dir / "secondary" / "pdb_dot_bracket.csv"
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {
            r["pdb_chain"].lower(): (r["sequence"], r["dot_bracket"], r["release_date"])
            for r in csv.DictReader(fh)
        }


def _annotated_ss(row: dict[str, str], pdb: dict[str, tuple[str, str, str]]) -> str | None:
    """PDB-derived SS of a train chain released before the train cutoff, if it fits."""
    if row["split"] != "train":
        return None
    if row.get("dot_bracket_pdb"):
        if len(row["dot_bracket_pdb"]) == len(row["sequence"]):
            return row["dot_bracket_pdb"]
    hit = pdb.get(row["target_id"].lower())
    if hit is None or hit[2] >= TRAIN_BEFORE:
        return None
    seq, ss, _ = hit
    keep = [k for k, ch in enumerate(seq) if ch != "-"]
    if "".join(seq[k] for k in keep).upper() != row["sequence"].upper():
        return None
    ss = "".join(ss[k] for k in keep)
    try:
        partner_array(ss)
    except Exception:
        return None
    return ss


def load_chains(data_dir: Path, split: str, ss_cache: Path | None = None) -> list[Chain]:
    """Chains of one split, ordered by target id.

    Args:
        data_dir: ``../shared/data``.
        split: ``train`` or ``validation``.
        ss_cache: JSON file caching ViennaRNA MFE structures by sequence.
    """
    with (data_dir / "c1" / "sequences.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if _in_split(r, split)]
    wanted = {r["target_id"] for r in rows}
    coords: dict[str, list[tuple[int, float, float, float]]] = {}
    with (data_dir / "c1" / "coords.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            tid = r["ID"].rsplit("_", 1)[0]
            if tid in wanted:
                coords.setdefault(tid, []).append(
                    (int(r["resid"]), float(r["x"]), float(r["y"]), float(r["z"]))
                )
    cache: dict[str, str] = {}
    if ss_cache is not None and ss_cache.exists():
        cache = json.loads(ss_cache.read_text())
    n_cached = len(cache)
    pdb = _pdb_ss(data_dir)
    chains = []
    for r in sorted(rows, key=lambda r: r["target_id"]):
        seq = r["sequence"].upper()
        xyz = np.array([c[1:] for c in sorted(coords[r["target_id"]])], dtype=np.float32)
        assert len(xyz) == len(seq), r["target_id"]
        ss = _annotated_ss(r, pdb)
        source = "pdb"
        if ss is None:
            if seq not in cache:
                cache[seq] = predict_ss(seq)
            ss, source = cache[seq], "vienna"
        chains.append(Chain(r["target_id"], seq, xyz, ss, source, r["release_date"]))
    if ss_cache is not None and len(cache) > n_cached:
        ss_cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(ss_cache, json.dumps(cache, sort_keys=True), overwrite=True)
    return chains


def ids_hash(chains: list[Chain]) -> str:
    """sha256 of the sorted chain ids joined by newlines."""
    return hashlib.sha256("\n".join(sorted(c.id for c in chains)).encode()).hexdigest()


@dataclass
class Batch:
    """A training batch.

    Attributes:
        features: B chains (crops), padded.
        coords: [B, L, 3] true C1′ (centred, randomly rotated), Å.
        ids: chain ids.
    """

    features: Features
    coords: torch.Tensor
    ids: list[str]


def with_priors(chains: list[Chain]) -> list[Chain]:
    """The chains with their A-form C1′ prior computed from their SS (full chain, then cropped)."""
    from rnapredict.features.featurize import aform_prior

    return [dataclasses.replace(c, prior=aform_prior(c.seq, c.ss)) for c in chains]


def crop(
    chain: Chain, crop_len: int, generator: torch.Generator
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray | None]:
    """Random contiguous crop: (seq, partner [Lc] re-indexed, -1 outside; coords [Lc, 3];
    prior [Lc, 3] or None)."""
    n = len(chain.seq)
    start = 0
    if n > crop_len:
        start = int(torch.randint(0, n - crop_len + 1, (1,), generator=generator))
    stop = min(n, start + crop_len)
    partner = partner_array(chain.ss)[start:stop] - start
    partner = np.where((partner >= 0) & (partner < stop - start), partner, -1)
    prior = None if chain.prior is None else chain.prior[start:stop]
    return chain.seq[start:stop], partner, chain.coords[start:stop], prior


def make_batch(
    chains: list[Chain], crop_len: int, edges: EdgeConfig, generator: torch.Generator
) -> Batch:
    """Crop, featurize, centre and randomly rotate a list of chains."""
    items, xyz = [], []
    for ch in chains:
        seq, partner, c, prior = crop(ch, crop_len, generator)
        items.append(featurize_arrays(seq, partner, edges, prior))
        c = torch.from_numpy(c - c.mean(0, keepdims=True)).double()
        c = c @ random_rotation(1, generator)[0].T
        xyz.append(c.float())
    f = collate(items)
    coords = torch.zeros(len(chains), f.length, 3)
    for b, c in enumerate(xyz):
        coords[b, : len(c)] = c
    return Batch(f, coords, [c.id for c in chains])


class BatchSampler:
    """Epoch-wise shuffled chain order with resumable state (permutation + position)."""

    def __init__(self, n: int, batch_size: int) -> None:
        self.n, self.batch_size = n, batch_size
        self.perm: list[int] = []
        self.pos = 0
        self.epoch = 0

    def next_indices(self, generator: torch.Generator) -> list[int]:
        out: list[int] = []
        while len(out) < self.batch_size:
            if self.pos >= len(self.perm):
                self.perm = torch.randperm(self.n, generator=generator).tolist()
                self.pos = 0
                self.epoch += 1
            out.append(self.perm[self.pos])
            self.pos += 1
        return out

    def state(self) -> dict[str, object]:
        return {"perm": self.perm, "pos": self.pos, "epoch": self.epoch}

    def load(self, state: dict) -> None:
        self.perm, self.pos, self.epoch = (
            list(state["perm"]),
            int(state["pos"]),
            int(state["epoch"]),
        )
