"""From minimized OpenMM positions back to an :class:`RnaStructure` with the input's residues.

Residues keep the input's chain ids, numbering, insertion codes, names and pLDDT. Per residue
the atoms are: the input's heavy atoms in input order (relaxed, carried rigidly, or unchanged
for frozen residues), then heavy atoms PDBFixer added, then (optionally) hydrogens.
"""

from __future__ import annotations

import numpy as np

from rnapredict.io.structure import RnaStructure
from rnapredict.relax.fixer import PreparedModel
from rnapredict.score.superpose import apply, kabsch

NM_TO_A = 10.0


def to_structure(
    model: RnaStructure,
    prepared: PreparedModel,
    positions_nm: np.ndarray,
    *,
    keep_h: bool = False,
) -> RnaStructure:
    """Relaxed copy of ``model``.

    Args:
        model: the heavy-atom input model that ``prepared`` was made from.
        prepared: its OpenMM topology and atom mapping.
        positions_nm: [A, 3] minimized OpenMM positions, nm.
        keep_h: also write the hydrogens of the force field.

    Returns:
        The relaxed model; its first ``model.n_atoms``-per-residue atoms match ``model``'s.
    """
    xyz = np.asarray(positions_nm, np.float64).reshape(-1, 3) * NM_TO_A
    omm_atoms = list(prepared.topology.atoms())
    omm_res = np.array([a.residue.index for a in omm_atoms], np.int64)
    input_res = prepared.residue_of[omm_res]  # [A] input residue of each OpenMM atom
    new_xyz = model.coords.copy()
    mapped = prepared.source_atom >= 0
    new_xyz[prepared.source_atom[mapped]] = xyz[mapped]

    # Carried atoms (5' phosphate, OP3): turned as the relaxed atoms next to them (a local
    # frame) and hung on the relaxed atom they are bonded to, so that bond keeps its length.
    # A 5' phosphate bonded to a frozen residue stays where it is (its O5' is anchored).
    carried_res = sorted(
        {int(model.atom_res[k]) for k in prepared.carried} - set(prepared.anchored_residues)
    )
    for i in carried_res:
        sel = np.flatnonzero(mapped & (input_res == i))
        ks = [k for k in prepared.carried if model.atom_res[k] == i]
        key = "P" if any(model.atom_names[k] == "P" for k in ks) else "OP3"
        names = [model.atom_names[prepared.source_atom[a]] for a in sel]
        local = sel[[n in CARRY_ANCHORS[key] for n in names]]
        fit = local if len(local) >= 3 else sel
        r, t = kabsch(model.coords[prepared.source_atom[fit]], xyz[fit])
        hook = sel[[n == CARRY_ANCHORS[key][0] for n in names]]
        if len(hook):  # rotate about the bonded atom: exact bond length
            h_in = model.coords[prepared.source_atom[hook[0]]]
            new_xyz[ks] = xyz[hook[0]] + (model.coords[ks] - h_in) @ r.T
        else:
            new_xyz[ks] = apply(model.coords[ks], r, t)

    # Atoms absent from the input: PDBFixer's heavy atoms, then hydrogens (if kept).
    extra: dict[int, list[int]] = {}
    for a, atom in enumerate(omm_atoms):
        if prepared.source_atom[a] >= 0:
            continue
        is_h = atom.element is not None and atom.element.symbol == "H"
        if is_h and not keep_h:
            continue
        extra.setdefault(int(input_res[a]), []).append(a)
    for atoms in extra.values():
        atoms.sort(key=lambda a: omm_atoms[a].element.symbol == "H")

    starts = model.residue_starts()
    names: list[str] = []
    owner: list[int] = []
    elements: list[str] = []
    coords: list[np.ndarray] = []
    bfac: list[float] = []
    for i in range(model.n_residues):
        s, e = starts[i], starts[i + 1]
        names += model.atom_names[s:e]
        owner += [i] * (e - s)
        elements += model.elements[s:e]
        coords.append(new_xyz[s:e])
        fill = float(model.b_factors[s]) if model.b_factors is not None and e > s else 0.0
        if model.b_factors is not None:
            bfac += [float(b) for b in model.b_factors[s:e]]
        for a in extra.get(i, []):
            names.append(omm_atoms[a].name)
            owner.append(i)
            elements.append(omm_atoms[a].element.symbol)
            coords.append(xyz[a : a + 1])
            bfac.append(fill)
    return RnaStructure(
        chain_ids=list(model.chain_ids),
        res_names=list(model.res_names),
        res_ids=model.res_ids.copy(),
        ins_codes=list(model.ins_codes),
        seq=model.seq,
        atom_names=names,
        atom_res=np.asarray(owner, np.int64),
        coords=np.concatenate(coords) if coords else np.zeros((0, 3)),
        plddt=None if model.plddt is None else model.plddt.copy(),
        elements=elements,
        b_factors=np.asarray(bfac) if model.b_factors is not None else None,
    )


#: Relaxed atoms whose motion carries a residue's unrelaxed atoms, the bonded one first: the
#: 5' phosphate (no template: a segment's first residue) hangs on O5' and turns with
#: O5'–C5'–C4'–C3', an ``OP3`` hangs on its phosphate. A rigid fit to the whole residue
#: instead left P–O5' 0.16 Å short when the force field moved the 5' terminal O5' (a hydroxyl
#: in Amber) on its own (6g90, 100 nt).
CARRY_ANCHORS = {
    "P": ("O5'", "C5'", "C4'", "C3'"),
    "OP3": ("P", "OP1", "OP2", "O5'"),
}


def heavy_rmsd(before: RnaStructure, after: RnaStructure) -> float:
    """RMSD (Å, no superposition) over the heavy atoms of ``before`` matched by residue and name.

    ``after`` must have ``before``'s residues; atoms missing from ``after`` are skipped.
    """
    index = {
        (int(r), n): k
        for k, (r, n) in enumerate(zip(after.atom_res, after.atom_names, strict=True))
    }
    pairs = [
        (k, index[(int(r), n)])
        for k, (r, n, el) in enumerate(
            zip(before.atom_res, before.atom_names, before.elements, strict=True)
        )
        if el not in ("H", "D") and (int(r), n) in index
    ]
    if not pairs:
        return float("nan")
    a, b = np.asarray(pairs).T
    return float(np.sqrt(np.mean(np.sum((before.coords[a] - after.coords[b]) ** 2, axis=1))))
