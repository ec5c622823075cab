"""From an :class:`RnaStructure` to a complete, protonated OpenMM topology (PDBFixer).

What goes into the physics and what does not:

- Residues named ``A``, ``C``, ``G``, ``U`` are relaxed. PDBFixer adds missing heavy atoms and
  hydrogens (pH 7) from the Amber templates.
- Chains are cut into *segments* at chain changes and at backbone breaks (O3'(i)–P(i+1)
  farther than :data:`LINK_MAX` Å, or atoms to tell are missing); each segment is one OpenMM
  chain with a free 5′ end (no phosphate: Amber's ``A5`` template) and a 3′ O3′ end (``A3``).
- Atoms the force field has no place for — the 5′ phosphate (``P``, ``OP1``, ``OP2``, ``OP3``)
  of a segment's first residue, ``OP3`` elsewhere — are *carried*: moved rigidly with their
  residue after relaxation, so the output keeps every input atom. During it they (and frozen
  residues) are walls the relaxed atoms cannot be pushed into (:mod:`rnapredict.relax.obstacles`).
- ``N`` (unknown) and modified residues (``2MG``, ``PSU``, ...) are *frozen*: left out of the
  physics and written back unchanged, with a warning. Neighbouring residues become chain ends,
  *anchored* where they were bonded to the frozen residue: the O3′ before it and the O5′ after
  it are held fixed (zero mass) and that 5′ phosphate stays in place, so the O3′–P links to
  the frozen residue keep their input lengths (free ends had moved them to 1.3–1.85 Å).
- A standard residue with an atom its template does not know (``O6`` in an ``A``, a foreign
  name) is a :class:`~rnapredict.errors.RelaxError` naming the residue: the template does not
  match, and guessing which atoms are right would silently damage the model.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import openmm
import openmm.app as app
from pdbfixer import PDBFixer

from rnapredict.errors import RelaxError
from rnapredict.io.pdbio import structure_text
from rnapredict.io.structure import NUCLEOTIDE_ATOMS, RnaStructure
from rnapredict.relax.system import forcefield as _forcefield

#: O3'(i)–P(i+1) distance (Å) above which consecutive residues are treated as a chain break.
#: Stretched bonds of a predicted model below it are pulled together by the force field.
LINK_MAX = 4.0
#: An O3'(i)–P(i+1) link longer than this (Å) but within :data:`LINK_MAX` is a backbone gap
#: that the force field closes; the input was not a continuous chain there, so it is reported.
GAP_WARN = 2.5
#: Fallback link tests when O3' or P is missing: (atom of i, atom of i+1, max distance Å).
_LINK_TESTS = (("O3'", "P", LINK_MAX), ("O3'", "O5'", 5.0), ("C3'", "P", 5.0), ("C3'", "O5'", 6.0))
#: Residue names the Amber RNA templates cover.
STANDARD = ("A", "C", "G", "U")
#: Phosphate atoms the 5′-terminal templates have no place for.
FIVE_PRIME_PHOSPHATE = ("P", "OP1", "OP2", "OP3")
#: Segment chain ids handed to PDBFixer; adjacent segments always differ.
_CHAIN_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def vacuum_forcefield() -> app.ForceField:
    """Amber14 without implicit solvent (templates for hydrogen placement)."""
    return _forcefield(solvent=False)


@dataclass
class PreparedModel:
    """A model made ready for OpenMM.

    Attributes:
        topology: OpenMM topology with all heavy atoms and hydrogens; residue k of it is input
            residue ``residue_of[k]``.
        positions: [A, 3] float64, nm, OpenMM atom positions.
        residue_of: [R] int, input residue index of each OpenMM residue.
        source_atom: [A] int, input atom index of each OpenMM atom (-1: added by PDBFixer).
        carried: input atom indices not in the physics (moved rigidly with their residue).
        frozen: input residue indices left out of the physics (written back unchanged).
        anchored: OpenMM atom indices held fixed (zero mass): the O3′/O5′ bonded to a frozen
            residue.
        anchored_residues: input residues whose 5′ phosphate is bonded to a frozen residue
            (kept at its input position, not carried).
        warnings: human-readable notes (frozen residues, carried atoms).
        fixed_nm: [F, 3] nm, input positions of the heavy atoms outside the physics (carried
            and frozen): obstacles the relaxed atoms must not be pushed into.
        fixed_residue: [F] int, input residue index of each of them.
    """

    topology: app.Topology
    positions: np.ndarray
    residue_of: np.ndarray
    source_atom: np.ndarray
    carried: list[int] = field(default_factory=list)
    frozen: list[int] = field(default_factory=list)
    anchored: list[int] = field(default_factory=list)
    anchored_residues: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fixed_nm: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    fixed_residue: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def atom_residue(self) -> np.ndarray:
        """[A] int: input residue index of each OpenMM atom."""
        return np.array([self.residue_of[a.residue.index] for a in self.topology.atoms()])

    @property
    def heavy_mask(self) -> np.ndarray:
        """[A] bool: OpenMM atom is not a hydrogen."""
        return np.array(
            [a.element is not None and a.element.symbol != "H" for a in self.topology.atoms()],
            bool,
        )


def _linked(model: RnaStructure, i: int) -> bool:
    """Residue ``i`` is covalently linked to ``i + 1`` (same chain, backbone atoms close)."""
    if model.chain_ids[i] != model.chain_ids[i + 1]:
        return False
    a, b = model.residue_atoms(i), model.residue_atoms(i + 1)
    for name_a, name_b, dmax in _LINK_TESTS:
        if name_a in a and name_b in b:
            return float(np.linalg.norm(a[name_a] - b[name_b])) <= dmax
    return False


def segments(model: RnaStructure) -> tuple[list[list[int]], list[int]]:
    """Split residues into covalently continuous runs of standard residues.

    Returns:
        segments: lists of input residue indices, in order; frozen: indices of ``N`` and
        modified residues, which belong to no segment.
    """
    segs: list[list[int]] = []
    frozen: list[int] = []
    current: list[int] = []
    for i in range(model.n_residues):
        if model.res_names[i] not in STANDARD:
            frozen.append(i)
            if current:
                segs.append(current)
            current = []
            continue
        if current and not _linked(model, current[-1]) or current and current[-1] != i - 1:
            segs.append(current)
            current = []
        current.append(i)
    if current:
        segs.append(current)
    return segs, frozen


def closed_gaps(model: RnaStructure, segs: list[list[int]]) -> list[str]:
    """Backbone gaps inside segments that the force field will close: O3'(i)–P(i+1) longer
    than :data:`GAP_WARN` Å (ideal 1.6 Å), as texts like ``O3'(29)–P(30) 2.96 Å``."""
    labels = model.residue_labels()
    out = []
    for seg in segs:
        for i, j in zip(seg[:-1], seg[1:], strict=True):
            a, b = model.residue_atoms(i), model.residue_atoms(j)
            if "O3'" in a and "P" in b:
                d = float(np.linalg.norm(a["O3'"] - b["P"]))
                if d > GAP_WARN:
                    out.append(f"O3'({labels[i]})–P({labels[j]}) {d:.2f} Å")
    return out


