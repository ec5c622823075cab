"""``rnapredict export``: convert structure files (library side; the CLI is a thin wrapper).

Targets (``--to``):

- ``pdb`` / ``cif`` — format conversion through gemmi, faithful to the file: every model,
  chain, ligand, water and hydrogen is kept, coordinates are copied unchanged (PDB holds
  3 decimals). ``split_models`` writes one file per model, ``merge`` writes all models of all
  inputs, in order, into one multi-model file.
- ``c1-csv`` — per-residue C1′ coordinates of up to 5 models in the Stanford RNA 3D Folding
  (Kaggle) layout ``ID,resname,resid,x_1,y_1,z_1,…,x_5,y_5,z_5`` (see :mod:`rnapredict.io.c1csv`).
- ``fasta`` — the RNA sequence of every chain (model 1), modified residues as their parent
  base, unknown ones as ``N``.
- ``dot-bracket`` — base pairs annotated from 3D (model 1), as dot-bracket FASTA.

Where outputs go (``out`` = ``-o``): see :func:`plan_outputs`; ``-`` means standard output
(one output file only: the text is returned in :attr:`ExportResult.stdout`, nothing is written);
a name ending in ``.gz`` is gzip-compressed; a ``.pdb``/``.cif`` name that contradicts ``--to``
is refused (it would hold the other format).
Nothing is overwritten without
``overwrite``; every input is read and converted before the first file is written, so an
export either writes all its outputs or none.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gemmi

from rnapredict.errors import InputError, OutputExistsError, StructureError
from rnapredict.io.atomic import atomic_write_bytes, atomic_write_text
from rnapredict.io.c1csv import c1_csv_text
from rnapredict.io.mmcif import read_block, remarks_of, set_remarks, setup_entities
from rnapredict.io.modelcif import (
    ModelProvenance,
    add_modelcif,
    copy_modelcif,
    fold_provenance,
)
from rnapredict.io.numbering import gap_warning, sequence_positions
from rnapredict.io.pdbio import (
    PDB_MAX_ATOMS,
    PDB_MAX_RESIDUES,
    format_of,
    not_a_structure_file,
    read_gemmi,
    read_models,
)
from rnapredict.io.structure import RnaStructure

STDOUT = "-"
STRUCTURE_TARGETS = ("pdb", "cif")
TEXT_TARGETS = ("c1-csv", "fasta", "dot-bracket")
TARGETS = STRUCTURE_TARGETS + TEXT_TARGETS
SUFFIX = {"pdb": ".pdb", "cif": ".cif", "c1-csv": ".csv", "fasta": ".fa", "dot-bracket": ".dbn"}
_MODEL_FILE = re.compile(r"^model_\d+$")


@dataclass(frozen=True)
class ExportOptions:
    """What ``rnapredict export`` was asked to do.

    Attributes:
        to: target format, one of :data:`TARGETS`.
        split_models: one output file per model (pdb/cif only).
        merge: all models of all inputs into one output (pdb/cif/c1-csv).
        overwrite: replace existing outputs.
    """

    to: str
    split_models: bool = False
    merge: bool = False
    overwrite: bool = False


@dataclass
class ExportResult:
    """Files written, notes for the user (e.g. padded c1-csv models), warnings (e.g. residues
    missing from a structure) and, for ``-o -``, the text meant for standard output."""

    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stdout: str | None = None


def _named_format(path: Path) -> str | None:
    """``pdb``/``cif`` when the file name says so (:func:`rnapredict.io.pdbio.format_of`),
    else None (e.g. ``.csv``)."""
    try:
        return format_of(path.name)
    except StructureError:
        return None


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz",):
        name = name.removesuffix(suffix)
    return Path(name).stem


def target_id(path: Path) -> str:
    """Name of the molecule in a file: its stem, or the folder name for fold's ``model_N``."""
    stem = _stem(path)
    if _MODEL_FILE.match(stem) and path.resolve().parent.name:
        return path.resolve().parent.name
    return stem


