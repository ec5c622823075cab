"""Conversions between slot tensors (``[L, A, 3]`` + mask) and :class:`RnaStructure`."""

from __future__ import annotations

import numpy as np
import torch

from rnapredict.errors import StructureError
from rnapredict.geometry import ideal
from rnapredict.io.structure import NUCLEOTIDE_ATOMS, RnaStructure


def atoms_to_structure(
    seq: str,
    atoms: torch.Tensor | np.ndarray,
    mask: torch.Tensor | np.ndarray,
    plddt: np.ndarray | None = None,
    chain_id: str = "A",
) -> RnaStructure:
    """One single-chain model from slot coordinates.

    Args:
        seq: L residue letters (ACGU; anything else becomes ``N``, backbone + sugar only).
        atoms: [L, A, 3] coordinates (Å), slots in NUCLEOTIDE_ATOMS order of each residue.
        mask: [L, A] bool, which slots to write.
        plddt: [L] per-residue confidence 0–100 (written to B-factors), or None.
        chain_id: chain name.
    Raises:
        StructureError: shapes do not match, or a masked-in coordinate is not finite.
    """
    xyz = atoms.detach().cpu().double().numpy() if torch.is_tensor(atoms) else np.asarray(atoms)
    keep = mask.detach().cpu().numpy() if torch.is_tensor(mask) else np.asarray(mask)
    keep = keep.astype(bool)
    n = len(seq)
    if xyz.ndim != 3 or xyz.shape[0] != n or xyz.shape[2] != 3 or keep.shape != xyz.shape[:2]:
        raise StructureError(f"atoms {xyz.shape} / mask {keep.shape} do not fit {n} residues")
    letters = "".join(c if c in "ACGU" else "N" for c in seq.upper())
    types = ideal.residue_types(letters)
    keep = keep & ideal.slot_mask_table()[types]
    if not np.isfinite(xyz[keep]).all():
        bad = int(np.argwhere(~np.isfinite(xyz).all(-1) & keep)[0, 0])
        raise StructureError("non-finite coordinates in model", position=bad + 1)
    res_idx, slot_idx = np.nonzero(keep)
    names = [NUCLEOTIDE_ATOMS[letters[r]][s] for r, s in zip(res_idx, slot_idx, strict=True)]
    return RnaStructure(
        chain_ids=[chain_id] * n,
        res_names=list(letters),
        res_ids=np.arange(1, n + 1),
        ins_codes=[""] * n,
        seq=letters,
        atom_names=names,
        atom_res=res_idx.astype(np.int64),
        coords=xyz[res_idx, slot_idx].astype(np.float64),
        plddt=None if plddt is None else np.asarray(plddt, dtype=np.float64),
    )


def structure_to_atoms(structure: RnaStructure) -> tuple[np.ndarray, np.ndarray]:
    """Slot coordinates of a model (all its residues, in order; modified residues by parent).

    Returns:
        atoms [L, A, 3] float64 (NaN where absent) and mask [L, A] bool (present atoms).
        Atoms outside the standard table (``OP3``, modification atoms) are dropped.
    """
    n = structure.n_residues
    out = np.full((n, ideal.N_SLOTS, 3), np.nan)
    index = {b: ideal.slot_index(b) for b in ideal.RESIDUE_TYPES}
    seq = structure.seq
    for k, (name, r) in enumerate(zip(structure.atom_names, structure.atom_res, strict=True)):
        slot = index.get(seq[r], index["N"]).get(name)
        if slot is not None:
            out[r, slot] = structure.coords[k]
    return out, ~np.isnan(out[..., 0])