def check_templates(model: RnaStructure) -> None:
    """Raise :class:`RelaxError` if a standard residue has an atom its template lacks."""
    labels = model.residue_labels()
    for k, name in enumerate(model.atom_names):
        i = int(model.atom_res[k])
        res = model.res_names[i]
        if res in STANDARD and name not in NUCLEOTIDE_ATOMS[res] and name != "OP3":
            raise RelaxError(
                f"template does not match: residue {labels[i]} has atom {name!r}, which a "
                f"standard {res} nucleotide does not have"
            )


def prepare(
    model: RnaStructure,
    forcefield: app.ForceField | None = None,
    *,
    ph: float = 7.0,
    platform: openmm.Platform | None = None,
    seed: int = 0,
    keep_input_h: bool = True,
) -> PreparedModel:
    """Complete heavy atoms and add hydrogens with PDBFixer.

    Args:
        model: the model; heavy atoms drive everything, hydrogens are optional.
        forcefield: the force field whose templates place the hydrogens (default: Amber14 in
            vacuum; placement only needs the templates, and vacuum is much cheaper than GBn2).
        ph: pH for protonation states.
        platform: OpenMM platform for PDBFixer's own small minimizations (default: the CPU
            platform on one thread, deterministic and ~1.7x faster than Reference: 1.2 s
            against 2.0 s for the hydrogens of a 103-nt model).
        seed: seed of PDBFixer's integrator (placing missing atoms), for reproducibility.
        keep_input_h: keep the input's hydrogens (names as Amber's) instead of rebuilding.

    ``source_atom`` indexes ``model.heavy_atoms()``; hydrogens are never mapped (-1).

    Raises:
        RelaxError: no standard residue to relax, or a residue does not match its template.
    """
    forcefield = forcefield or vacuum_forcefield()
    full = model
    model = full.heavy_atoms()
    check_templates(model)
    segs, frozen = segments(model)
    labels = model.residue_labels()
    warnings: list[str] = []
    if frozen:
        shown = ", ".join(labels[i] for i in frozen[:5]) + (" ..." if len(frozen) > 5 else "")
        warnings.append(
            f"{len(frozen)} N/modified residue(s) kept unrelaxed (no force-field template): {shown}"
        )
    if not segs:
        raise RelaxError("no standard A/C/G/U residue to relax (only N or modified residues)")
    gaps = closed_gaps(model, segs)
    if gaps:
        shown = ", ".join(gaps[:3]) + (" ..." if len(gaps) > 3 else "")
        warnings.append(
            f"{len(gaps)} backbone gap(s) in the input closed by the force field "
            f"(O3'–P over {GAP_WARN:g} Å; ideal 1.6 Å): {shown}"
        )

    # Which input atoms enter the physics: all of a segment except a 5' phosphate and OP3.
    keep = np.zeros(model.n_atoms, bool)
    seg_start = {seg[0] for seg in segs}
    in_segment = np.zeros(model.n_residues, bool)
    for seg in segs:
        in_segment[seg] = True
    for k, name in enumerate(model.atom_names):
        i = int(model.atom_res[k])
        if not in_segment[i] or name == "OP3":
            continue
        if i in seg_start and name in FIVE_PRIME_PHOSPHATE:
            continue
        keep[k] = True
    carried = [k for k in range(model.n_atoms) if in_segment[model.atom_res[k]] and not keep[k]]
    after_frozen, before_frozen = _frozen_neighbours(model, segs, frozen)
    moved = [k for k in carried if int(model.atom_res[k]) not in after_frozen]
    if moved:  # the others are bonded to a frozen residue and stay in place
        warnings.append(
            f"{len(moved)} terminal phosphate atom(s) moved rigidly with their residue "
            "(no 5'-phosphate template in the force field)"
        )

    # Input hydrogens of relaxed residues are kept (PDBFixer only adds the missing ones), so
    # relaxing a --keep-h output again starts from the same minimum.
    is_h = np.array([e in ("H", "D") for e in full.elements], bool)
    heavy_of_full = np.where(is_h, -1, np.cumsum(~is_h) - 1)
    keep_full = np.zeros(full.n_atoms, bool)
    keep_full[~is_h] = keep
    if keep_input_h:
        keep_full[is_h] = in_segment[full.atom_res[is_h]]
    full_starts = full.residue_starts()

    # Physics copy: one chain per segment, residues numbered 1..n within it; mapped by order.
    order = [i for seg in segs for i in seg]
    phys = full.select_residues(order).select_atoms(
        keep_full[np.concatenate([np.arange(full_starts[i], full_starts[i + 1]) for i in order])]
    )
    chain_ids: list[str] = []
    res_ids: list[int] = []
    for s, seg in enumerate(segs):
        chain_ids += [_CHAIN_IDS[s % len(_CHAIN_IDS)]] * len(seg)
        res_ids += [1 + (j % 9999) for j in range(len(seg))]
    phys.chain_ids = chain_ids
    phys.res_ids = np.asarray(res_ids, np.int64)
    phys.ins_codes = [""] * len(order)
    phys.plddt, phys.b_factors = None, None

    with _fixer_platform(platform) as chosen:
        fixer = _fix(phys, chosen, len(order), len(segs), forcefield, ph, seed)

    residue_of = np.asarray(order, np.int64)
    anchored: list[int] = []
    source: list[int] = []
    for k, res in enumerate(fixer.topology.residues()):
        i = int(residue_of[k])
        anchored += [
            atom.index
            for atom in res.atoms()
            if (i in after_frozen and atom.name == "O5'")
            or (i in before_frozen and atom.name == "O3'")
        ]
        names = {
            full.atom_names[a]: int(heavy_of_full[a])
            for a in range(full_starts[i], full_starts[i + 1])
            if keep_full[a] and not is_h[a]
        }
        source += [names.get(atom.name, -1) for atom in res.atoms()]
    positions = np.array(fixer.positions.value_in_unit(openmm.unit.nanometer), np.float64)
    fixed = np.flatnonzero(~keep)  # carried atoms and frozen residues
    return PreparedModel(
        topology=fixer.topology,
        positions=positions.reshape(-1, 3),
        residue_of=residue_of,
        source_atom=np.asarray(source, np.int64),
        carried=carried,
        frozen=frozen,
        anchored=anchored,
        anchored_residues=sorted(after_frozen),
        warnings=warnings,
        fixed_nm=model.coords[fixed] / 10.0,
        fixed_residue=np.asarray(model.atom_res[fixed], np.int64),
    )


