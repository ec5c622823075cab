"""Relaxation time per model vs length (``rnapredict minimize`` / ``fold --relax``).

Inputs are cut from the 293-nt ribosomal fragment 6g90 chain 1 (score fixture natives): its
first L residues for L ≤ 293; longer inputs stack copies of it 120 Å apart as extra chains and
crop to L. Each model is relaxed once with :func:`rnapredict.relax.api.relax_model` and the
table gives wall time, atoms in the OpenMM system (with hydrogens), clashscore and energy
before/after, heavy-atom RMSD to the input.

    python bench/minimize.py                          # 50, 200, 1000 nt, default options
    python bench/minimize.py --lengths 50 200 --steps 200 --platform CPU
    OPENMM_CPU_THREADS=2 python bench/minimize.py --lengths 1000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rnapredict.io.pdbio import read_structure  # noqa: E402
from rnapredict.io.structure import RnaStructure  # noqa: E402
from rnapredict.relax.api import RelaxOptions, relax_model  # noqa: E402

SOURCE = REPO.parent / "shared" / "fixtures" / "score" / "natives" / "6g90_1_1.pdb"
CHAINS = "ABCDEFGHIJ"


def build_input(base: RnaStructure, length: int, spacing: float = 120.0) -> RnaStructure:
    """First ``length`` residues of ``base`` repeated as chains A, B, ... ``spacing`` Å apart."""
    copies = []
    remaining = length
    for c in range(-(-length // base.n_residues)):
        part = base.select_residues(range(min(remaining, base.n_residues)))
        part = part.with_coords(part.coords + np.array([c * spacing, 0.0, 0.0]))
        part.chain_ids = [CHAINS[c]] * part.n_residues
        copies.append(part)
        remaining -= part.n_residues
    if len(copies) == 1:
        return copies[0]
    starts = np.cumsum([0] + [m.n_residues for m in copies[:-1]])
    return RnaStructure(
        chain_ids=sum((m.chain_ids for m in copies), []),
        res_names=sum((m.res_names for m in copies), []),
        res_ids=np.concatenate([m.res_ids for m in copies]),
        ins_codes=sum((m.ins_codes for m in copies), []),
        seq="".join(m.seq for m in copies),
        atom_names=sum((m.atom_names for m in copies), []),
        atom_res=np.concatenate([m.atom_res + s for m, s in zip(copies, starts, strict=True)]),
        coords=np.concatenate([m.coords for m in copies]),
        elements=sum((m.elements for m in copies), []),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lengths", type=int, nargs="+", default=[50, 200, 1000])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--restrain-heavy", type=float, default=RelaxOptions().restrain_heavy)
    ap.add_argument("--platform", default="auto")
    ap.add_argument("--cutoff", type=float, default=RelaxOptions().cutoff_nm)
    ap.add_argument("--no-prestage", action="store_true", help="GBn2 stage only")
    ap.add_argument("--rounds", type=int, default=RelaxOptions().rounds, help="1: no re-centring")
    ap.add_argument("--round-tol", type=float, default=RelaxOptions().round_tol)
    ap.add_argument("--round-restrain", type=float, default=RelaxOptions().round_restrain)
    args = ap.parse_args(argv)
    if not SOURCE.exists():
        print(f"missing {SOURCE} (../shared not available)", file=sys.stderr)
        return 2
    base = read_structure(SOURCE)
    options = RelaxOptions(
        steps=args.steps,
        restrain_heavy=args.restrain_heavy,
        platform=args.platform,
        cutoff_nm=args.cutoff,
        vacuum_prestage=not args.no_prestage,
        rounds=args.rounds,
        round_tol=args.round_tol,
        round_restrain=args.round_restrain,
        keep_h=True,
    )
    threads = os.environ.get("OPENMM_CPU_THREADS", str(os.cpu_count()))
    print(
        f"# relax_model, steps {args.steps}, k {args.restrain_heavy} kcal/mol/Å², cutoff "
        f"{args.cutoff} nm, prestage {not args.no_prestage}, rounds {args.rounds} "
        f"(tol {args.round_tol} Å, k {args.round_restrain}), CPU threads {threads}"
    )
    head = (
        "L nt",
        "atoms+H",
        "platform",
        "seconds",
        "s/nt",
        "clash before→after",
        "E before→after kJ/mol",
        "RMSD Å",
        "ok",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for length in args.lengths:
        model = build_input(base, length)
        t0 = time.perf_counter()
        r = relax_model(model, options)
        wall = time.perf_counter() - t0
        n_atoms = r.model.n_atoms if r.ok else float("nan")
        e0 = "-" if r.energy_before is None else f"{r.energy_before:.0f}"
        e1 = "-" if r.energy_after is None else f"{r.energy_after:.0f}"
        c1 = "-" if r.clash_after is None else f"{r.clash_after:.1f}"
        print(
            f"| {length} | {n_atoms} | {r.platform or '-'} | {wall:.1f} | {wall / length:.3f} | "
            f"{r.clash_before:.1f}→{c1} | {e0}→{e1} | "
            f"{'-' if r.rmsd is None else f'{r.rmsd:.2f}'} | {'ok' if r.ok else r.message} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