def _is_dir_target(out: Path) -> bool:
    return out.is_dir() or str(out).endswith(("/", "\\"))


def plan_outputs(inputs: Sequence[Path], out: Path, opts: ExportOptions) -> list[Path]:
    """Output paths, decided before any reading or writing.

    Rules for ``-o``:
      - ``--split-models``: ``out`` is a directory; files ``<stem>_model_<k>.<ext>``
        (k = 1-based model order; known only after reading, so this returns the directory).
      - ``pdb``/``cif`` with several inputs and no ``--merge``: ``out`` is a directory; one
        ``<stem>.<ext>`` per input (two inputs with the same stem are an error).
      - otherwise (one input, ``--merge``, or a text target that collects all inputs in one
        file): ``out`` is the file, unless it is an existing directory or ends with ``/``,
        then the file is ``out/<stem of first input>.<ext>``.

    Raises:
        InputError: bad option combination, no inputs, or two inputs that would write the
            same file.
        OutputExistsError: an output exists and ``opts.overwrite`` is false.
    """
    if opts.to not in TARGETS:
        raise InputError(f"unknown export format {opts.to!r} (expected {', '.join(TARGETS)})")
    if not inputs:
        raise InputError("no input files given")
    if opts.split_models and opts.merge:
        raise InputError("--split-models and --merge exclude each other")
    if opts.split_models and opts.to not in STRUCTURE_TARGETS:
        raise InputError("--split-models applies to --to pdb|cif only")
    if opts.merge and opts.to in ("fasta", "dot-bracket"):
        raise InputError("--merge applies to --to pdb|cif|c1-csv only")
    for p in inputs:
        if not Path(p).is_file():
            raise InputError(not_a_structure_file(Path(p)), file=str(p))
    ext = SUFFIX[opts.to]
    if str(out) == STDOUT:
        if opts.split_models or (
            opts.to in STRUCTURE_TARGETS and len(inputs) > 1 and not opts.merge
        ):
            raise InputError(
                "-o - (standard output) takes one output file: not with --split-models or "
                "several pdb/cif inputs without --merge"
            )
        return [out]
    if opts.split_models:
        if out.exists() and not out.is_dir():
            raise InputError("--split-models needs -o to be a directory", file=str(out))
        stems: dict[str, Path] = {}
        for p in inputs:
            if _stem(p) in stems:
                raise InputError(f"{stems[_stem(p)]} and {p} would write the same model files")
            stems[_stem(p)] = p
        return [out]
    if opts.to in STRUCTURE_TARGETS and len(inputs) > 1 and not opts.merge:
        if out.exists() and not out.is_dir():
            raise InputError("several inputs need -o to be a directory", file=str(out))
        outs = [out / f"{_stem(p)}{ext}" for p in inputs]
    else:
        outs = [out / f"{_stem(inputs[0])}{ext}" if _is_dir_target(out) else out]
    seen: dict[Path, Path] = {}
    for p, o in zip(inputs, outs, strict=False):
        if o in seen:
            raise InputError(f"{seen[o]} and {p} would both be written to {o}")
        seen[o] = p
    sources = {Path(p).resolve() for p in inputs}
    for o in outs:
        if o.resolve() in sources:
            raise InputError("output would replace an input", file=str(o))
    for o in outs:
        named = _named_format(o)
        if named is not None and named != opts.to:
            raise InputError(
                f"the output name says {named} but --to is {opts.to}; name it "
                f"{_stem(o)}{SUFFIX[opts.to]}",
                file=str(o),
            )
    if not opts.overwrite:
        for o in outs:
            if o.exists():
                raise OutputExistsError(
                    "output exists; pass --overwrite to replace it", file=str(o)
                )
    return outs