def _frozen_neighbours(
    model: RnaStructure, segs: list[list[int]], frozen: list[int]
) -> tuple[set[int], set[int]]:
    """Segment ends bonded to a frozen residue: (first residues whose 5′ P is bonded to the
    frozen residue before them, last residues whose O3′ is bonded to the frozen one after)."""
    frozen_set = set(frozen)
    after = {s[0] for s in segs if s[0] - 1 in frozen_set and _linked(model, s[0] - 1)}
    before = {s[-1] for s in segs if s[-1] + 1 in frozen_set and _linked(model, s[-1])}
    return after, before


#: Properties of the CPU platform while PDBFixer runs: one thread, so its hydrogen
#: minimization gives the same bytes every run (two threads move hydrogens by up to 0.06 Å
#: between runs, DeterministicForces notwithstanding).
_FIXER_CPU = {"Threads": "1", "DeterministicForces": "true"}


@contextmanager
def _fixer_platform(platform: openmm.Platform | None) -> Iterator[openmm.Platform]:
    """``platform``, or the CPU platform set to :data:`_FIXER_CPU` for the duration (PDBFixer
    and Modeller create their contexts without properties, so the defaults are set and then
    restored)."""
    if platform is not None:
        yield platform
        return
    try:
        cpu = openmm.Platform.getPlatformByName("CPU")
    except openmm.OpenMMException:
        yield openmm.Platform.getPlatformByName("Reference")
        return
    saved = {k: cpu.getPropertyDefaultValue(k) for k in _FIXER_CPU}
    for k, v in _FIXER_CPU.items():
        cpu.setPropertyDefaultValue(k, v)
    try:
        yield cpu
    finally:
        for k, v in saved.items():
            cpu.setPropertyDefaultValue(k, v)


