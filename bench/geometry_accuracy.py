"""How well does the geometry rebuild real RNA? Prints per-chain RMSD distributions.

For every RNA chain segment (continuous backbone, >= 4 nt) of ../shared/data/structures:

1. C1′ trace + canonical base pairs annotated from the native
   (``rnapredict.score.basepairs.canonical_pair_table``) -> ``c1_to_atoms`` -> C3′ RMSD and
   all-heavy-atom RMSD to the native (Kabsch superposition, atoms present in the native).
2. Torsions extracted with ``atoms_to_torsions`` -> ``torsions_to_atoms`` with the extracted
   first frame -> all-heavy-atom RMSD, without and with superposition.

Usage: python3 bench/geometry_accuracy.py [STRUCTURE_DIR] [--per-chain]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from rnapredict.errors import StructureError
from rnapredict.geometry import ideal
from rnapredict.geometry.convert import structure_to_atoms
from rnapredict.geometry.from_c1 import c1_to_atoms
from rnapredict.geometry.nerf import torsions_to_atoms
from rnapredict.geometry.torsion_fit import fit_torsions
from rnapredict.geometry.torsions import atoms_to_torsions
from rnapredict.io.pdbio import read_models
from rnapredict.io.structure import RnaStructure
from rnapredict.score.basepairs import canonical_pair_table
from rnapredict.score.superpose import rmsd, superposed_rmsd

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "structures"
_S = ideal.slot_index("A")
MIN_LEN = 4


def segments(model: RnaStructure) -> list[RnaStructure]:
    """Continuous single-chain pieces: split at chain changes and O3′–P gaps > 2 Å."""
    out = []
    chains = np.asarray(model.chain_ids)
    for cid in dict.fromkeys(model.chain_ids):
        chain = model.select_residues(np.flatnonzero(chains == cid))
        atoms, mask = structure_to_atoms(chain)
        link = np.linalg.norm(atoms[:-1, _S["O3'"]] - atoms[1:, _S["P"]], axis=-1)
        ok = np.isfinite(link) & (link < 2.0)
        ok &= mask[:, _S["C1'"]][1:] & mask[:, _S["C1'"]][:-1]
        start = 0
        for k in [*np.flatnonzero(~ok) + 1, chain.n_residues]:
            if k - start >= MIN_LEN and mask[start:k, _S["C1'"]].all():
                out.append(chain.select_residues(np.arange(start, k)))
            start = k
    return out


def measure(seg: RnaStructure) -> dict[str, float]:
    """RMSDs (Å) of the C1′ rebuild and of the torsion rebuild of one segment."""
    atoms_np, mask_np = structure_to_atoms(seg)
    seq = seg.seq
    atoms = torch.from_numpy(np.nan_to_num(atoms_np))
    mask = torch.from_numpy(mask_np)
    partner = torch.from_numpy(canonical_pair_table(seg))
    with torch.no_grad():
        built, bmask = c1_to_atoms(seq, atoms[:, _S["C1'"]], partner)
        tors, _, first = atoms_to_torsions(seq, atoms, mask)
        rebuilt, _ = torsions_to_atoms(seq, tors, first)
        fitted, _ = torsions_to_atoms(seq, fit_torsions(seq, tors, first, atoms, mask), first)
    both = mask_np & bmask.numpy()
    c3 = both[:, _S["C3'"]]
    native = atoms_np[both]
    return {
        "length": len(seq),
        "paired": float((partner >= 0).float().mean()),
        "c1_c3_rmsd": superposed_rmsd(built.numpy()[:, _S["C3'"]][c3], atoms_np[c3, _S["C3'"]]),
        "c1_all_rmsd": superposed_rmsd(built.numpy()[both], native),
        "tor_all_rmsd": rmsd(rebuilt.numpy()[both], native),
        "tor_all_rmsd_sup": superposed_rmsd(rebuilt.numpy()[both], native),
        "fit_all_rmsd": rmsd(fitted.numpy()[both], native),
    }


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv and not argv[0].startswith("-") else DEFAULT_DIR
    rows = []
    for path in sorted(folder.iterdir()):
        try:
            model = read_models(path)[0]
        except StructureError:
            continue
        for seg in segments(model):
            row = measure(seg)
            row["name"] = f"{path.name}:{seg.chain_ids[0]}:{seg.res_ids[0]}"
            rows.append(row)
    if "--per-chain" in argv:
        print(f"{'segment':32s} {'L':>5s} {'paired':>6s} {'C1->C3':>7s} {'C1->all':>7s} "
              f"{'tor':>7s} {'tor sup':>7s} {'fitted':>7s}")  # fmt: skip
        for r in rows:
            print(f"{r['name']:32s} {r['length']:5d} {r['paired']:6.2f} {r['c1_c3_rmsd']:7.2f} "
                  f"{r['c1_all_rmsd']:7.2f} {r['tor_all_rmsd']:7.2f} {r['tor_all_rmsd_sup']:7.2f} "
                  f"{r['fit_all_rmsd']:7.2f}")  # fmt: skip
    short = [r for r in rows if r["length"] <= 100]
    print(f"\n{len(rows)} segments ({len(short)} of <= 100 nt) from {folder}")
    print(f"{'metric (Å)':34s} {'median':>7s} {'p25':>6s} {'p75':>6s} {'max':>6s}")
    for key, label, subset in [
        ("c1_c3_rmsd", "C1' trace -> C3' RMSD", rows),
        ("c1_all_rmsd", "C1' trace -> all-heavy RMSD", rows),
        ("tor_all_rmsd", "torsions -> all-heavy (<=100 nt)", short),
        ("tor_all_rmsd_sup", "  same, superposed (<=100 nt)", short),
        ("tor_all_rmsd", "torsions -> all-heavy (all)", rows),
        ("fit_all_rmsd", "fitted torsions -> all-heavy (<=100)", short),
        ("fit_all_rmsd", "fitted torsions -> all-heavy (all)", rows),
    ]:
        v = np.array([r[key] for r in subset])
        q = np.percentile(v, [50, 25, 75, 100])
        print(f"{label:34s} {q[0]:7.2f} {q[1]:6.2f} {q[2]:6.2f} {q[3]:6.2f}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    main(sys.argv[1:])
