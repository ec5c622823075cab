"""Motif library: loop geometries mined from train-split native chains, matched by topology.

    python -m rnapredict.prior.library build [--data ../shared/data] [-o weights/motif_library.safetensors]
        [--exclude ID ...] [--overwrite]

One instance per loop of a native chain's helix graph (hairpins, internal loops and bulges,
n-way junctions, exterior loops with ≥ 2 stems): child-stem transforms and strand C1′ paths
in the loop's frame (:mod:`rnapredict.prior.motifs`), with provenance (PDB id, chain,
1-based residue span, release date). Pseudoknot stems and kissing loops are mined alongside
(:mod:`rnapredict.prior.pkmotif`, ``.pk``) and bounded by the same cutoff and exclusions. Only chains released before 2020-01-01 are mined.
Stored as safetensors (arrays) + JSON metadata; loading never unpickles. Same data → same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from safetensors.numpy import load as st_load

from rnapredict.assets import default_weights_dir, read_asset, record_asset, write_file
from rnapredict.data import default_data_dir
from rnapredict.data.cutoff import StructureCutoff
from rnapredict.data.split import TRAIN_BEFORE
from rnapredict.errors import WeightsError
from rnapredict.prior.helixgraph import helix_graph
from rnapredict.prior.instances import (
    FORMAT,
    Instance,
    MotifLibrary,
    library_meta,
    loop_kind,
    loop_seq,
    query_lengths,
)
from rnapredict.prior.motifs import LoopGeom, measure_loop, strand_bounds
from rnapredict.prior.natives import NativeChain, load_native_chains
from rnapredict.prior.pkmotif import PkInstance, PkLibrary, mine_pk

LIBRARY_FILE = "motif_library.safetensors"
#: Worst stem-end fit (Å) for an instance to be kept: larger means the SS does not fit the 3D.
MAX_FIT_RMSD = 2.0
#: Longest C1′–C1′ step (Å) inside an instance: longer is a chain break (natives reach ~11).
MAX_STEP = 12.0
KINDS = ("hairpin", "internal", "junction", "exterior")


def mine_chain(chain: NativeChain) -> list[tuple[Instance, LoopGeom]]:
    """Library instances of one native chain (its loops whose geometry fits the SS)."""
    graph = helix_graph(chain.ss)
    if not graph.stems:
        return []
    steps = np.linalg.norm(np.diff(chain.coords, axis=0), axis=-1)
    out = []
    for loop, lp in enumerate(graph.loops):
        kind = loop_kind(lp.kind)
        if kind == "exterior" and len(lp.children) < 2:
            continue
        geom = measure_loop(graph, chain.coords, loop)
        if geom.fit_rmsd > MAX_FIT_RMSD:
            continue
        bounds = strand_bounds(graph, loop)
        if kind == "exterior":
            bounds = bounds[1:-1]
            geom = LoopGeom(geom.transforms, geom.strands[1:-1], geom.fit_rmsd)
            lo, hi = graph.stems[lp.children[0]].i, graph.stems[lp.children[-1]].j
        else:
            st = graph.stems[lp.parent]
            lo, hi = st.inner
        if hi > lo and steps[lo:hi].max() > MAX_STEP:
            continue
        inst = Instance(
            kind,
            query_lengths(graph, loop),
            loop_seq(graph, chain.seq, loop),
            chain.id,
            (lo + 1, hi + 1),
            chain.release_date,
            round(geom.fit_rmsd, 3),
        )
        out.append((inst, geom))
    return out


def from_chains(chains: list[NativeChain], exclude_ids: set[str] | None = None) -> MotifLibrary:
    """Library of the train chains (released before 2020-01-01) not in ``exclude_ids``."""
    ex = {e.upper() for e in exclude_ids or ()}
    instances, geoms = [], []
    used = []
    pk: list[PkInstance] = []
    for ch in sorted(chains, key=lambda c: c.id):
        if ch.release_date >= TRAIN_BEFORE or ch.id.upper() in ex or ch.pdb.upper() in ex:
            continue
        used.append(ch.id)
        for inst, geom in mine_chain(ch):
            instances.append(inst)
            geoms.append(geom)
        pk += mine_pk(helix_graph(ch.ss), ch.seq, ch.coords, ch.id, ch.release_date)
    return MotifLibrary(instances, geoms, library_meta(used), PkLibrary(pk))


def build_library(data_dir: Path, exclude_ids: set[str] | None = None) -> MotifLibrary:
    """Mine ``data_dir`` (``../shared/data``) train chains, leaving out ``exclude_ids``.

    ``exclude_ids``: ``PDB_CHAIN`` (one chain) or ``PDB`` (a whole entry), case-insensitive.
    """
    return from_chains(load_native_chains(Path(data_dir), ("train",)), exclude_ids)


def to_bytes(lib: MotifLibrary) -> bytes:
    """safetensors bytes of ``lib`` (deterministic)."""
    tr = [g.transforms for g in lib.geoms]
    pts = [p for g in lib.geoms for p in g.strands]
    arrays = {
        "transforms": np.concatenate(tr).astype(np.float32)
        if tr
        else np.zeros((0, 4, 4), np.float32),
        "points": np.concatenate(pts).astype(np.float32) if pts else np.zeros((0, 3), np.float32),
    }
    rows = [
        [i.kind, list(i.lengths), i.seq, i.id, list(i.residues), i.release_date, i.fit_rmsd]
        for i in lib.instances
    ]
    meta = dict(lib.meta)
    meta["instances"] = json.dumps(rows, separators=(",", ":"))
    if len(lib.pk):  # absent from libraries without pseudoknot instances (same bytes as before)
        pk = lib.pk.instances
        arrays["pk_transforms"] = np.stack([i.transform for i in pk])
        arrays["pk_points"] = np.concatenate([p for i in pk for p in i.points])
        pk_rows = [
            [i.case, i.anchor5, i.pairs, list(i.lengths), list(i.offsets), i.seq, i.id,
             list(i.residues), i.release_date]
            for i in pk
        ]  # fmt: skip
        meta["pk_instances"] = json.dumps(pk_rows, separators=(",", ":"))
    return _safetensors_bytes(arrays, meta)


def _safetensors_bytes(arrays: dict[str, np.ndarray], meta: dict[str, str]) -> bytes:
    """safetensors with a sorted header (the library's writer orders metadata at random)."""
    header: dict[str, object] = {"__metadata__": meta}
    blobs, offset = [], 0
    for name in sorted(arrays):
        blob = np.ascontiguousarray(arrays[name], dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(arrays[name].shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(blobs)


def from_bytes(data: bytes, source: str = "<bytes>") -> MotifLibrary:
    """Inverse of :func:`to_bytes` (WeightsError when the data is not a library)."""
    try:
        arrays = st_load(data)
        n = int.from_bytes(data[:8], "little")
        meta = json.loads(data[8 : 8 + n])["__metadata__"]
        rows = json.loads(meta.pop("instances"))
        tr_all, pts_all = (
            arrays["transforms"].astype(np.float64),
            arrays["points"].astype(np.float64),
        )
        pk = _pk_from(json.loads(meta.pop("pk_instances", "[]")), arrays)
    except Exception as err:  # noqa: BLE001 - any decoding failure is a bad file
        raise WeightsError(f"not a motif library: {err}", file=source) from None
    if meta.get("format") != FORMAT:
        raise WeightsError(f"motif library format {meta.get('format')!r} unknown", file=source)
    instances, geoms = [], []
    t = p = 0
    for kind, lengths, seq, cid, res, date, rms in rows:
        inst = Instance(kind, tuple(lengths), seq, cid, (res[0], res[1]), date, rms)
        n_child = len(lengths) - 1 if kind != "exterior" else len(lengths) + 1
        strands = []
        for m in lengths:
            strands.append(pts_all[p : p + m + 2])
            p += m + 2
        geoms.append(LoopGeom(tr_all[t : t + n_child], tuple(strands), rms))
        t += n_child
        instances.append(inst)
    return MotifLibrary(instances, geoms, meta, pk)


def _pk_from(rows: list[list[object]], arrays: dict[str, np.ndarray]) -> PkLibrary:
    """Pseudoknot instances stored by :func:`to_bytes` (none in older libraries)."""
    if not rows:
        return PkLibrary([])
    tr = arrays["pk_transforms"].astype(np.float64)
    pts = arrays["pk_points"].astype(np.float64)
    out, p = [], 0
    for k, (case, a5, n, lengths, offsets, seq, cid, res, date) in enumerate(rows):
        strands = []
        for m in lengths:  # type: ignore[union-attr]
            strands.append(pts[p : p + m + 2])
            p += m + 2
        out.append(
            PkInstance(str(case), bool(a5), int(n), tuple(lengths), tuple(offsets), str(seq),
                       str(cid), (res[0], res[1]), str(date), tr[k], (strands[0], strands[1]))
        )  # type: ignore[arg-type, index]  # fmt: skip
    return PkLibrary(out)


def save_library(lib: MotifLibrary, path: Path, overwrite: bool = False) -> str:
    """Write ``lib`` to ``path`` (temp + rename, world-readable); returns its sha256."""
    return write_file(path, to_bytes(lib), overwrite=overwrite)["sha256"]


def load_library(path: Path) -> MotifLibrary:
    """Library saved by :func:`save_library` (safetensors + JSON; never unpickled)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError("no motif library", file=str(path))
    return from_bytes(path.read_bytes(), str(path))


@cache
def default_library() -> MotifLibrary | None:
    """The shipped library in the weights directory, verified against ``manifest.json``.

    None when the weights directory has no library entry (the assembly then uses its
    fallback rules only); a listed library that is missing or altered is a WeightsError
    (:mod:`rnapredict.assets`).
    """
    found = read_asset(default_weights_dir(), "motif_library")
    return None if found is None else from_bytes(found[1], str(found[0]))


@lru_cache(maxsize=8)
def fold_library(cutoff: StructureCutoff) -> MotifLibrary | None:
    """The shipped library less what ``cutoff`` excludes (cached: a batch shares one date,
    and records of one entry share a library)."""
    lib = default_library()
    return None if lib is None else lib.restricted(cutoff)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnapredict.prior.library")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="mine the train split into a motif library")
    b.add_argument("--data", type=Path, default=default_data_dir())
    b.add_argument("-o", "--out", type=Path, default=default_weights_dir() / LIBRARY_FILE)
    b.add_argument("--exclude", nargs="*", default=[], help="PDB_CHAIN or PDB ids to leave out")
    b.add_argument("--overwrite", action="store_true")
    b.add_argument(
        "--manifest", action="store_true", help="record file and sha256 in OUT's manifest.json"
    )
    a = p.parse_args(argv)
    lib = build_library(a.data, set(a.exclude))
    digest = save_library(lib, a.out, overwrite=a.overwrite)
    if a.manifest:
        record_asset(a.out, "motif_library", train_before=TRAIN_BEFORE)
    kinds = {k: sum(1 for i in lib.instances if i.kind == k) for k in KINDS}
    kinds["pseudoknot"] = len(lib.pk)
    print(
        f"{a.out}: {len(lib)} instances from {len(json.loads(lib.meta['chain_ids']))} chains {kinds}"
    )
    print(f"sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
