"""mmCIF conventions shared by the writers: asym ids, PDB REMARKs, our ``_software`` row.

gemmi builds the coordinate categories; these helpers fix what readers of the field expect
around them. PDB ``REMARK`` lines travel through mmCIF in ``_database_PDB_remark`` (id = the
remark number, text = its lines), so PDB → mmCIF → PDB keeps provenance remarks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import gemmi

from rnapredict import __version__

_REMARK = re.compile(r"^REMARK\s*(\d+)\s?(.*)$")


def asym_ids() -> Iterator[str]:
    """``A, B, ..., Z, AA, BA, ..., ZA, AB, ...`` (the wwPDB's ``label_asym_id`` sequence)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    n = 0
    while True:
        k, name = n, ""
        while True:
            name += letters[k % 26]
            k = k // 26 - 1
            if k < 0:
                break
        yield name
        n += 1


def proper_asym_ids(st: gemmi.Structure) -> None:
    """Replace gemmi's made-up subchain names (``Axp``, ``Axw`` for a PDB input) by proper
    ``label_asym_id`` values: a chain's polymer keeps the chain's name, every other subchain
    (ligands, water) takes the next unused id of :func:`asym_ids`. Names already of that kind
    (an mmCIF input) are kept."""
    subchains = list(dict.fromkeys(r.subchain for m in st for c in m for r in c if r.subchain))
    made_up = {r.subchain for m in st for c in m for r in c if r.subchain.startswith(f"{c.name}x")}
    if not made_up:
        return
    rename: dict[str, str] = {}
    used: set[str] = set()
    for model in st:
        for chain in model:
            poly = chain.get_polymer()
            if len(poly) and poly.subchain_id() not in rename and chain.name not in used:
                rename[poly.subchain_id()] = chain.name
                used.add(chain.name)
    fresh = (a for a in asym_ids() if a not in used)
    for sub in subchains:
        if sub not in rename:
            rename[sub] = next(fresh)
    for model in st:
        for chain in model:
            for res in chain:
                res.subchain = rename.get(res.subchain, res.subchain)
    for ent in st.entities:
        ent.subchains = [rename.get(s, s) for s in ent.subchains]


def setup_polymer_entities(st: gemmi.Structure) -> None:
    """Entities as in PDB entries: ids ``1, 2, ...``, type polymer / polyribonucleotide, the
    full sequence (residue names) of each chain, and ``label_seq_id`` 1..L along it, so
    mmCIF readers (Mol*, ChimeraX, PDB validation) see a proper RNA polymer."""
    st.setup_entities()
    if len(st) == 0:
        return
    first = st[0]
    for k, ent in enumerate(st.entities, 1):
        ent.name = str(k)
        ent.entity_type = gemmi.EntityType.Polymer
        ent.polymer_type = gemmi.PolymerType.Rna
        chain = next((c for c in first if c.get_polymer().subchain_id() in ent.subchains), None)
        if chain is not None:
            ent.full_sequence = [r.name for r in chain]
    for model in st:
        for chain in model:
            for res in chain:
                ent = st.get_entity_of(chain.get_polymer())
                if ent is not None:
                    res.entity_id = ent.name
    st.assign_label_seq_id(force=True)


def setup_entities(st: gemmi.Structure) -> None:
    """Entities as mmCIF readers expect them. gemmi's ``setup_entities`` alone left a PDB
    input's residues without ``label_entity_id`` and ``label_seq_id`` (written as ``.``);
    here entities are numbered ``1, 2, ...``, every residue gets its entity, a polymer without
    SEQRES gets the sequence of its first chain, and polymer residues get ``label_seq_id``.
    Files whose residues already carry entities (mmCIF) are left as they are."""
    st.setup_entities()
    proper_asym_ids(st)
    residues = [r for m in st for c in m for r in c]
    if not residues or all(r.entity_id for r in residues):
        return
    by_subchain = {}
    for k, ent in enumerate(st.entities, 1):
        ent.name = str(k)
        for sub in ent.subchains:
            by_subchain[sub] = ent
    for ent in st.entities:
        if ent.entity_type == gemmi.EntityType.Polymer and not ent.full_sequence:
            for chain in st[0]:
                names = [r.name for r in chain if r.subchain in ent.subchains]
                if names:
                    ent.full_sequence = names
                    break
    for r in residues:
        ent = by_subchain.get(r.subchain)
        if ent is not None:
            r.entity_id = ent.name
    st.assign_label_seq_id(force=False)


def set_remarks(block: gemmi.cif.Block, lines: Sequence[str]) -> None:
    """Write PDB ``REMARK`` lines (``REMARK   1 text``) as ``_database_PDB_remark`` rows."""
    by_id: dict[str, list[str]] = {}
    for line in lines:
        m = _REMARK.match(line.rstrip())
        if m:
            by_id.setdefault(m.group(1), []).append(m.group(2).rstrip())
    if not by_id:
        return
    loop = block.init_loop("_database_PDB_remark.", ["id", "text"])
    for rid, texts in by_id.items():
        loop.add_row([rid, gemmi.cif.quote("\n".join(texts))])


def remarks_of(block: gemmi.cif.Block) -> list[str]:
    """PDB ``REMARK`` lines (80 columns) from ``_database_PDB_remark``; [] without it."""
    table = block.find("_database_PDB_remark.", ["id", "text"])
    lines = []
    for row in table:
        rid, text = gemmi.cif.as_string(row[0]), gemmi.cif.as_string(row[1])
        for part in text.splitlines() or [""]:
            lines.append(f"REMARK {rid:>3} {part}"[:80].ljust(80))
    return lines


def read_block(path: str | Path) -> gemmi.cif.Block:
    """The first data block of an mmCIF file (``.gz`` allowed)."""
    return gemmi.cif.read(str(path))[0]


def set_struct(block: gemmi.cif.Block, items: dict[str, str]) -> None:
    """Set ``_struct`` items (raw mmCIF values), keeping the category's items together
    (readers such as Mol* expect one run of ``_struct.`` pairs)."""
    table = block.find_mmcif_category("_struct.")
    old = (
        {t.removeprefix("_struct."): table[0][k] for k, t in enumerate(table.tags)}
        if len(table)
        else {}
    )
    table.erase()
    for key, value in {**old, **items}.items():
        block.set_pair(f"_struct.{key}", value)


def finish_block(block: gemmi.cif.Block, title: str, remark_lines: Sequence[str]) -> None:
    """Our ``_software`` row, ``RNA linking`` chemical components, the title and the PDB
    REMARK lines (as written in the PDB header) of an mmCIF file we write."""
    for cat in ("_cell.", "_symmetry."):  # a model is no crystal: no 1 Å unit cell
        block.find_mmcif_category(cat).erase()
    loop = block.init_loop("_software.", ["pdbx_ordinal", "name", "version", "classification"])
    loop.add_row(["1", "rnapredict", gemmi.cif.quote(__version__), "'model building'"])
    chem_comp = block.find_mmcif_category("_chem_comp.")
    if len(chem_comp) and "_chem_comp.type" in list(chem_comp.tags):
        col = list(chem_comp.tags).index("_chem_comp.type")
        for row in chem_comp:
            row[col] = gemmi.cif.quote("RNA linking")
    struct = {"pdbx_structure_determination_methodology": "computational"}
    set_struct(block, {"title": gemmi.cif.quote(title), **struct} if title else struct)
    set_remarks(block, remark_lines)
