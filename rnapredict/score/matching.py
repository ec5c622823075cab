"""Residue correspondence between a model and a reference for index-mode scoring.

Residues are matched by (chain, number, insertion code) as US-align ``-TMscore 1`` does; when no
residue matches that way (e.g. the model's chain is named differently) by (number, insertion
code); and when numbering differs altogether but both have the same sequence, by order.
Matched residues must carry the same nucleotide (``N`` matches anything).
"""

from __future__ import annotations

import numpy as np

from rnapredict.errors import ScoringError
from rnapredict.io.structure import RnaStructure


def _keys(s: RnaStructure, with_chain: bool) -> list[tuple]:
    if with_chain:
        return list(zip(s.chain_ids, s.res_ids.tolist(), s.ins_codes, strict=True))
    return list(zip(s.res_ids.tolist(), s.ins_codes, strict=True))


def _match_by(model: RnaStructure, ref: RnaStructure, with_chain: bool) -> np.ndarray | None:
    """[Lr] model index per reference residue (-1 unmatched), or None if keys are not unique."""
    mk = _keys(model, with_chain)
    rk = _keys(ref, with_chain)
    if len(set(mk)) != len(mk) or len(set(rk)) != len(rk):
        return None
    pos = {k: i for i, k in enumerate(mk)}
    return np.array([pos.get(k, -1) for k in rk], dtype=np.int64)


def _same_base(a: str, b: str) -> bool:
    return a == b or a == "N" or b == "N"


def match_residues(
    model: RnaStructure, ref: RnaStructure, *, model_name: str, ref_name: str
) -> tuple[np.ndarray, str]:
    """Match model residues to reference residues.

    Returns:
        ref2model: [Lr] int, model residue index for each reference residue, -1 if none;
        how: ``"number"``, ``"number (chain ignored)"`` or ``"order"``.

    Raises:
        ScoringError: nothing can be matched, or matched residues differ in nucleotide.
    """
    r2m: np.ndarray | None = None
    how = ""
    for with_chain, label in ((True, "number"), (False, "number (chain ignored)")):
        r2m = _match_by(model, ref, with_chain)
        if r2m is not None and (r2m >= 0).any():
            how = label
            break
    if r2m is None or not (r2m >= 0).any():
        if model.n_residues == ref.n_residues and all(
            _same_base(a, b) for a, b in zip(model.seq, ref.seq, strict=True)
        ):
            return np.arange(ref.n_residues, dtype=np.int64), "order"
        raise ScoringError(
            f"no residue numbers in common with {ref_name} and the sequences differ "
            "(use --align structure to score a model with different numbering)",
            file=model_name,
        )
    labels_m, labels_r = model.residue_labels(), ref.residue_labels()
    for j, i in enumerate(r2m):
        if i >= 0 and not _same_base(model.seq[i], ref.seq[j]):
            raise ScoringError(
                f"sequence differs from {ref_name}: model residue {labels_m[i]} is "
                f"{model.seq[i]}, reference {labels_r[j]} is {ref.seq[j]} "
                "(use --align structure for different sequences)",
                file=model_name,
            )
    return r2m, how


def representative(s: RnaStructure, atom: str) -> tuple[np.ndarray, np.ndarray]:
    """Residues having ``atom``: their indices [K] and coordinates [K, 3] (Å)."""
    xyz, present = s.atom_coords(atom)
    present &= np.isfinite(xyz).all(axis=1)
    idx = np.nonzero(present)[0]
    return idx, xyz[idx]
