"""PDB / mmCIF reading and writing through gemmi.

Readers turn any PDB/mmCIF file into :class:`~rnapredict.io.structure.RnaStructure` models
(RNA residues only; modified nucleotides keep their name and map to their parent base, unknown
nucleotide-like residues to ``N``). Writers build a ``gemmi.Structure`` (multi-model ensembles,
pLDDT in the B-factor column) and write it atomically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import gemmi
import numpy as np

from rnapredict import __version__
from rnapredict.errors import StructureError
from rnapredict.io.atomic import atomic_write_text
from rnapredict.io.mmcif import finish_block, setup_polymer_entities
from rnapredict.io.modelcif import ModelProvenance, add_modelcif
from rnapredict.io.names import safe_name
from rnapredict.io.structure import RnaStructure
from rnapredict.io.textio import printable

PDB_MAX_RESIDUES = 9999
PDB_MAX_ATOMS = 99999
FORMATS = ("pdb", "cif")


def format_of(path: str | Path) -> str:
    """``pdb`` or ``cif`` from a file name (``.pdb``, ``.ent``, ``.cif``, ``.mmcif``, ``.gz``)."""
    name = str(path).lower().removesuffix(".gz")
    if name.endswith((".pdb", ".ent")):
        return "pdb"
    if name.endswith((".cif", ".mmcif")):
        return "cif"
    raise StructureError(
        "unknown structure format (expected .pdb, .ent, .cif or .mmcif)", file=str(path)
    )


# ---------------------------------------------------------------------------------- reading
_V2_TO_V3 = {"O1P": "OP1", "O2P": "OP2", "O3P": "OP3"}


def v3_atom_name(name: str) -> str:
    """PDB v3 name of a nucleotide atom written in the old v2 style (``C1*`` → ``C1'``,
    ``O1P`` → ``OP1``); v3 names pass through unchanged."""
    name = name.replace("*", "'")
    return _V2_TO_V3.get(name, name)


def _base_from_atoms(names: set[str]) -> str:
    """Parent base of a modified nucleotide from its base atoms (purine: N9; A: N6, G: O6)."""
    if "N9" in names:
        return "G" if "O6" in names else "A" if "N6" in names else "N"
    if "N1" in names and "C6" in names:
        return "C" if "N4" in names else "U" if "O4" in names else "N"
    return "N"


def _parent_base(res: gemmi.Residue) -> str | None:
    """One-letter parent nucleotide of an RNA residue (``N`` if unknown), or None if not RNA."""
    info = gemmi.find_tabulated_residue(res.name)
    if info is not None and info.kind == gemmi.ResidueKind.RNA:
        code = info.one_letter_code.upper()
        return code if code in "ACGU" else "N"
    if info is not None and info.kind in (gemmi.ResidueKind.DNA, gemmi.ResidueKind.AA):
        return None
    # Modified nucleotides gemmi does not classify (YYG, 5MC, ...): a ribose with its 2'-O.
    names = {v3_atom_name(a.name) for a in res}
    if not {"C1'", "C4'", "O2'"} <= names:
        return None
    code = info.one_letter_code.upper() if info is not None else ""
    if len(code) == 1 and code in "ACGU":
        return code
    return _base_from_atoms(names)


def not_a_structure_file(path: Path) -> str:
    """Why ``path``, which is not a regular file, cannot be read as a structure (message)."""
    if path.is_dir():
        return "is a directory, not a structure file"
    return "not a file" if path.exists() else "no such file"


def _check_duplicate_numbers(st: gemmi.Structure, source: str) -> None:
    """Raise if two adjacent RNA residues share chain, number and insertion code without
    alternate locations. gemmi reads that as microheterogeneity and keeps only the first, so
    a residue would vanish silently (a shorter reference changes every score)."""
    for model in st:
        for chain in model:
            prev = None
            for res in chain:
                if prev is not None and res.seqid == prev.seqid:
                    alt = any(a.altloc != "\0" for r in (prev, res) for a in r)
                    rna = _parent_base(prev) is not None and _parent_base(res) is not None
                    if rna and not alt:
                        raise StructureError(
                            f"chain {chain.name}: two residues numbered {str(res.seqid).strip()} "
                            f"({prev.name}, {res.name}) without alternate locations; renumber them",
                            file=source,
                        )
                prev = res


def _models_from_gemmi(st: gemmi.Structure, source: str, heavy_only: bool) -> list[RnaStructure]:
    if heavy_only:
        st.remove_hydrogens()
    _check_duplicate_numbers(st, source)
    st.remove_alternative_conformations()
    out: list[RnaStructure] = []
    for model in st:
        chain_ids: list[str] = []
        res_names: list[str] = []
        res_ids: list[int] = []
        ins: list[str] = []
        seq: list[str] = []
        names: list[str] = []
        owner: list[int] = []
        elements: list[str] = []
        xyz: list[tuple[float, float, float]] = []
        bfac: list[float] = []
        for chain in model:
            for res in chain:
                base = _parent_base(res)
                if base is None or len(res) == 0:
                    continue
                i = len(res_names)
                chain_ids.append(chain.name)
                res_names.append(res.name)
                res_ids.append(res.seqid.num)
                ins.append(res.seqid.icode.strip())
                seq.append(base)
                for a in res:
                    names.append(v3_atom_name(a.name))
                    owner.append(i)
                    elements.append(a.element.name.upper() if a.element.name != "X" else a.name[0])
                    xyz.append((a.pos.x, a.pos.y, a.pos.z))
                    bfac.append(a.b_iso)
        if not res_names:
            continue
        coords = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        if not np.isfinite(coords).all():
            raise StructureError("non-finite coordinates", file=source)
        out.append(
            RnaStructure(
                chain_ids=chain_ids,
                res_names=res_names,
                res_ids=np.asarray(res_ids),
                ins_codes=ins,
                seq="".join(seq),
                atom_names=names,
                atom_res=np.asarray(owner),
                coords=coords,
                elements=elements,
                b_factors=np.asarray(bfac),
            )
        )
    return out


def read_gemmi(path: str | Path) -> gemmi.Structure:
    """Whole structure file (every model, chain, ligand) via gemmi; errors name the file.

    Raises:
        StructureError: unparsable file, or no atom in it.
    """
    try:
        st = gemmi.read_structure(str(path), merge_chain_parts=True)
    except Exception as exc:  # gemmi's C++ parser raises assorted types (IndexError on empty cif)
        detail = " ".join(str(exc).split())  # gemmi messages may span lines
        raise StructureError(f"cannot parse structure: {detail}", file=str(path)) from None
    if len(st) == 0 or all(m.count_atom_sites() == 0 for m in st):
        raise StructureError("no atoms found (empty or not a PDB/mmCIF file)", file=str(path))
    return st


def read_models(path: str | Path, *, heavy_only: bool = True) -> list[RnaStructure]:
    """All models of the RNA in a PDB/mmCIF file (``.gz`` allowed).

    Raises:
        StructureError: missing, unreadable or malformed file, or no RNA residue in it.
    """
    path = Path(path)
    if not path.is_file():
        raise StructureError(not_a_structure_file(path), file=str(path))
    models = _models_from_gemmi(read_gemmi(path), str(path), heavy_only)
    if not models:
        raise StructureError(
            "no RNA residues found (protein/DNA-only or non-RNA file)", file=str(path)
        )
    return models


def read_structure(path: str | Path, *, model: int = 1, heavy_only: bool = True) -> RnaStructure:
    """Model number ``model`` (1-based) of the RNA in a PDB/mmCIF file."""
    models = read_models(path, heavy_only=heavy_only)
    if not 1 <= model <= len(models):
        raise StructureError(
            f"model {model} requested but the file has {len(models)}", file=str(path)
        )
    return models[model - 1]


# ---------------------------------------------------------------------------------- writing
def _check_writable_models(models: Sequence[RnaStructure], fmt: str, target: str) -> None:
    if not models:
        raise StructureError("nothing to write: no models", file=target)
    first = models[0]
    for k, m in enumerate(models, 1):
        if m.atom_names != first.atom_names or m.res_names != first.res_names:
            raise StructureError(f"model {k} has different atoms than model 1", file=target)
        if not np.isfinite(m.coords).all():
            bad = int(np.flatnonzero(~np.isfinite(m.coords).all(axis=1))[0])
            raise StructureError(
                f"model {k}: non-finite coordinate at atom {bad + 1} "
                f"({m.atom_names[bad]} of residue {m.residue_labels()[m.atom_res[bad]]}); refusing to write",
                file=target,
            )
        if m.plddt is not None and not np.isfinite(m.plddt).all():
            bad = int(np.flatnonzero(~np.isfinite(m.plddt))[0])
            raise StructureError(
                f"model {k}: non-finite pLDDT at residue {bad + 1}; refusing to write", file=target
            )
        # PDB coordinate columns are %8.3f: -999.999 .. 9999.999
        if (
            fmt == "pdb"
            and m.coords.size
            and (m.coords.min() <= -999.9995 or m.coords.max() >= 9999.9995)
        ):
            raise StructureError(
                f"model {k}: coordinates too large for PDB columns; mmCIF is required (--format cif)",
                file=target,
            )
    if fmt != "pdb":
        return
    too_big = first.n_residues > PDB_MAX_RESIDUES or first.n_atoms > PDB_MAX_ATOMS
    if too_big or (
        first.n_residues and not -999 <= first.res_ids.min() <= first.res_ids.max() <= 9999
    ):
        raise StructureError(
            f"{first.n_residues} residues / {first.n_atoms} atoms exceed the PDB format limits "
            f"({PDB_MAX_RESIDUES} residues numbered -999..9999, {PDB_MAX_ATOMS} atoms): "
            "mmCIF is required (--format cif)",
            file=target,
        )
    long_chain = next((c for c in first.chain_ids if len(c) > 2), None)
    if long_chain is not None:
        raise StructureError(
            f"chain id {long_chain!r} is too long for PDB (2 characters at most): "
            "mmCIF is required (--format cif)",
            file=target,
        )


def pdb_limits_problem(models: Sequence[RnaStructure]) -> str | None:
    """Why one of ``models`` (each for a file of its own) cannot be written as PDB (size,
    numbering, coordinate columns, chain ids) while mmCIF can, or None when PDB is fine."""
    for k, model in enumerate(models, 1):
        try:
            _check_writable_models([model], "pdb", "<output>")
        except StructureError as exc:
            if "mmCIF is required" not in exc.message:
                raise
            why = re.sub(r"[;:] mmCIF is required \(--format cif\)$", "", exc.message)
            return why.replace("model 1:", f"model {k}:", 1)
    return None


def to_gemmi(models: Sequence[RnaStructure], name: str = "rnapredict") -> gemmi.Structure:
    """Build a multi-model ``gemmi.Structure``; per-residue pLDDT goes to every atom's B-factor."""
    st = gemmi.Structure()
    st.name = name
    for k, m in enumerate(models, 1):
        gm = gemmi.Model(k)
        starts = m.residue_starts()
        chains: dict[str, gemmi.Chain] = {}
        order: list[str] = []
        for i in range(m.n_residues):
            cid = m.chain_ids[i]
            if cid not in chains:
                chains[cid] = gemmi.Chain(cid)
                order.append(cid)
            res = gemmi.Residue()
            res.name = m.res_names[i]
            res.seqid = gemmi.SeqId(int(m.res_ids[i]), m.ins_codes[i] or " ")
            res.entity_type = gemmi.EntityType.Polymer
            res.subchain = cid  # label_asym_id = chain id (one polymer per chain)
            res.het_flag = "A" if m.res_names[i] in ("A", "C", "G", "U", "N") else "H"
            for a_idx in range(starts[i], starts[i + 1]):
                atom = gemmi.Atom()
                atom.name = m.atom_names[a_idx]
                atom.element = gemmi.Element(m.elements[a_idx])
                x, y, z = m.coords[a_idx]
                atom.pos = gemmi.Position(float(x), float(y), float(z))
                atom.occ = 1.0
                if m.plddt is not None:  # 2 decimals, as PDB and ModelCIF metrics hold it
                    atom.b_iso = round(float(m.plddt[i]), 2)
                elif m.b_factors is not None:
                    atom.b_iso = float(m.b_factors[a_idx])
                res.add_atom(atom)
            chains[cid].add_residue(res)
        for cid in order:
            gm.add_chain(chains[cid])
        st.add_model(gm)
    setup_polymer_entities(st)
    return st


