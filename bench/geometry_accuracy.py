"""How well does the geometry rebuild real RNA? Prints per-chain RMSD distributions.

For every RNA chain segment (continuous backbone, >= 4 nt) of ../shared/data/structures:

1. C1′ trace + canonical base pairs annotated from the native
   (``rnapredict.score.basepairs.canonical_pair_table``) -> ``c1_to_atoms`` -> C3′ RMSD and
   all-heavy-atom RMSD to the native (Kabsch superposition, atoms present in the native).
2. Torsions extracted with ``atoms_to_torsions`` -> ``torsions_to_atoms`` with the extracted
   first frame -> all-heavy-atom RMSD, without and with superposition.

With ``--fit-unpaired`` it instead fits ``from_c1.UNPAIRED_CORRECTION`` (per-bin pooled Kabsch of
the backbone + sugar atoms of unpaired residues), prints the table to paste into from_c1.py,
and reports leave-one-file-out C3′ RMSDs (table refitted without the file being rebuilt).

Usage: python -m bench.geometry_accuracy [STRUCTURE_DIR] [--per-chain] [--fit-unpaired]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from rnapredict.data import default_data_dir
from rnapredict.errors import StructureError
from rnapredict.geometry import ideal
from rnapredict.geometry.convert import structure_to_atoms
from rnapredict.geometry.frames import apply_inverse
from rnapredict.geometry.from_c1 import N_BINS, c1_to_atoms, unpaired_bins
from rnapredict.geometry.nerf import torsions_to_atoms
from rnapredict.geometry.torsion_fit import fit_torsions
from rnapredict.geometry.torsions import atoms_to_torsions
from rnapredict.geometry.trace_frames import frame_templates, residue_frames
from rnapredict.io.pdbio import read_models
from rnapredict.io.structure import RnaStructure
from rnapredict.score.basepairs import canonical_pair_table
from rnapredict.score.superpose import rmsd, superposed_rmsd

DEFAULT_DIR = default_data_dir() / "structures"
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


def measure(
    seg: RnaStructure, table: torch.Tensor | None = None, c1_only: bool = False
) -> dict[str, float]:
    """RMSDs (Å) of the C1′ rebuild and of the torsion rebuild of one segment."""
    atoms_np, mask_np = structure_to_atoms(seg)
    seq = seg.seq
    atoms = torch.from_numpy(np.nan_to_num(atoms_np))
    mask = torch.from_numpy(mask_np)
    partner = torch.from_numpy(canonical_pair_table(seg))
    with torch.no_grad():
        built, bmask = c1_to_atoms(seq, atoms[:, _S["C1'"]], partner, unpaired_correction=table)
        if c1_only:
            both = mask_np & bmask.numpy()
            c3 = both[:, _S["C3'"]]
            return {
                "c1_c3_rmsd": superposed_rmsd(
                    built.numpy()[:, _S["C3'"]][c3], atoms_np[c3, _S["C3'"]]
                ),
                "c1_all_rmsd": superposed_rmsd(built.numpy()[both], atoms_np[both]),
            }
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


_FIT_ATOMS = [_S[a] for a in ("P", "O5'", "C5'", "C4'", "O4'", "C3'", "O3'", "C2'", "O2'", "C1'")]
MIN_BIN = 20


def unpaired_samples(seg: RnaStructure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Template and native local coordinates [K, 10, 3] and bins [K] of unpaired residues."""
    atoms_np, mask = structure_to_atoms(seg)
    atoms = torch.from_numpy(np.nan_to_num(atoms_np))
    partner = torch.from_numpy(canonical_pair_table(seg))
    n = len(seg.seq)
    c1 = atoms[:, _S["C1'"]]
    local = apply_inverse(residue_frames(c1, partner), atoms).numpy()
    pos = np.ones(n, dtype=np.int64)
    pos[0], pos[-1] = 0, 2
    own = frame_templates()["own"].numpy()[pos, 0, ideal.residue_types(seg.seq)]
    keep = (partner.numpy() < 0) & mask[:, _FIT_ATOMS].all(-1)
    bins = unpaired_bins(c1).numpy()
    return own[keep][:, _FIT_ATOMS], local[keep][:, _FIT_ATOMS], bins[keep]


def fit_table(samples: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """[N_BINS, 6] corrections (rotation vector, zero translation) from pooled samples.

    Rotations about the residue frame's origin, C1′, only: the rebuilt C1′ must stay on the
    predicted trace.
    """
    tmpl = np.concatenate([s[0] for s in samples])
    nat = np.concatenate([s[1] for s in samples])
    bins = np.concatenate([s[2] for s in samples])

    def one(sel: np.ndarray) -> np.ndarray:
        a, b = tmpl[sel].reshape(-1, 3), nat[sel].reshape(-1, 3)
        u, _, vt = np.linalg.svd(a.T @ b)
        d = np.sign(np.linalg.det(vt.T @ u.T))
        r, t = vt.T @ np.diag([1.0, 1.0, d]) @ u.T, np.zeros(3)
        angle = np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1))
        axis = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
        vec = axis / max(np.linalg.norm(axis), 1e-12) * angle
        return np.concatenate([vec, t])

    glob = one(np.ones(len(bins), dtype=bool))
    return np.stack(
        [one(bins == b) if (bins == b).sum() >= MIN_BIN else glob for b in range(N_BINS)]
    )


def fit_unpaired(folder: Path) -> None:
    """Fit and print UNPAIRED_CORRECTION; report leave-one-file-out C3′ RMSDs."""
    per_file: dict[str, list[RnaStructure]] = {}
    for path in sorted(folder.iterdir()):
        try:
            per_file[path.name] = segments(read_models(path)[0])
        except StructureError:
            continue
    samples = {f: [unpaired_samples(s) for s in segs] for f, segs in per_file.items()}
    table = fit_table([x for v in samples.values() for x in v])
    counts = np.bincount(
        np.concatenate([x[2] for v in samples.values() for x in v]), minlength=N_BINS
    )
    print("UNPAIRED_CORRECTION: tuple[tuple[float, ...], ...] = (")
    for row, c in zip(table, counts, strict=True):
        print("    (" + ", ".join(f"{v:.4f}" for v in row) + f"),  # n={c}")
    print(")")
    rows = {"none": [], "in-sample": [], "leave-one-file-out": []}
    for f, segs in per_file.items():
        others = [x for g, v in samples.items() if g != f for x in v]
        lofo = torch.from_numpy(fit_table(others))
        for seg in segs:
            rows["none"].append(measure(seg, torch.zeros(N_BINS, 6), c1_only=True))
            rows["in-sample"].append(measure(seg, torch.from_numpy(table), c1_only=True))
            rows["leave-one-file-out"].append(measure(seg, lofo, c1_only=True))
    print(f"\n{'unpaired correction':22s} {'median C3′':>11s} {'median all':>11s}")
    for name, r in rows.items():
        c3 = np.median([x["c1_c3_rmsd"] for x in r])
        al = np.median([x["c1_all_rmsd"] for x in r])
        print(f"{name:22s} {c3:11.2f} {al:11.2f}")


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv and not argv[0].startswith("-") else DEFAULT_DIR
    if "--fit-unpaired" in argv:
        fit_unpaired(folder)
        return
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