# ------------------------------------------------------------------------------ pdb / cif
def gemmi_text(
    st: gemmi.Structure,
    fmt: str,
    target: str,
    modelcif: gemmi.cif.Block | ModelProvenance | None = None,
) -> str:
    """PDB or mmCIF text of a gemmi structure; PDB limits give an error suggesting mmCIF.

    PDB REMARKs (``st.raw_remarks``) go to mmCIF's ``_database_PDB_remark`` and back; a unit
    cell (``CRYST1``) is written only for a crystal. ``modelcif``: for an mmCIF output, the
    input's block, whose ModelCIF categories (confidence, protocol) are copied, or a fold
    model's provenance, from which they are written.
    """
    if fmt == "cif":
        setup_entities(st)
        doc = st.make_mmcif_document()
        block = doc.sole_block()
        set_remarks(block, st.raw_remarks)
        if isinstance(modelcif, ModelProvenance):
            add_modelcif(block, st, modelcif, st.name)
        elif modelcif is not None:
            copy_modelcif(modelcif, block)
        return doc.as_string()
    n_atoms = max(m.count_atom_sites() for m in st)
    big_num = max((abs(r.seqid.num) for m in st for c in m for r in c), default=0)
    if n_atoms > PDB_MAX_ATOMS or big_num > PDB_MAX_RESIDUES:
        raise StructureError(
            f"{n_atoms} atoms / residue number {big_num} exceed the PDB format limits "
            f"({PDB_MAX_ATOMS} atoms, {PDB_MAX_RESIDUES} residues): mmCIF is required (--to cif)",
            file=target,
        )
    opt = gemmi.PdbWriteOptions()
    opt.cryst1_record = st.cell.is_crystal()
    try:
        return st.make_pdb_string(opt)
    except RuntimeError as exc:  # e.g. chain name too long for the PDB format
        raise StructureError(f"cannot write PDB: {exc}; use --to cif", file=target) from None


def _read(path: Path) -> tuple[gemmi.Structure, gemmi.cif.Block | ModelProvenance | None]:
    """A structure file and what makes its mmCIF a ModelCIF file: for mmCIF, its data block
    (PDB REMARKs kept in its ``_database_PDB_remark`` are put back in ``raw_remarks``); for
    a fold model in PDB, its provenance from the ``confidence.json`` beside it."""
    st = read_gemmi(path)
    if format_of(path) != "cif":
        return st, fold_provenance(path) if len(st) == 1 else None
    block = read_block(path)
    if not st.raw_remarks:
        st.raw_remarks = remarks_of(block)
    return st, block


def _only_model(st: gemmi.Structure, k: int) -> gemmi.Structure:
    one = st.clone()
    for i in reversed(range(len(one))):
        if i != k:
            del one[i]
    one.renumber_models()
    return one


def _merged(structures: Sequence[gemmi.Structure]) -> gemmi.Structure:
    merged = structures[0].clone()
    for st in structures[1:]:
        for model in st:
            merged.add_model(model)
    merged.renumber_models()
    return merged


# ------------------------------------------------------------------------------ text targets
def fasta_text(
    models: RnaStructure, record_prefix: str, source: str, warnings: list[str] | None = None
) -> str:
    """One FASTA record per chain of ``models`` (id ``<prefix>_<chain>``), 60 nt per line.

    Residues missing inside a chain (a jump in its numbering) are written as one ``N`` each,
    so positions match the structure's numbering; ``warnings`` gets a line naming them.
    """
    out: list[str] = []
    pos, gaps = sequence_positions(models)
    if gaps and warnings is not None:
        warnings.append(gap_warning(record_prefix, gaps, "written as N"))
    order = list(dict.fromkeys(models.chain_ids))
    for chain in order:
        idx = [i for i, c in enumerate(models.chain_ids) if c == chain]
        full = ["N"] * int(pos[idx[-1]] - pos[idx[0]] + 1)
        for i in idx:
            full[pos[i] - pos[idx[0]]] = models.seq[i]
        seq = "".join(full)
        out.append(f">{record_prefix}_{chain} chain {chain} of {source}\n")
        out.extend(seq[i : i + 60] + "\n" for i in range(0, len(seq), 60))
    return "".join(out)