def structure_text(
    models: Sequence[RnaStructure],
    fmt: str,
    *,
    title: str = "",
    target: str = "",
    remarks: Sequence[str] = (),
    provenance: ModelProvenance | None = None,
) -> str:
    """Text of a PDB (``fmt="pdb"``) or mmCIF (``fmt="cif"``) file holding ``models``.

    ``remarks``: extra one-line notes (PDB ``REMARK 1`` lines; mmCIF ``_database_PDB_remark``).
    ``provenance``: how the (single, predicted) model was made; mmCIF is then ModelCIF
    (:mod:`rnapredict.io.modelcif`: protocol, templates, pLDDT/pTM in ``_ma_qa_metric*``).

    Raises:
        StructureError: non-finite coordinates, inconsistent models, or too large for PDB.
    """
    if fmt not in FORMATS:
        raise StructureError(f"unknown format {fmt!r} (expected pdb or cif)", file=target or None)
    _check_writable_models(models, fmt, target or "<output>")
    # One line of printable text: a record id must not inject PDB records or terminal codes
    # (escaped as in stderr and summary.tsv).
    title = " ".join(printable(title).split())
    # The mmCIF block / entry name: one token of safe characters (no spaces or quotes).
    st = to_gemmi(models, name=safe_name(title or "rnapredict")[:40])
    notes = [f"GENERATED BY rnapredict {__version__}", *([title] if title else [])]
    if models[0].plddt is not None:
        notes.append("B-FACTOR COLUMN HOLDS PER-RESIDUE PLDDT (0-100)")
    header = [f"REMARK   1 {' '.join(n.split())}"[:80].ljust(80) for n in (*notes, *remarks)]
    if fmt == "pdb":
        opt = gemmi.PdbWriteOptions()
        opt.cryst1_record = False
        try:
            body = st.make_pdb_string(opt)
        except RuntimeError as exc:  # a limit gemmi knows and we did not check
            raise StructureError(
                f"cannot write PDB: {exc}; mmCIF is required (--format cif)", file=target or None
            ) from None
        return "\n".join(header) + "\n" + body
    doc = st.make_mmcif_document()
    block = doc.sole_block()
    finish_block(block, title, header)
    if provenance is not None:
        add_modelcif(block, st, provenance, title)
    return doc.as_string()


def write_models(
    models: Sequence[RnaStructure],
    path: str | Path,
    *,
    fmt: str | None = None,
    overwrite: bool = False,
    title: str = "",
    remarks: Sequence[str] = (),
    provenance: ModelProvenance | None = None,
) -> Path:
    """Write ``models`` to ``path`` (format from the suffix unless ``fmt``) atomically;
    ``provenance``: see :func:`structure_text`."""
    path = Path(path)
    fmt = fmt or format_of(path)
    text = structure_text(
        models, fmt, title=title, target=str(path), remarks=remarks, provenance=provenance
    )
    return atomic_write_text(path, text, overwrite=overwrite)


def finite_or_raise(coords: np.ndarray, what: str) -> None:
    """Raise StructureError if ``coords`` holds NaN/inf (guard for computed coordinates)."""
    if not np.isfinite(coords).all():
        raise StructureError(f"{what}: non-finite coordinates")
