"""Training/validation chains from ``../shared/data`` and random crops for batches.

Split policy (``../shared/data/README.md``): train = released before 2020-01-01, validation =
2020-01-01 … 2022-04-30; nothing else is ever read. Secondary structure per chain: the
PDB-derived annotation when one exists for a train chain and matches its sequence, otherwise
ViennaRNA MFE (cached in a JSON file so it is computed once). Validation chains always use MFE,
as the engine does at inference.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnapredict.data.allatom import allatom_rows, chain_with_c1, read_entry
from rnapredict.data.c1 import c1_rows, read_c1_coords
from rnapredict.data.pdb_ss import PdbSS, native_ss, pdb_ss_table
from rnapredict.data.split import TRAIN_BEFORE
from rnapredict.data.sscache import SSCache
from rnapredict.features.edges import EdgeConfig
from rnapredict.features.featurize import Features, collate, featurize_arrays
from rnapredict.features.secondary import partner_array
from rnapredict.io.structure import RnaStructure
from rnapredict.model.diffusion import random_rotation
from rnapredict.train.secondary import TRAIN_VIENNA


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


def _annotated_ss(row: dict[str, str], pdb: dict[str, PdbSS]) -> str | None:
    """PDB-derived SS of a train chain released before the train cutoff, if it fits."""
    if row["split"] != "train":
        return None
    ss = native_ss(row, row["sequence"], pdb, before=TRAIN_BEFORE)
    if ss is None:
        return None
    try:
        partner_array(ss)
    except Exception:
        return None
    return ss


SOURCES = ("c1", "allatom")


def load_chains(
    data_dir: Path,
    split: str,
    ss_cache: Path | None = None,
    sources: tuple[str, ...] = ("c1",),
) -> list[Chain]:
    """Chains of one split, ordered by target id (c1 first, then allatom).

    Args:
        data_dir: ``../shared/data``.
        split: ``train`` or ``validation``.
        ss_cache: JSON file caching ViennaRNA MFE and annotated structures.
        sources: ``c1`` (C1′-only chains) and/or ``allatom`` (C1′ taken from all-atom
            entries; train chains get the base pairs annotated in 3D by
            :func:`rnapredict.score.basepairs.structure_dot_bracket`).
    """
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown data sources {sorted(unknown)}")
    chains: list[Chain] = []
    if "c1" in sources:
        chains += _load_c1(data_dir, split, ss_cache)
    if "allatom" in sources:
        chains += load_allatom_chains(data_dir, split, ss_cache)
    return chains


def allatom_c1(path: Path, chain: str) -> tuple[str, np.ndarray, str]:
    """(sequence, C1′ [L, 3] Å, 3D-annotated dot-bracket) of one chain of an all-atom file."""
    from rnapredict.io.pdbio import read_structure

    return _c1_and_pairs(chain_with_c1(read_structure(path), chain))


def _c1_and_pairs(st: RnaStructure) -> tuple[str, np.ndarray, str]:
    from rnapredict.score.basepairs import structure_dot_bracket

    xyz, _ = st.atom_coords("C1'")
    return st.seq, np.asarray(xyz, dtype=np.float32), structure_dot_bracket(st)


def load_allatom_chains(data_dir: Path, split: str, ss_cache: Path | None = None) -> list[Chain]:
    """All-atom chains of one split as C1′ chains (id ``ENTRY_CHAIN``), ordered by id.

    Train chains use the base pairs annotated in 3D (``ss_source`` ``pdb``); validation chains
    use ViennaRNA MFE, as the engine does at inference.
    """
    rows = allatom_rows(data_dir, split)
    cache = SSCache(ss_cache, TRAIN_VIENNA)
    chains = []
    entry, model = None, None
    for r in sorted(rows, key=lambda r: (r["entry"], r["chain"])):
        cid = f"{r['entry']}_{r['chain']}"
        if r["entry"] != entry:  # one read per entry, not per chain
            entry = r["entry"]
            model = read_entry(data_dir, entry)
        seq, xyz, native = _c1_and_pairs(chain_with_c1(model, r["chain"]))
        if len(seq) < 2:
            continue
        # The sequence is the product reader's (parent bases of every residue with a C1′);
        # chains.csv differs by a residue or two on ~20 chains (modified/alt residues).
        ss, source = (native, "pdb") if split == "train" else (cache(seq), "vienna")
        chains.append(Chain(cid, seq, xyz, ss, source, r["release_date"]))
    cache.save()
    return chains


def _load_c1(data_dir: Path, split: str, ss_cache: Path | None = None) -> list[Chain]:
    """C1′ chains of ``c1/`` in one split, ordered by target id."""
    rows = c1_rows(data_dir, split)
    coords = read_c1_coords(data_dir, {r["target_id"] for r in rows})
    cache = SSCache(ss_cache, TRAIN_VIENNA)
    pdb = pdb_ss_table(data_dir)
    chains = []
    for r in sorted(rows, key=lambda r: r["target_id"]):
        seq = r["sequence"].upper()
        xyz = coords[r["target_id"]]
        assert len(xyz) == len(seq), r["target_id"]
        ss = _annotated_ss(r, pdb)
        source = "pdb"
        if ss is None:
            ss, source = cache(seq), "vienna"
        chains.append(Chain(r["target_id"], seq, xyz, ss, source, r["release_date"]))
    cache.save()
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


def with_mfe(chains: list[Chain], ss_cache: Path | None = None) -> list[Chain]:
    """The chains with their ViennaRNA MFE structure (prior dropped: recompute it after)."""
    cache = SSCache(ss_cache, TRAIN_VIENNA)
    out = []
    for c in chains:
        if c.ss_source == "vienna":
            out.append(c)
            continue
        out.append(dataclasses.replace(c, ss=cache(c.seq), ss_source="vienna", prior=None))
    cache.save()
    return out


PRIOR_SOURCES = ("aform", "assembly")


def with_assembled_priors(
    chains: list[Chain], library: object, families: dict[str, frozenset[str]], seed: int = 0
) -> list[Chain]:
    """The chains with an assembled C1′ prior, as ``fold`` builds it for a new RNA.

    Each chain's candidate comes from :func:`rnapredict.prior.assembly.assemble` (first
    alternative) on its own structure, with the motif library less the chain's sequence family
    (``families[id]``), so training sees the errors the assembly makes on unseen RNAs.

    Args:
        library: :class:`rnapredict.prior.library.MotifLibrary` (train split only).
        families: chain id → family ids (:func:`rnapredict.data.families.families`).
        seed: candidate choice seed (per chain: derived from it and the chain id).
    """
    from rnapredict.pipeline.api import record_seed
    from rnapredict.prior.assembly import assemble

    out = []
    for c in chains:
        lib = library.without(families.get(c.id, frozenset({c.id})))  # type: ignore[attr-defined]
        gen = torch.Generator().manual_seed(record_seed(seed, c.id))
        cand = assemble(c.seq, c.ss, gen, 1, lib, c.ss_source)[0]
        out.append(dataclasses.replace(c, prior=cand.coords.astype(np.float32)))
    return out


def pick_chains(
    chains: list[Chain],
    alt: list[Chain] | None,
    index: list[int],
    alt_frac: float,
    generator: torch.Generator,
) -> list[Chain]:
    """``chains[i]`` for each index, or ``alt[i]`` with probability ``alt_frac``."""
    if alt is None or alt_frac <= 0:
        return [chains[i] for i in index]
    draws = torch.rand(len(index), generator=generator).tolist()
    return [alt[i] if u < alt_frac else chains[i] for i, u in zip(index, draws, strict=True)]


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
    chains: list[Chain],
    crop_len: int,
    edges: EdgeConfig,
    generator: torch.Generator,
    seq_mask: float = 0.0,
) -> Batch:
    """Crop, featurize, centre and randomly rotate a list of chains.

    ``seq_mask``: probability that a chain's nucleotides are hidden (all ``N``) from the
    features, so the network must work from the structure and its prior alone (no draws are
    taken from ``generator`` when 0, so older runs replay unchanged).
    """
    items, xyz = [], []
    hide = (
        (torch.rand(len(chains), generator=generator) < seq_mask).tolist()
        if seq_mask > 0
        else [False] * len(chains)
    )
    for ch, masked in zip(chains, hide, strict=True):
        seq, partner, c, prior = crop(ch, crop_len, generator)
        if masked:
            seq = "N" * len(seq)
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
