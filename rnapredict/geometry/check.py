"""The last gate before a record is reported ``ok``: is every model a physical object?

A model passes when (1) every coordinate is finite, (2) no two atoms *of the same residue*
lie within :attr:`ModelCheck.min_separation` of each other and (3) every intra-residue covalent
bond the geometry builds (sugar ring, phosphate, O5'–C5'–C4' linker, glycosidic C1'–N) is
within :attr:`ModelCheck.bond_tolerance` of its ideal length (:mod:`rnapredict.geometry.ideal`).

Why these numbers: within one nucleotide the shortest bond is ~1.22 Å (C=O; P–OP 1.485) and
the closest non-bonded pair (1–3 across a bond angle) ~2.2 Å, so two atoms of one residue
0.5 Å apart are not a strained nucleotide but a collapsed one (a degenerate frame: the 1-nt
record put all 22 atoms on one point). Atoms of *different* residues closer than 0.5 Å are
steric clashes, which the engine's raw models do have (measured, shipped weights, 5 samples:
1–5 such pairs at 12–76 nt, 6–15 at 150 nt, closest 0.09 Å): a quality problem that
``--relax`` removes and clashscore measures, not a reason to withhold the model, so they are
not checked here. Measured intra-residue bond deviations of the engine are ≤ 0.12 Å (shipped
and random-init weights, 2–29 nt) and OpenMM relaxation keeps bonds within ~0.05 Å; 0.35 Å is
three times the worst measured deviation and still well short of a broken bond.

Between consecutive residues of one chain (4) the O3′(i)–P(i+1) bond is held to the same
tolerance, and (5) the C1′(i)–C1′(i+1) step must not exceed :data:`C1_STEP_MAX` (10.6 Å), the
longest covalently linked step of the training structures (measured:
:mod:`rnapredict.geometry.trace`): a longer step is a broken chain whatever its atoms say.
Steps shorter than :data:`C1_STEP_MIN` (collapsed traces) are not a reason to withhold a
model (coarse C1′-only models have them too): the engine opens them before building atoms
(:func:`rnapredict.geometry.trace.close_trace`) and says so in the model's notes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from rnapredict.geometry import ideal
from rnapredict.io.structure import RnaStructure

#: Longest covalently linked C1′(i)–C1′(i+1) step of the training structures (10.52 Å), rounded
#: up; see :mod:`rnapredict.geometry.trace`.
C1_STEP_MAX = 10.6
#: Shortest C1′(i)–C1′(i+1) step of the training structures (3.31 Å), rounded down.
C1_STEP_MIN = 3.3
#: Ideal O3′(i)–P(i+1) bond (Å).
O3P_IDEAL = ideal.bond("O3'", "P")

#: Shortest record the engine builds a real model for: one nucleotide has no C1′ neighbour to
#: orient its frame, and the geometry builder collapses all its atoms onto one point.
MIN_LENGTH = 2


@dataclass(frozen=True)
class ModelCheck:
    """Tolerances of :func:`model_problem`.

    Attributes:
        min_separation: atoms of one residue closer than this (Å) count as coincident.
        bond_tolerance: largest accepted |bond length − ideal| (Å) of an intra-residue bond.
    """

    min_separation: float = 0.5
    bond_tolerance: float = 0.35


@functools.cache
def _intra_bonds(base: str) -> tuple[tuple[str, str, float], ...]:
    bonds = [(a, b, length) for (a, b), length in ideal.BOND.items() if (a, b) != ("O3'", "P")]
    if base in ideal.GLYCOSIDIC:
        bonds.append(("C1'", ideal.GLYCOSIDIC[base][0], ideal.glycosidic_geometry(base)[0]))
    return tuple(bonds)


def _bond_table(m: RnaStructure) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every intra-residue bond present in ``m``, residue order then :func:`_intra_bonds`
    order: residue [B], atom a [B], atom b [B] (atom indices), ideal length [B] (Å)."""
    starts = m.residue_starts().tolist()
    names = m.atom_names
    res: list[int] = []
    ia: list[int] = []
    ib: list[int] = []
    want: list[float] = []
    for i in range(m.n_residues):
        where = {names[a]: a for a in range(starts[i], starts[i + 1])}
        for a, b, length in _intra_bonds(m.seq[i]):
            ka, kb = where.get(a), where.get(b)
            if ka is not None and kb is not None:
                res.append(i)
                ia.append(ka)
                ib.append(kb)
                want.append(length)
    as_int = (np.asarray(v, dtype=np.int64) for v in (res, ia, ib))
    return (*as_int, np.asarray(want, dtype=np.float64))


def _bad_bonds(m: RnaStructure, tol: float) -> Iterator[tuple[int, str, str, float, float]]:
    """(residue, atom a, atom b, length Å, ideal Å) of every intra-residue bond more than
    ``tol`` off ideal, residue order."""
    res, ia, ib, want = _bond_table(m)
    if not len(res):
        return
    coords = np.asarray(m.coords, dtype=np.float64)
    d = np.linalg.norm(coords[ia] - coords[ib], axis=1)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(np.abs(d - want) > tol)
    for k in bad.tolist():
        yield int(res[k]), m.atom_names[ia[k]], m.atom_names[ib[k]], float(d[k]), float(want[k])


