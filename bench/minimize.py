"""Relaxation time per model vs length (``rnapredict minimize`` / ``fold --relax``).

Inputs are cut from the 293-nt ribosomal fragment 6g90 chain 1 (score fixture natives): its
first L residues for L ≤ 293; longer inputs stack copies of it 120 Å apart as extra chains and
crop to L. ``--models`` relaxes given files instead (e.g. ``rnapredict fold`` outputs, which
are what ``fold --relax`` sees). Each model is relaxed once per preset with
:func:`rnapredict.relax.api.relax_model`; the table gives wall and CPU seconds (CPU counts
every OpenMM thread; on a shared machine wall > CPU/threads), the stage split (PDBFixer +
system, start energy, vacuum pre-stage, GBn2 minimization, check), atoms in the OpenMM system
(with hydrogens), clashscore and energy before/after, heavy-atom RMSD to the input, and
whether the covalent check passed (``ok``).

Presets: ``fold`` (``fold --relax``: :data:`~rnapredict.relax.api.FOLD_RELAX`), ``fold-old``
(the options before issue 15's last round: GBn2 only, cutoff 1.2 nm; it
shares the new PDBFixer platform and context reuse, ~1 s of the saving), ``minimize`` (the
``minimize`` command's defaults), ``custom`` (the options below).

    python -m bench.minimize                                  # 50, 100, 200 nt; fold-old, fold
    python -m bench.minimize --models OUT/*/model_1.pdb --presets fold
    python -m bench.minimize --lengths 1000 --presets custom --steps 200 --platform CPU
    OPENMM_CPU_THREADS=2 python -m bench.minimize --lengths 100
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnapredict.io.pdbio import read_structure
from rnapredict.io.structure import RnaStructure
from rnapredict.relax.api import FOLD_RELAX, RelaxOptions, relax_model

REPO = Path(__file__).resolve().parents[1]

SOURCE = REPO.parent / "shared" / "fixtures" / "score" / "natives" / "6g90_1_1.pdb"
CHAINS = "ABCDEFGHIJ"
#: ``fold --relax`` before: GBn2 only (no vacuum pre-stage for a clash-free start), 1.2 nm.
FOLD_OLD = replace(FOLD_RELAX, cutoff_nm=1.2, prestage_energy=0.0, restrain_heavy=10.0)
STAGES = ("prepare", "start", "vacuum", "gbn2", "check")


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


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, fmt)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lengths", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--models", type=Path, nargs="+", help="relax these files (first model)")
    ap.add_argument(
        "--presets",
        nargs="+",
        default=["fold-old", "fold"],
        choices=["fold", "fold-old", "minimize", "custom"],
    )
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--restrain-heavy", type=float, default=RelaxOptions().restrain_heavy)
    ap.add_argument("--platform", default="auto")
    ap.add_argument("--cutoff", type=float, default=RelaxOptions().cutoff_nm)
    ap.add_argument("--tolerance", type=float, default=RelaxOptions().tolerance)
    ap.add_argument("--no-prestage", action="store_true", help="GBn2 stage only")
    ap.add_argument("--rounds", type=int, default=RelaxOptions().rounds, help="1: no re-centring")
    ap.add_argument("--round-tol", type=float, default=RelaxOptions().round_tol)
    ap.add_argument("--round-restrain", type=float, default=RelaxOptions().round_restrain)
    args = ap.parse_args(argv)
    if args.models:
        inputs = [(p.parent.name + "/" + p.name, read_structure(p)) for p in args.models]
    elif SOURCE.exists():
        base = read_structure(SOURCE)
        inputs = [(f"6g90 1-{n}", build_input(base, n)) for n in args.lengths]
    else:
        print(f"missing {SOURCE} (../shared not available)", file=sys.stderr)
        return 2
    presets = {
        "fold": FOLD_RELAX,
        "fold-old": FOLD_OLD,
        "minimize": RelaxOptions(),
        "custom": RelaxOptions(
            steps=args.steps,
            restrain_heavy=args.restrain_heavy,
            platform=args.platform,
            cutoff_nm=args.cutoff,
            tolerance=args.tolerance,
            vacuum_prestage=not args.no_prestage,
            rounds=args.rounds,
            round_tol=args.round_tol,
            round_restrain=args.round_restrain,
        ),
    }
    threads = os.environ.get("OPENMM_CPU_THREADS", str(os.cpu_count()))
    print(f"# relax_model; OpenMM CPU threads {threads}; load average {os.getloadavg()[0]:.2f}")
    for name in args.presets:
        o = presets[name]
        print(
            f"# {name}: tolerance {o.tolerance:g} kJ/mol/nm, steps {o.steps}, cutoff "
            f"{o.cutoff_nm} nm, k {o.restrain_heavy:g} kcal/mol/Å², rounds {o.rounds}, "
            f"vacuum pre-stage {o.vacuum_prestage} (from GBn2 energy ≥ {o.prestage_energy:g})"
        )
    head = (
        "model",
        "nt",
        "preset",
        "atoms+H",
        "wall s",
        "CPU s",
        "prepare/start/vacuum/gbn2/check s",
        "clash before→after",
        "E before→after kJ/mol",
        "RMSD Å",
        "ok",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label, model in inputs:
        for name in args.presets:
            opts = replace(presets[name], keep_h=True)
            t0, c0 = time.perf_counter(), time.process_time()
            r = relax_model(model, opts)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            split = "/".join(_num(r.stages.get(s), ".1f") for s in STAGES)
            print(
                f"| {label} | {model.n_residues} | {name} | {r.model.n_atoms if r.ok else '-'} | "
                f"{wall:.1f} | {cpu:.1f} | {split} | "
                f"{_num(r.clash_before, '.1f')}→{_num(r.clash_after, '.1f')} | "
                f"{_num(r.energy_before, '.0f')}→{_num(r.energy_after, '.0f')} | "
                f"{_num(r.rmsd, '.2f')} | {'ok' if r.ok else r.message} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
