"""Native chains of ``../shared/data`` with C1′ traces and their own secondary structures.

Used to mine the motif library and as bench references. Secondary structure per chain, first
that applies (recorded as ``ss_source``):

- ``annotated``: allatom chains, canonical pairs found by :mod:`rnapredict.score.basepairs`;
- ``pdb``: c1 chains with ``dot_bracket_pdb`` or a matching ``secondary/pdb_dot_bracket.csv`` row;
- ``c1geom``: c1 chains otherwise, pairs inferred from the C1′ trace (:func:`infer_pairs_c1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from rnapredict.data.allatom import allatom_rows, chain_with_c1, entry_path, read_entry
from rnapredict.data.c1 import c1_rows, read_c1_coords
from rnapredict.data.pdb_ss import native_ss, pdb_ss_table
from rnapredict.data.split import row_split, split_of
from rnapredict.io.secondary import pairs_from_list, to_dot_bracket
from rnapredict.prior.motifs import kabsch, stem_local
from rnapredict.score.basepairs import structure_dot_bracket

_CAN_PAIR = {"AU", "UA", "GC", "CG", "GU", "UG"}
#: Window of C1′–C1′ distances (Å) across a canonical pair considered when inferring pairs.
PAIR_DIST = (9.3, 11.6)
#: Largest RMSD (Å) of two stacked pairs to the ideal A-form 2-bp step to accept both.
STACK_RMSD = 1.3


@dataclass(frozen=True)
class NativeChain:
    """One chain: id ``PDB_CHAIN``, C1′ trace [L, 3] (Å), its native SS, release date, split."""

    id: str
    pdb: str
    chain: str
    seq: str
    coords: np.ndarray
    ss: str
    ss_source: str
    release_date: str
    split: str


def infer_pairs_c1(seq: str, xyz: np.ndarray) -> str:
    """Dot-bracket [L] of canonical pairs supported by C1′ geometry alone.

    A pair (i, j) is kept when the bases can pair, C1′–C1′ is within :data:`PAIR_DIST` and
    it stacks on a neighbouring candidate pair (i±1, j∓1) like ideal A-form (4-point RMSD ≤
    :data:`STACK_RMSD`). Conflicts go to the longer stem.
    """
    n = len(seq)
    if n < 5:
        return "." * n
    tree = cKDTree(xyz)
    cand = set()
    for i, j in tree.query_pairs(PAIR_DIST[1]):
        i, j = min(i, j), max(i, j)
        if j - i > 3 and seq[i] + seq[j] in _CAN_PAIR:
            if np.linalg.norm(xyz[i] - xyz[j]) >= PAIR_DIST[0]:
                cand.add((i, j))
    ideal = stem_local(2).reshape(-1, 3)
    ok = set()
    for i, j in cand:
        if (i + 1, j - 1) in cand:
            pts = xyz[[i, j, i + 1, j - 1]]
            if kabsch(ideal, pts)[1] <= STACK_RMSD:
                ok |= {(i, j), (i + 1, j - 1)}
    # Stems of accepted pairs, longest first.
    runs = []
    for i, j in sorted(ok):
        if (i - 1, j + 1) in ok:
            continue
        m = 0
        while (i + m, j - m) in ok:
            m += 1
        runs.append((m, i, j))
    used = np.zeros(n, dtype=bool)
    pairs = []
    for m, i, j in sorted(runs, key=lambda r: (-r[0], r[1])):
        for k in range(m):
            a, b = i + k, j - k
            if not used[a] and not used[b]:
                used[a] = used[b] = True
                pairs.append((a, b))
    return to_dot_bracket(pairs_from_list(n, pairs))


def _c1_chains(data_dir: Path) -> list[NativeChain]:
    coords = read_c1_coords(data_dir, None, np.float64)
    pdb = pdb_ss_table(data_dir)
    out = []
    for r in c1_rows(data_dir):
        split = row_split(r)
        if split is None:
            continue
        seq = r["sequence"].upper().replace("T", "U")
        xyz = coords[r["target_id"]]
        ss, source = native_ss(r, seq, pdb), "pdb"
        if ss is None:
            ss, source = infer_pairs_c1(seq, xyz), "c1geom"
        pdb_id, chain = r["target_id"].split("_", 1)
        out.append(
            NativeChain(
                r["target_id"], pdb_id, chain, seq, xyz, ss, source, r["release_date"], split
            )
        )
    return out


def _allatom_chains(data_dir: Path, skip: set[str]) -> list[NativeChain]:
    by_entry: dict[str, list[dict[str, str]]] = {}
    for r in allatom_rows(data_dir):
        if row_split(r) is None or f"{r['entry']}_{r['chain']}" in skip:
            continue
        by_entry.setdefault(r["entry"], []).append(r)
    out = []
    for entry in sorted(by_entry):
        if not entry_path(data_dir, entry).is_file():
            continue
        model = read_entry(data_dir, entry)
        for r in by_entry[entry]:
            sub = chain_with_c1(model, r["chain"])
            if sub.n_residues < 2:
                continue
            xyz, _ = sub.atom_coords("C1'")
            ss = structure_dot_bracket(sub)
            out.append(
                NativeChain(f"{entry}_{r['chain']}", entry, r["chain"], sub.seq, xyz, ss,
                            "annotated", r["release_date"], split_of(r["release_date"]) or "")
            )  # fmt: skip
    return out


def load_native_chains(data_dir: Path, splits: tuple[str, ...] = ("train",)) -> list[NativeChain]:
    """allatom then c1 chains of ``splits`` (a c1 chain also in allatom is taken once), by id."""
    data_dir = Path(data_dir)
    allatom = _allatom_chains(data_dir, set()) if (data_dir / "allatom").is_dir() else []
    seen = {c.id.upper() for c in allatom}
    c1 = [c for c in _c1_chains(data_dir) if c.id.upper() not in seen]
    chains = [c for c in allatom + c1 if c.split in splits]
    return sorted(chains, key=lambda c: c.id)