def _bad_links(m: RnaStructure, tol: float) -> Iterator[tuple[int, str]]:
    """(residue i, what is wrong) for every link i → i+1 whose O3′–P bond is more than ``tol``
    Å off ideal or whose C1′ step is longer than C1_STEP_MAX, residue order. Only
    consecutive residues (same chain, residue number + 1) are linked: a gap in the numbering
    is a residue missing from the file."""
    if m.n_residues < 2:
        return
    chains = np.asarray(m.chain_ids)
    ids = np.asarray(m.res_ids)
    same = (chains[1:] == chains[:-1]) & (ids[1:] - ids[:-1] == 1)
    o3, has_o3 = m.atom_coords("O3'")
    p, has_p = m.atom_coords("P")
    c1, has_c1 = m.atom_coords("C1'")
    o3p = np.linalg.norm(o3[:-1] - p[1:], axis=1)
    step = np.linalg.norm(c1[1:] - c1[:-1], axis=1)
    with np.errstate(invalid="ignore"):
        bad_o3p = same & has_o3[:-1] & has_p[1:] & (np.abs(o3p - O3P_IDEAL) > tol)
        has_step = same & has_c1[:-1] & has_c1[1:]
        bad_step = has_step & (step > C1_STEP_MAX)
    labels = m.residue_labels()
    for i in np.flatnonzero(bad_o3p | bad_step).tolist():
        where = f"{labels[i]} to {labels[i + 1]}"
        if bad_o3p[i]:
            yield (
                i,
                (
                    f"link O3'-P from residue {where} is {o3p[i]:.2f} Å "
                    f"(ideal {O3P_IDEAL:.2f} ± {tol:.2f})"
                ),
            )
        else:
            yield (
                i,
                (
                    f"C1'-C1' step from residue {where} is {step[i]:.2f} Å "
                    f"(longest real step {C1_STEP_MAX} Å)"
                ),
            )


def _coincident_pairs(
    m: RnaStructure, coords: np.ndarray, atoms: np.ndarray, sep: float
) -> np.ndarray:
    """[P, 2] atom index pairs of one residue closer than ``sep`` Å among ``atoms`` (indices
    of finite coordinates)."""
    pairs = cKDTree(coords[atoms]).query_pairs(sep, output_type="ndarray")
    if not len(pairs):
        return pairs
    pairs = atoms[pairs]
    return pairs[m.atom_res[pairs[:, 0]] == m.atom_res[pairs[:, 1]]]


def model_problem(m: RnaStructure, check: ModelCheck | None = None) -> str | None:
    """What is physically wrong with model ``m`` (one line), or None if it passes."""
    check = check or ModelCheck()
    coords = np.asarray(m.coords, dtype=np.float64)
    if coords.size == 0:
        return "no atoms"
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        return f"non-finite coordinates at atom {bad + 1} ({m.atom_names[bad]})"
    pairs = _coincident_pairs(m, coords, np.arange(len(coords)), check.min_separation)
    if len(pairs):
        i, j = (int(v) for v in pairs[np.lexsort(pairs.T[::-1])][0])
        labels = m.residue_labels()
        return (
            f"{len(pairs)} atom pair(s) of one residue closer than {check.min_separation} Å, "
            f"e.g. {m.atom_names[i]} and {m.atom_names[j]} of {labels[m.atom_res[i]]}"
        )
    for i, a, b, d, want in _bad_bonds(m, check.bond_tolerance):
        return (
            f"bond {a}-{b} of residue {m.residue_labels()[i]} is {d:.2f} Å "
            f"(ideal {want:.2f} ± {check.bond_tolerance:.2f})"
        )
    for _, what in _bad_links(m, check.bond_tolerance):
        return what
    return None


def bad_residues(m: RnaStructure, check: ModelCheck | None = None) -> list[int]:
    """0-based residues failing :func:`model_problem`'s tests (non-finite or coincident atoms,
    an intra-residue bond off ideal; both residues of a bad link), sorted; replacing these
    residues by residues that pass, and link to their neighbours, makes the model pass."""
    check = check or ModelCheck()
    coords = np.asarray(m.coords, dtype=np.float64)
    finite = np.isfinite(coords).all(axis=1)
    bad = set(np.asarray(m.atom_res)[~finite].tolist())
    pairs = _coincident_pairs(m, coords, np.flatnonzero(finite), check.min_separation)
    bad.update(np.asarray(m.atom_res)[pairs[:, 0]].tolist() if len(pairs) else [])
    bad.update(i for i, *_ in _bad_bonds(m, check.bond_tolerance))
    for i, _ in _bad_links(m, check.bond_tolerance):
        bad.update((i, i + 1))
    return sorted(int(i) for i in bad)


def models_problem(models: Sequence[RnaStructure], check: ModelCheck | None = None) -> str | None:
    """The first problem of any model (``model k: ...``, rank order), or None if all pass."""
    for k, m in enumerate(models, 1):
        problem = model_problem(m, check)
        if problem is not None:
            return f"model {k} is not physical: {problem}"
    return None
