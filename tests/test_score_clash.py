"""Clashscore: overlaps > 0.4 Å, bonded/1-3/1-4 pairs excluded, gemmi search == brute force."""

from __future__ import annotations

import gemmi
import numpy as np
import pytest

from rnapredict.io.pdbio import read_structure
from rnapredict.io.structure import RnaStructure
from rnapredict.score.clash import ClashConfig, clashscore
from rnapredict.score.topology import (
    MAX_EXCLUDED_BONDS,
    TEMPLATE_BONDS,
    graph_distances,
    residue_bonds,
)
from tests.conftest import shared_path


def native(name: str) -> RnaStructure:
    return read_structure(shared_path("fixtures", "score", "natives", f"{name}.pdb"))


def brute_force_clashes(model: RnaStructure, cfg: ClashConfig) -> int:
    """O(N²) reference count with the same exclusion rules (topology by bond graph)."""
    n = model.n_atoms
    starts = model.residue_starts()
    gd = np.full((n, n), 99)
    for i in range(model.n_residues):
        s, e = starts[i], starts[i + 1]
        names = tuple(model.atom_names[s:e])
        bonds = residue_bonds(model.seq[i], names, tuple(model.elements[s:e]), model.coords[s:e])
        gd[s:e, s:e] = graph_distances(e - s, bonds)
    for i in range(model.n_residues - 1):  # O3'(i)-P(i+1) links
        s, e, s2, e2 = starts[i], starts[i + 1], starts[i + 1], starts[i + 2]
        names1, names2 = model.atom_names[s:e], model.atom_names[s2:e2]
        if "O3'" in names1 and "P" in names2:
            o3, p = s + names1.index("O3'"), s2 + names2.index("P")
            if np.linalg.norm(model.coords[o3] - model.coords[p]) < cfg.link_max:
                block = gd[s:e, o3][:, None] + 1 + gd[p, s2:e2][None, :]
                gd[s:e, s2:e2] = np.minimum(gd[s:e, s2:e2], block)
    r = np.array([gemmi.Element(el).vdw_r for el in model.elements])
    polar = np.array([el in "NO" for el in model.elements])
    d = np.linalg.norm(model.coords[:, None] - model.coords[None], axis=-1)
    allowed = cfg.overlap + np.where(polar[:, None] & polar[None, :], cfg.hbond_allowance, 0.0)
    over = (r[:, None] + r[None, :] - d) > allowed
    far = np.minimum(gd, gd.T) > MAX_EXCLUDED_BONDS
    return int(np.triu(over & far, 1).sum())


@pytest.mark.shared
def test_native_trna_has_no_clashes_and_noise_adds_them() -> None:
    trna = native("1ehz_A")
    rep = clashscore(trna)
    assert rep.n_clashes == 0 and rep.score == 0.0 and rep.n_atoms == trna.n_atoms
    noisy = trna.with_coords(
        trna.coords + np.random.default_rng(0).normal(0, 1.0, trna.coords.shape)
    )
    worse = clashscore(noisy)
    assert worse.n_clashes > 50
    assert worse.score == pytest.approx(1000 * worse.n_clashes / trna.n_atoms)
    assert worse.worst[0].overlap >= worse.worst[-1].overlap > 0.4


@pytest.mark.shared
@pytest.mark.parametrize("name", ["1ehz_A", "1ATO_A", "5m0h_A"])
def test_neighbour_search_equals_brute_force(name: str) -> None:
    model = native(name)
    noisy = model.with_coords(
        model.coords + np.random.default_rng(1).normal(0, 0.5, model.coords.shape)
    )
    cfg = ClashConfig()
    for m in (model, noisy):
        assert clashscore(m, cfg).n_clashes == brute_force_clashes(m, cfg)


@pytest.mark.shared
def test_bonded_neighbours_are_not_clashes_but_a_moved_atom_is() -> None:
    trna = native("1ehz_A")
    # Squash the O3'-P link (1.3 Å instead of 1.6): still bonded, not a clash.
    coords = trna.coords.copy()
    starts = trna.residue_starts()
    names1 = trna.atom_names[starts[0] : starts[1]]
    names2 = trna.atom_names[starts[1] : starts[2]]
    o3 = starts[0] + names1.index("O3'")
    p = starts[1] + names2.index("P")
    coords[p] = coords[o3] + (coords[p] - coords[o3]) * (
        1.3 / np.linalg.norm(coords[p] - coords[o3])
    )
    assert clashscore(trna.with_coords(coords)).n_clashes == 0
    # Put residue 30's C1' 2.0 Å from residue 5's C1': one (or a few) real clashes.
    coords = trna.coords.copy()
    c1 = [k for k, a in enumerate(trna.atom_names) if a == "C1'"]
    coords[c1[30]] = coords[c1[5]] + np.array([2.0, 0.0, 0.0])
    rep = clashscore(trna.with_coords(coords))
    assert rep.n_clashes >= 1
    assert any("C1'" in c.atom1 and "C1'" in c.atom2 for c in rep.worst)
    pair = next(c for c in rep.worst if "C1'" in c.atom1 and "C1'" in c.atom2)
    assert pair.distance == pytest.approx(2.0, abs=1e-6)
    assert pair.overlap == pytest.approx(1.7 + 1.7 - 2.0, abs=1e-4)


@pytest.mark.shared
def test_clashscore_is_rigid_invariant() -> None:
    model = native("5m0h_A")
    noisy = model.coords + np.random.default_rng(2).normal(0, 0.8, model.coords.shape)
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    a = clashscore(model.with_coords(noisy))
    # the noise really makes clashes (the native has one), so equality below is not 0 == 0
    assert clashscore(model).n_clashes == 1
    assert a.n_clashes > 200 and a.score > 200.0 and a.n_atoms == model.n_atoms
    for shift in (123.0, -4000.0):  # far from the origin: gemmi's cell grid moves too
        b = clashscore(model.with_coords(noisy @ q.T + shift))
        assert (a.n_clashes, a.n_atoms) == (b.n_clashes, b.n_atoms)
        assert b.score == pytest.approx(a.score, abs=1e-9)
        assert [(c.atom1, c.atom2) for c in b.worst] == [(c.atom1, c.atom2) for c in a.worst]
        assert [c.overlap for c in b.worst] == pytest.approx([c.overlap for c in a.worst], abs=1e-6)


def test_template_topology() -> None:
    names = ("P", "OP1", "OP2", "O5'", "C5'", "C4'", "O4'", "C3'", "O3'", "C2'", "O2'", "C1'")
    names += ("N1", "C2", "O2", "N3", "C4", "O4", "C5", "C6")
    bonds = residue_bonds("U", names, tuple(n[0] for n in names), np.zeros((len(names), 3)))
    assert len(bonds) == len(TEMPLATE_BONDS["U"]) - 1  # OP3 absent
    gd = graph_distances(len(names), bonds)
    k = names.index
    assert gd[k("P"), k("O5'")] == 1
    assert gd[k("P"), k("C5'")] == 2
    assert gd[k("P"), k("C4'")] == 3
    assert gd[k("P"), k("C3'")] > MAX_EXCLUDED_BONDS
    assert gd[k("C1'"), k("O2")] == 3