def dot_bracket_text(model: RnaStructure, record_id: str, source: str) -> str:
    """Dot-bracket FASTA record of the base pairs annotated in ``model``."""
    try:
        from rnapredict.score.basepairs import structure_dot_bracket
    except ImportError:
        raise StructureError(
            "dot-bracket export needs the base-pair annotator (rnapredict.score.basepairs), "
            "which this installation lacks",
            file=source,
        ) from None
    ss = structure_dot_bracket(model)
    return f">{record_id}\n{model.seq}\n{ss}\n"


# ------------------------------------------------------------------------------ driver
def _structure_texts(
    inputs: list[Path], out: Path, outs: list[Path], opts: ExportOptions
) -> list[tuple[Path, str]]:
    """``[(output path, file text)]`` for pdb/cif targets; every input read before any write."""
    fmt = opts.to
    if opts.merge:
        merged = _merged([_read(p)[0] for p in inputs])
        return [(outs[0], gemmi_text(merged, fmt, str(outs[0])))]
    if not opts.split_models:
        texts = []
        for p, o in zip(inputs, outs, strict=True):
            st, block = _read(p)
            texts.append((o, gemmi_text(st, fmt, str(o), modelcif=block)))
        return texts
    jobs = []
    for p in inputs:
        st = _read(p)[0]
        jobs += [
            (out / f"{_stem(p)}_model_{k + 1}{SUFFIX[fmt]}", _only_model(st, k))
            for k in range(len(st))
        ]
    if not opts.overwrite:
        for o, _ in jobs:
            if o.exists():
                raise OutputExistsError(
                    "output exists; pass --overwrite to replace it", file=str(o)
                )
    return [(o, gemmi_text(st, fmt, str(o))) for o, st in jobs]


def _text_output(inputs: list[Path], opts: ExportOptions, result: ExportResult) -> str:
    """File text for the c1-csv, fasta and dot-bracket targets (all inputs in one file)."""
    ids = [target_id(p) for p in inputs]
    if not opts.merge:
        dup = next((i for k, i in enumerate(ids) if i in ids[:k]), None)
        if dup is not None:
            raise InputError(f"two inputs have the same target name {dup!r}; rename one")
    if opts.to == "c1-csv":
        if opts.merge:
            targets = [(ids[0], [m for p in inputs for m in read_models(p)])]
        else:
            targets = [(i, read_models(p)) for i, p in zip(ids, inputs, strict=True)]
        text, notes, warnings = c1_csv_text(targets, sources=[str(p) for p in inputs])
        result.notes.extend(notes)
        result.warnings.extend(warnings)
        return text
    if opts.to == "fasta":
        return "".join(
            fasta_text(read_models(p)[0], i, p.name, result.warnings)
            for i, p in zip(ids, inputs, strict=True)
        )
    return "".join(
        dot_bracket_text(read_models(p)[0], i, str(p)) for i, p in zip(ids, inputs, strict=True)
    )


def export(inputs: Sequence[Path | str], out: Path | str, opts: ExportOptions) -> ExportResult:
    """Run one export (see the module docstring and :func:`plan_outputs`).

    Raises:
        InputError, OutputExistsError: before anything is written.
        StructureError: an input cannot be read or the target cannot hold it (nothing written).
    """
    inputs = [Path(p) for p in inputs]
    out = Path(out)
    outs = plan_outputs(inputs, out, opts)
    result = ExportResult()
    if opts.to in STRUCTURE_TARGETS:
        texts = _structure_texts(inputs, out, outs, opts)
    else:
        texts = [(outs[0], _text_output(inputs, opts, result))]
    if str(out) == STDOUT:
        result.stdout = "".join(text for _, text in texts)
        return result
    for o, text in texts:
        if o.name.endswith(".gz"):  # gzip as the name says; mtime 0: same input, same bytes
            data = gzip.compress(text.encode("utf-8"), mtime=0)
            result.written.append(atomic_write_bytes(o, data, overwrite=opts.overwrite))
        else:
            result.written.append(atomic_write_text(o, text, overwrite=opts.overwrite))
    return result
