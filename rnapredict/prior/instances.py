"""Motif library instances and their index: what an instance is, and how a query loop is
matched to instances (kind, strand lengths, sequence).

The mining of train chains and the asset file live in :mod:`rnapredict.prior.library`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from rnapredict.data.cutoff import StructureCutoff, entry_ids
from rnapredict.data.split import TRAIN_BEFORE
from rnapredict.prior.helixgraph import HelixGraph
from rnapredict.prior.motifs import LoopGeom, strand_bounds
from rnapredict.prior.pkmotif import PkLibrary

#: Library file format (safetensors metadata ``format``).
FORMAT = "1"


@dataclass(frozen=True)
class LibraryConfig:
    """How query loops are matched to instances.

    Attributes:
        len_weight: score lost per nucleotide of strand-length difference.
        seq_weight: score gained at full sequence identity of the loop strands (+ flanks).
        max_len_frac: allowed per-strand length difference, fraction of the query strand
            (at least 1 nt).
        temperature: softmax temperature of the score when sampling alternatives.
        nearest: when nothing is within ``max_len_frac``, match the instances of the same
            kind and strand count with the smallest total length difference (up to
            ``nearest_slack`` nt more than the best) instead of falling back.
    """

    len_weight: float = 1.0
    seq_weight: float = 5.0
    max_len_frac: float = 0.3
    temperature: float = 1.0
    nearest: bool = True
    nearest_slack: int = 2


def loop_kind(kind: str) -> str:
    """Library kind of a helix-graph loop kind (bulges and stacks are internal loops)."""
    return "internal" if kind in ("bulge", "stack") else kind


def loop_seq(graph: HelixGraph, seq: str, loop: int) -> str:
    """Strands of a loop with their flanking bases, ``&``-joined (exterior: inner linkers)."""
    lp = graph.loops[loop]
    parts = [
        seq[a] + "".join(seq[k] for k in s) + seq[b]
        for s, (a, b) in zip(lp.strands, strand_bounds(graph, loop), strict=True)
    ]
    return "&".join(parts[1:-1] if lp.parent < 0 else parts)


def query_lengths(graph: HelixGraph, loop: int) -> tuple[int, ...]:
    """Strand lengths a loop is matched on (exterior: inner linkers only)."""
    lp = graph.loops[loop]
    return lp.lengths[1:-1] if lp.parent < 0 else lp.lengths


@dataclass(frozen=True)
class Instance:
    """Provenance and key of one library instance."""

    kind: str
    lengths: tuple[int, ...]
    seq: str
    id: str
    residues: tuple[int, int]
    release_date: str
    fit_rmsd: float

    def info(self) -> dict[str, object]:
        pdb, _, chain = self.id.partition("_")
        return {
            "type": self.kind,
            "pdb": pdb,
            "chain": chain,
            "residues": f"{self.residues[0]}-{self.residues[1]}",
            "release_date": self.release_date,
        }


class MotifLibrary:
    """Instances with their geometries, indexed by (kind, number of strands); ``pk``: the
    pseudoknot / kissing-loop instances."""

    def __init__(
        self,
        instances: list[Instance],
        geoms: list[LoopGeom],
        meta: dict[str, str],
        pk: PkLibrary | None = None,
    ):
        self.instances = instances
        self.geoms = geoms
        self.meta = meta
        self.pk = pk if pk is not None else PkLibrary([])
        self._index: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        groups: dict[tuple[str, int], list[int]] = {}
        for k, inst in enumerate(instances):
            groups.setdefault((inst.kind, len(inst.lengths)), []).append(k)
        for key, ids in groups.items():
            lens = np.array([instances[k].lengths for k in ids], dtype=np.int64)
            self._index[key] = (np.asarray(ids, dtype=np.int64), lens.reshape(len(ids), key[1]))

    def __len__(self) -> int:
        return len(self.instances)

    def without(self, exclude_ids: set[str] | frozenset[str]) -> MotifLibrary:
        """The library less every instance of the given ``PDB_CHAIN`` or ``PDB`` ids."""
        ex = {e.upper() for e in exclude_ids}

        def kept(cid: str) -> bool:
            return cid.upper() not in ex and cid.split("_")[0].upper() not in ex

        keep = [k for k, inst in enumerate(self.instances) if kept(inst.id)]
        chains = [c for c in json.loads(self.meta.get("chain_ids", "[]")) if kept(c)]
        pk = self.pk.subset(np.flatnonzero([kept(i.id) for i in self.pk.instances]))
        return MotifLibrary(
            [self.instances[k] for k in keep],
            [self.geoms[k] for k in keep],
            library_meta(chains),
            pk,
        )

    def restricted(self, cutoff: StructureCutoff) -> MotifLibrary:
        """The library less every instance ``cutoff`` excludes (released on or after its date,
        or of the query's PDB entry); ``self`` when nothing is excluded."""
        if not cutoff.active:
            return self
        ok = cutoff.allowed(
            entry_ids(i.id for i in self.instances), [i.release_date for i in self.instances]
        )
        pk = self.pk.instances
        pk_ok = cutoff.allowed(entry_ids(i.id for i in pk), [i.release_date for i in pk])
        keep = np.flatnonzero(ok)
        return MotifLibrary(
            [self.instances[k] for k in keep],
            [self.geoms[k] for k in keep],
            self.meta,
            self.pk.subset(np.flatnonzero(pk_ok)),
        )

    def match(
        self, kind: str, lengths: tuple[int, ...], seq: str, cfg: LibraryConfig = LibraryConfig()
    ) -> tuple[np.ndarray, np.ndarray]:
        """Instances fitting a query loop, best first: (indices [M], scores [M])."""
        hit = self._index.get((kind, len(lengths)))
        if hit is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        ids, lens = hit
        q = np.asarray(lengths, dtype=np.int64)
        diff = np.abs(lens - q)
        allowed = np.maximum(1, np.floor(cfg.max_len_frac * q))
        ok = (diff <= allowed).all(axis=1)
        if (
            not ok.any() and cfg.nearest
        ):  # no close match: the nearest topologies still beat a flat layout
            total = diff.sum(axis=1)
            limit = max(4.0, 0.5 * q.sum())  # beyond this a resampled path is meaningless
            ok = (total <= total.min() + cfg.nearest_slack) & (total <= limit)
        ids, diff = ids[ok], diff[ok]
        if not len(ids):
            return ids, np.zeros(0)
        ident = np.array([identity(seq, self.instances[k].seq) for k in ids])
        score = -cfg.len_weight * diff.sum(axis=1) + cfg.seq_weight * ident
        order = np.lexsort((ids, -score))
        return ids[order], score[order]


def identity(a: str, b: str) -> float:
    """Fraction of equal letters, strand by strand over the common length (0 … 1)."""
    same = total = 0
    for x, y in zip(a.split("&"), b.split("&"), strict=False):
        m = min(len(x), len(y))
        same += sum(1 for p in range(m) if x[p] == y[p])
        total += max(len(x), len(y))
    return same / total if total else 1.0


def library_meta(chain_ids: list[str]) -> dict[str, str]:
    """Library metadata: format, train cutoff and the mined chain ids (sorted)."""
    return {
        "format": FORMAT,
        "train_before": TRAIN_BEFORE,
        "chain_ids": json.dumps(sorted(chain_ids), separators=(",", ":")),
    }
