"""All-atom clean-up (geometry/cleanup.py): clashes removed, ideal geometry and the C1′ trace
kept, predicted base pairs formed, deterministic and rotation-equivariant."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnapredict.features.secondary import partner_array
from rnapredict.geometry import ideal
from rnapredict.geometry.aform import aform_c1
from rnapredict.geometry.cleanup import clean_atoms
from rnapredict.geometry.convert import atoms_to_structure
from rnapredict.geometry.from_c1 import c1_to_atoms
from rnapredict.relax.covalent import bond_deviations, linked_residues
from rnapredict.score.basepairs import structure_dot_bracket
from rnapredict.score.clash import clashscore

SEQ = "GGGCGCAAGCCUUCGGGCUUGCGCCC"
SS = "((((((.((((....)))).))))))"
_C1 = ideal.slot_index("A")["C1'"]


@pytest.fixture(scope="module")
def squeezed() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """2 samples of a hairpin trace: squeezed to 90 % about its centre (bases
    interpenetrate), and A-form with 0.5 Å noise: c1 [2, L, 3], raw atoms [2, L, A, 3],
    mask [L, A]."""
    c1 = torch.from_numpy(aform_c1(SEQ, SS)).double()
    squeezed = c1.mean(0) + 0.9 * (c1 - c1.mean(0))
    noisy = c1 + 0.5 * torch.randn(c1.shape, generator=torch.Generator().manual_seed(1))
    c1 = torch.stack([squeezed, noisy])
    atoms, mask = c1_to_atoms(SEQ, c1, torch.from_numpy(partner_array(SS)))
    return c1, atoms, mask


def _model(atoms: torch.Tensor, mask: torch.Tensor):
    return atoms_to_structure(SEQ, atoms, mask)


def test_cleanup_removes_clashes_keeps_bonds_and_trace(squeezed) -> None:
    c1, raw, mask = squeezed
    clean = clean_atoms(SEQ, raw, partner_array(SS))
    for s in range(2):
        before, after = _model(raw[s], mask), _model(clean[s], mask)
        assert clashscore(before).score > 100  # both really clash
        assert clashscore(after).score <= 5.0
        devs = bond_deviations(after, linked_residues(before))
        assert max(d for d, _ in devs.values()) < 0.08  # every bond and O3'-P link ideal
        moved = (clean[s, :, _C1] - c1[s]).norm(dim=-1)
        assert float(moved.pow(2).mean().sqrt()) <= 0.5


def test_cleanup_forms_the_predicted_pairs(squeezed) -> None:
    _, raw, mask = squeezed
    clean = clean_atoms(SEQ, raw[1:], partner_array(SS))
    got = partner_array(structure_dot_bracket(_model(clean[0], mask)))
    want = partner_array(SS)
    paired = want >= 0
    assert (got[paired] == want[paired]).mean() >= 0.9
    assert (got[~paired] < 0).all()


def test_cleanup_is_deterministic_and_rotation_equivariant(squeezed) -> None:
    _, raw, _ = squeezed
    a = clean_atoms(SEQ, raw[:1], partner_array(SS))
    b = clean_atoms(SEQ, raw[:1].clone(), partner_array(SS))
    assert torch.equal(a, b)
    angle = torch.tensor(0.7, dtype=torch.float64)
    rot = torch.tensor(
        [[torch.cos(angle), -torch.sin(angle), 0.0], [torch.sin(angle), torch.cos(angle), 0.0],
         [0.0, 0.0, 1.0]], dtype=torch.float64,
    )  # fmt: skip
    shift = torch.tensor([5.0, -3.0, 2.0], dtype=torch.float64)
    c = clean_atoms(SEQ, raw[:1] @ rot.T + shift, partner_array(SS))
    mask = torch.from_numpy(ideal.slot_mask_table()[ideal.residue_types(SEQ)])
    diff = (c - (a @ rot.T + shift))[:, mask].norm(dim=-1)
    # float32 work: a rotated input takes a slightly different optimisation path (measured
    # max 0.017 Å), far below any model's error; on average it is the same to ~0.001 Å.
    assert float(diff.max()) < 0.05 and float(diff.mean()) < 0.005


def test_single_model_and_chain_break_left_open() -> None:
    """[L, A, 3] in, same shape out; a chain break (C1′ 30 Å apart) gets no O3′–P bond."""
    seq, ss = "GGGAAACCC" + "GGGAAACCC", "(((...)))" + "(((...)))"
    c1 = aform_c1(seq, ss)
    c1[9:] += np.array([30.0, 0.0, 0.0]) - c1[9] + c1[8]
    atoms, _ = c1_to_atoms(seq, torch.from_numpy(c1), torch.from_numpy(partner_array(ss)))
    out = clean_atoms(seq, atoms, partner_array(ss))
    assert out.shape == atoms.shape
    s = ideal.slot_index("A")
    assert float((out[8, s["O3'"]] - out[9, s["P"]]).norm()) > 10.0
    assert float((out[7, s["O3'"]] - out[8, s["P"]]).norm()) == pytest.approx(1.607, abs=0.05)


def test_per_model_partners_equal_shared_partner_when_identical() -> None:
    """[S, L] partners with identical rows give exactly the [L] result (same problem)."""
    import numpy as np
    import torch

    from rnapredict.features.secondary import partner_array
    from rnapredict.geometry.aform import aform_c1
    from rnapredict.geometry.cleanup import clean_atoms
    from rnapredict.geometry.from_c1 import c1_to_atoms

    seq, ss = "GGGCGAAAGCCCAUGC", "((((....))))...."
    c1 = torch.tensor(np.asarray(aform_c1(seq, ss)), dtype=torch.float64)
    gen = torch.Generator().manual_seed(3)
    x = c1[None] + 0.8 * torch.randn((2, len(seq), 3), generator=gen, dtype=torch.float64)
    p = partner_array(ss)
    atoms, _ = c1_to_atoms(seq, x, torch.from_numpy(p))
    shared = clean_atoms(seq, atoms, p)
    rows = clean_atoms(seq, atoms, np.stack([p, p]))
    assert torch.equal(shared, rows)


def test_each_model_gets_its_own_pairs() -> None:
    """Two models folded with different structures: each forms its own pairs, not the other's."""
    import numpy as np
    import torch

    from rnapredict.features.secondary import partner_array
    from rnapredict.geometry.aform import aform_c1
    from rnapredict.geometry.cleanup import clean_atoms
    from rnapredict.geometry.convert import atoms_to_structure
    from rnapredict.geometry.from_c1 import c1_to_atoms
    from rnapredict.score.basepairs import canonical_pair_table

    seq = "GGGGAAACCCCAGGGAAACCCU"
    ss = ["((((...))))...........", "............(((...)))."]
    parts = [partner_array(s) for s in ss]
    built = []
    for s, p in zip(ss, parts, strict=True):
        c1 = torch.tensor(np.asarray(aform_c1(seq, s)), dtype=torch.float64)[None]
        built.append(c1_to_atoms(seq, c1, torch.from_numpy(p)))
    atoms = torch.cat([b[0] for b in built])
    mask = built[0][1]
    out = clean_atoms(seq, atoms, np.stack(parts))
    for k, p in enumerate(parts):
        table = canonical_pair_table(atoms_to_structure(seq, out[k], mask, None))
        own = [(i, int(j)) for i, j in enumerate(p) if j > i]
        found = sum(int(table[i]) == j for i, j in own)
        assert found >= 0.75 * len(own), (k, found, len(own))
