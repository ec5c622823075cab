"""The shipped default library: train-split chains of ../shared/data (c1 + allatom).

    python -m rnapredict.templates.dataset ../shared/data weights/templates.npz [--overwrite]
        [--manifest]

(``--manifest`` lists the file as ``templates`` in the manifest beside it, :mod:`rnapredict.assets`.)

Only chains released before 2020-01-01 (``split == train``) go in, so validation figures with
templates stay honest; a chain present in both sets is stored once (the c1 copy).
"""

from __future__ import annotations

import sys
from pathlib import Path

from rnapredict.assets import record_asset
from rnapredict.data.allatom import allatom_rows, entry_path
from rnapredict.data.c1 import c1_rows, read_c1_coords
from rnapredict.data.split import TRAIN_BEFORE
from rnapredict.templates.build import parse_file
from rnapredict.templates.library import LIBRARY_VERSION, TemplateChain, TemplateLibrary


def c1_chains(data_dir: Path, split: str = "train") -> list[TemplateChain]:
    """``c1/`` chains of ``split`` (``target_id`` = ``PDBID_CHAIN``), coordinates from coords.csv."""
    rows = {r["target_id"]: r for r in c1_rows(data_dir, split)}
    xyz = read_c1_coords(data_dir, set(rows))
    out = []
    for tid in sorted(rows):
        entry, chain = tid.split("_", 1)
        c1 = xyz[tid]
        seq = rows[tid]["sequence"].upper().replace("T", "U")
        out.append(TemplateChain(entry, chain, seq, rows[tid]["release_date"], c1))
    return out


def allatom_chains(data_dir: Path, split: str = "train") -> list[TemplateChain]:
    """``allatom/`` chains of ``split`` listed in chains.csv, C1′ read from the entry files."""
    wanted: dict[str, dict[str, str]] = {}
    for r in allatom_rows(data_dir, split):
        wanted.setdefault(r["entry"], {})[r["chain"]] = r["release_date"]
    out = []
    for entry in sorted(wanted):
        for name, seq, c1 in parse_file(entry_path(data_dir, entry)):
            if name in wanted[entry]:
                out.append(TemplateChain(entry, name, seq, wanted[entry][name], c1))
    return out


def dataset_library(data_dir: Path, split: str = "train") -> TemplateLibrary:
    """Library of one split of ../shared/data, deduplicated by ``ENTRY_CHAIN`` id, sorted by id."""
    chains: dict[str, TemplateChain] = {}
    for tc in c1_chains(data_dir, split) + allatom_chains(data_dir, split):
        chains.setdefault(tc.id.upper(), tc)
    return TemplateLibrary.from_chains([chains[k] for k in sorted(chains)], source=str(data_dir))


if __name__ == "__main__":
    lib = dataset_library(Path(sys.argv[1]))
    lib.save(sys.argv[2], overwrite="--overwrite" in sys.argv)
    if "--manifest" in sys.argv:
        n_c1 = len(c1_chains(Path(sys.argv[1])))
        record_asset(
            Path(sys.argv[2]),
            "templates",
            format=LIBRARY_VERSION,
            chains=len(lib),
            residues=len(lib.seq),
            split=f"train (released before {TRAIN_BEFORE}): c1 {n_c1} + allatom"
            f" {len(lib) - n_c1} chains",
            built_by="python -m rnapredict.templates.dataset ../shared/data weights/templates.npz",
        )
    print(f"{len(lib)} chains, {len(lib.seq)} nt -> {sys.argv[2]}")