def _fix(
    phys: RnaStructure,
    platform: openmm.Platform,
    n_residues: int,
    n_chains: int,
    forcefield: app.ForceField,
    ph: float,
    seed: int,
) -> PDBFixer:
    """PDBFixer on the physics copy ``phys``: missing heavy atoms, then hydrogens."""
    fixer = PDBFixer(pdbfile=io.StringIO(structure_text([phys], "pdb")), platform=platform)
    if fixer.topology.getNumResidues() != n_residues or fixer.topology.getNumChains() != n_chains:
        raise RelaxError(
            f"PDBFixer read {fixer.topology.getNumResidues()} residues in "
            f"{fixer.topology.getNumChains()} chains, expected {n_residues} in {n_chains}"
        )
    fixer.missingResidues = {}  # never invent residues; a gap is a chain break
    fixer.findMissingAtoms()
    fixer.missingTerminals = {}
    fixer.addMissingAtoms(seed=seed)
    # Modeller places hydrogens from Python's global `random`: seed it for this call only and
    # restore the caller's state, so results are reproducible and nobody else's RNG is touched.
    saved = random.getstate()
    random.seed(seed)
    try:
        fixer.addMissingHydrogens(ph, forcefield=forcefield)
    except ValueError as exc:  # Modeller: no hydrogen template for a residue
        raise RelaxError(f"template does not match while adding hydrogens: {exc}") from None
    finally:
        random.setstate(saved)

    return fixer
