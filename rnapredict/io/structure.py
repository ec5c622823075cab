"""In-memory RNA model: residues, heavy atoms, coordinates and per-residue confidence.

One :class:`RnaStructure` is one model (one set of coordinates). An ensemble is a list of
models with the same residues and atoms. Array-first so geometry, scoring and relaxation can
work on numpy/torch directly; conversion to and from files goes through gemmi
(:mod:`rnapredict.io.pdbio`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

#: Sugar-phosphate backbone heavy atoms, PDB v3 names, in writing order.
BACKBONE_ATOMS: tuple[str, ...] = (
    "P", "OP1", "OP2", "O5'", "C5'", "C4'", "O4'", "C3'", "O3'", "C2'", "O2'", "C1'",
)  # fmt: skip

#: Base heavy atoms per standard nucleotide, PDB v3 names, in writing order.
BASE_ATOMS: dict[str, tuple[str, ...]] = {
    "A": ("N9", "C8", "N7", "C5", "C6", "N6", "N1", "C2", "N3", "C4"),
    "G": ("N9", "C8", "N7", "C5", "C6", "O6", "N1", "C2", "N2", "N3", "C4"),
    "C": ("N1", "C2", "O2", "N3", "C4", "N4", "C5", "C6"),
    "U": ("N1", "C2", "O2", "N3", "C4", "O4", "C5", "C6"),
    # N (unknown base): backbone + sugar only; see rnapredict.geometry for its placement.
    "N": (),
}

#: All heavy atoms of a standard nucleotide, PDB v3 names, in writing order.
NUCLEOTIDE_ATOMS: dict[str, tuple[str, ...]] = {
    k: BACKBONE_ATOMS + v for k, v in BASE_ATOMS.items()
}

NUCLEOTIDES = "ACGU"


def element_of(atom_name: str) -> str:
    """Element symbol of a nucleic-acid atom from its PDB name (``OP1`` → ``O``, ``H5''`` → ``H``)."""
    for ch in atom_name:
        if ch.isalpha():
            return ch.upper()
    raise ValueError(f"cannot infer element of atom {atom_name!r}")


@dataclass
class RnaStructure:
    """One model of one or more RNA chains.

    Attributes:
        chain_ids: [L] chain id of each residue.
        res_names: [L] residue name as in the file (``A``, ``G``, ``2MG``, ...; ``N`` unknown).
        res_ids: [L] int, author residue numbers.
        ins_codes: [L] insertion codes (``""`` for none).
        seq: [L] one-letter parent nucleotide of each residue (``A C G U`` or ``N``), as a str.
        atom_names: [N] PDB atom names.
        atom_res: [N] int, index (0..L-1) of the residue each atom belongs to, non-decreasing.
        coords: [N, 3] float64, Å.
        plddt: [L] float per-residue confidence 0–100 (written to B-factor), or None.
        elements: [N] element symbols.
        b_factors: [N] per-atom B-factors read from a file, or None (then plddt is used).
    """

    chain_ids: list[str]
    res_names: list[str]
    res_ids: np.ndarray
    ins_codes: list[str]
    seq: str
    atom_names: list[str]
    atom_res: np.ndarray
    coords: np.ndarray
    plddt: np.ndarray | None = None
    elements: list[str] = field(default_factory=list)
    b_factors: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.res_ids = np.asarray(self.res_ids, dtype=np.int64)
        self.atom_res = np.asarray(self.atom_res, dtype=np.int64)
        self.coords = np.asarray(self.coords, dtype=np.float64).reshape(-1, 3)
        if not self.elements:
            self.elements = [element_of(n) for n in self.atom_names]
        n_res, n_atom = len(self.res_names), len(self.atom_names)
        assert (
            len(self.chain_ids)
            == n_res
            == len(self.res_ids)
            == len(self.ins_codes)
            == len(self.seq)
        )
        assert len(self.atom_res) == n_atom == len(self.coords) == len(self.elements)
        if self.plddt is not None:
            self.plddt = np.asarray(self.plddt, dtype=np.float64)
            assert self.plddt.shape == (n_res,)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_residues(
        cls,
        seq: str,
        atoms: Sequence[dict[str, np.ndarray]],
        *,
        chain_id: str = "A",
        res_ids: Sequence[int] | None = None,
        plddt: np.ndarray | None = None,
    ) -> RnaStructure:
        """Build a single-chain model from per-residue ``{atom name: xyz}`` dicts.

        Atoms are written in the standard order of :data:`NUCLEOTIDE_ATOMS` when the residue
        is standard; extra atoms (e.g. ``OP3``, hydrogens) follow in dict order.
        """
        assert len(seq) == len(atoms)
        names: list[str] = []
        owner: list[int] = []
        xyz: list[np.ndarray] = []
        for i, (base, res_atoms) in enumerate(zip(seq, atoms, strict=True)):
            order = [a for a in NUCLEOTIDE_ATOMS.get(base, ()) if a in res_atoms]
            order += [a for a in res_atoms if a not in order]
            for a in order:
                names.append(a)
                owner.append(i)
                xyz.append(np.asarray(res_atoms[a], dtype=np.float64))
        n = len(seq)
        return cls(
            chain_ids=[chain_id] * n,
            res_names=list(seq),
            res_ids=np.arange(1, n + 1) if res_ids is None else np.asarray(res_ids),
            ins_codes=[""] * n,
            seq=seq,
            atom_names=names,
            atom_res=np.asarray(owner, dtype=np.int64),
            coords=np.stack(xyz) if xyz else np.zeros((0, 3)),
            plddt=plddt,
        )

    # ------------------------------------------------------------------ queries
    @property
    def n_residues(self) -> int:
        return len(self.res_names)

    @property
    def n_atoms(self) -> int:
        return len(self.atom_names)

    def residue_starts(self) -> np.ndarray:
        """[L+1] int offsets: atoms of residue i are ``starts[i]:starts[i+1]``."""
        return np.searchsorted(self.atom_res, np.arange(self.n_residues + 1), side="left")

    def atom_coords(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Per-residue coordinates of atom ``name``.

        Returns:
            xyz: [L, 3] float64 (NaN where missing); present: [L] bool.
        """
        xyz = np.full((self.n_residues, 3), np.nan)
        sel = np.fromiter((a == name for a in self.atom_names), bool, self.n_atoms)
        xyz[self.atom_res[sel]] = self.coords[sel]
        return xyz, ~np.isnan(xyz[:, 0])

    def residue_atoms(self, i: int) -> dict[str, np.ndarray]:
        """``{atom name: xyz [3]}`` of residue ``i``."""
        s = self.residue_starts()
        return {self.atom_names[k]: self.coords[k] for k in range(s[i], s[i + 1])}

    def residue_labels(self) -> list[str]:
        """Human labels ``chain:resname:number[icode]`` per residue, for messages."""
        return [
            f"{c}:{n}:{r}{i}"
            for c, n, r, i in zip(
                self.chain_ids, self.res_names, self.res_ids, self.ins_codes, strict=True
            )
        ]

    # ------------------------------------------------------------------ derivation
    def with_coords(self, coords: np.ndarray) -> RnaStructure:
        """Same atoms, new coordinates ``coords`` [N, 3]."""
        coords = np.asarray(coords, dtype=np.float64)
        assert coords.shape == self.coords.shape, (coords.shape, self.coords.shape)
        return replace(self, coords=coords.copy())

    def with_plddt(self, plddt: np.ndarray | None) -> RnaStructure:
        """Same model with per-residue confidence ``plddt`` [L] (0–100)."""
        return replace(self, plddt=None if plddt is None else np.asarray(plddt, dtype=np.float64))

    def select_residues(self, index: Sequence[int] | np.ndarray) -> RnaStructure:
        """Sub-model with residues ``index`` (in the given order) and their atoms."""
        index = np.asarray(index, dtype=np.int64)
        starts = self.residue_starts()
        atom_idx = np.concatenate(
            [np.arange(starts[i], starts[i + 1]) for i in index] or [np.zeros(0, np.int64)]
        ).astype(np.int64)
        remap = np.full(self.n_residues, -1, np.int64)
        remap[index] = np.arange(len(index))
        return RnaStructure(
            chain_ids=[self.chain_ids[i] for i in index],
            res_names=[self.res_names[i] for i in index],
            res_ids=self.res_ids[index],
            ins_codes=[self.ins_codes[i] for i in index],
            seq="".join(self.seq[i] for i in index),
            atom_names=[self.atom_names[k] for k in atom_idx],
            atom_res=remap[self.atom_res[atom_idx]],
            coords=self.coords[atom_idx],
            plddt=None if self.plddt is None else self.plddt[index],
            elements=[self.elements[k] for k in atom_idx],
            b_factors=None if self.b_factors is None else self.b_factors[atom_idx],
        )

    def select_atoms(self, keep: np.ndarray) -> RnaStructure:
        """Same residues with only the atoms where ``keep`` [N] bool is true."""
        keep = np.asarray(keep, dtype=bool)
        return replace(
            self,
            atom_names=[a for a, k in zip(self.atom_names, keep, strict=True) if k],
            atom_res=self.atom_res[keep],
            coords=self.coords[keep],
            elements=[e for e, k in zip(self.elements, keep, strict=True) if k],
            b_factors=None if self.b_factors is None else self.b_factors[keep],
        )

    def heavy_atoms(self) -> RnaStructure:
        """Same model without hydrogens."""
        return self.select_atoms(np.array([e not in ("H", "D") for e in self.elements], bool))
