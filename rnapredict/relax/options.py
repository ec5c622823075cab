"""Options of a relaxation (:class:`RelaxOptions`), their measured defaults, and the
``fold --relax`` preset. No OpenMM import here: the CLI reads these at start-up."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Non-bonded/GB cutoff, nm. GBn2 (an OpenMM CustomGBForce) costs ~0.32 s per energy call
#: for a 103-nt model (3,316 atoms) at 1.2 nm, ~0.2 s at 0.9 nm, against 0.008 s in vacuum;
#: without a cutoff it is O(N²) (~10x slower at 100 nt). Relaxed with ``fold --relax``, the
#: heavy atoms at 1.0 nm lie 0.005–0.017 Å (heavy-atom RMSD) from those at 1.2 nm (cleaned
#: models of 29–103 nt) and 0.03–0.04 Å from those without a cutoff (1a9n R, HIV-1 TAR, 56 nt),
#: clashscore equal or lower; only the reported energies shift (a cutoff-dependent constant).
DEFAULT_CUTOFF_NM = 1.0
#: Default restraint constant, kcal/mol/Å² (AlphaFold's relaxer uses the same). Measured on
#: 1ATO with four residues pushed halfway into their neighbours (default rounds below):
#: clashscore 348 → 0, heavy-atom RMSD to the input 0.78 Å, every heavy-atom bond within
#: 0.042 Å of equilibrium, a second relaxation moves it 0.0004 Å. One round alone (rounds=1)
#: leaves O3' bonds of the pushed residues 0.074 Å long and moves 0.13 Å on a second pass.
DEFAULT_RESTRAIN_HEAVY = 10.0
#: Above this fraction of atoms sitting on another atom, a model is degenerate (collapsed),
#: not clashing: it is rejected at once rather than minimized for minutes.
MAX_COINCIDENT_FRACTION = 0.25
#: A relaxed model that moved farther than this (heavy-atom RMSD, Å) from its input has lost
#: its fold (restraints overwhelmed by an exploding clash): it is rejected, the input is kept.
MAX_RMSD = 3.0
#: The vacuum pre-stage runs only when the start's GBn2 energy (kJ/mol) is at least this: a
#: clash-free RNA is bound in implicit solvent (negative), and a vacuum pass would only pull
#: it towards the vacuum minimum (0.03–0.04 Å RMS on a relaxed model, breaking idempotence).
PRESTAGE_ENERGY = 0.0
#: Most GBn2 minimizations per model: after each, the restraints are re-centred on its result.
DEFAULT_ROUNDS = 4
#: Restraint constant of the re-centred rounds, kcal/mol/Å² (measured on distorted 1ATO: 2
#: leaves a residual force below the minimizer's tolerance, so a second relaxation moves
#: 0.0004 Å; 5 leaves 0.12 Å, 10 leaves 0.15 Å of soft-mode drift for the next pass).
DEFAULT_ROUND_RESTRAIN = 2.0
#: Re-centring stops once a round moves the heavy atoms less than this (RMS), Å.
DEFAULT_ROUND_TOL = 0.03


@dataclass(frozen=True)
class RelaxOptions:
    """Options of a relaxation.

    Attributes:
        steps: maximum L-BFGS iterations (OpenMM ``maxIterations``; 0: until converged).
        restrain_heavy: harmonic restraint on each heavy atom's input position, kcal/mol/Å²
            (energy ½·k·d²); 0: unrestrained.
        keep_h: keep the force field's hydrogens in the output model.
        platform: OpenMM platform (``auto``: fastest present, ``CPU``, ``CUDA``, ...).
        tolerance: convergence criterion, RMS force in kJ/mol/nm.
        cutoff_nm: non-bonded cutoff (nm); None: none (exact, O(N²)).
        max_rmsd: reject a result that moved farther than this from the input (Å).
        vacuum_prestage: first minimize in vacuum (same force field and restraints, cheap)
            when the start's GBn2 energy is >= ``prestage_energy`` (clashes), then in
            GBn2 implicit solvent; False: GBn2 only.
        prestage_energy: GBn2 energy of the start (kJ/mol) from which the vacuum pre-stage
            runs; ``-inf``: always (see :data:`FOLD_RELAX`).
        rounds: most GBn2 minimizations; after each, the restraints are re-centred on its
            result, so strain they held (stretched bonds) relaxes and the output is nearly a
            fixed point (relaxing it again moves it little). 1: one minimization.
        round_tol: stop re-centring once a round moved the heavy atoms less than this
            (RMS displacement, Å).
        round_restrain: restraint constant of the re-centred rounds (2nd on), kcal/mol/Å²;
            never stiffer than ``restrain_heavy``.
    """

    steps: int = 1000
    restrain_heavy: float = DEFAULT_RESTRAIN_HEAVY
    keep_h: bool = False
    platform: str = "auto"
    tolerance: float = 10.0
    cutoff_nm: float | None = DEFAULT_CUTOFF_NM
    max_rmsd: float = MAX_RMSD
    vacuum_prestage: bool = True
    prestage_energy: float = PRESTAGE_ENERGY
    rounds: int = DEFAULT_ROUNDS
    round_tol: float = DEFAULT_ROUND_TOL
    round_restrain: float = DEFAULT_ROUND_RESTRAIN

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0, got {self.steps}")
        if not (self.restrain_heavy >= 0 and math.isfinite(self.restrain_heavy)):
            raise ValueError(
                f"restrain_heavy must be a finite number >= 0, got {self.restrain_heavy}"
            )
        if self.rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {self.rounds}")
        if not self.round_tol >= 0:
            raise ValueError(f"round_tol must be >= 0, got {self.round_tol}")
        if not (self.round_restrain >= 0 and math.isfinite(self.round_restrain)):
            raise ValueError(
                f"round_restrain must be a finite number >= 0, got {self.round_restrain}"
            )


#: ``fold --relax``: the models are already clash-free (:mod:`rnapredict.geometry.cleanup`),
#: so one GBn2 minimization to a looser tolerance does (cleaned 29-nt HIV-1 TAR model: 36 s
#: CPU with the ``minimize`` defaults, 5.3 s with one round at 50 kJ/mol/nm). The vacuum
#: pre-stage always runs: it takes the bonded strain out at ~1/40 of a GBn2 step's cost, so
#: GBn2 needs 15–19 L-BFGS iterations instead of 30–43 (cleaned models of 29–115 nt; end state
#: 0.04–0.05 Å heavy-atom RMSD from the GBn2-only one, same or lower clashscore). With the
#: 1.0 nm cutoff: 103-nt predicted model 18.7 s → 5.7 s wall on 2 shared cores
#: (``bench/minimize.py``).
#: Restraints of 2 kcal/mol/Å² (not the default 10): at 10 the force field cannot pull apart
#: the last 0.45–0.55 Å overlaps of a cleaned model (predicted 103-nt 7LVA_A: clashscore
#: 6.4 → 8.2 after relaxing at 10, 5.0 at 5, 0.9 at 2; heavy-atom RMSD to the input 0.26,
#: 0.34, 0.49 Å; a tighter tolerance alone changed nothing: 8.2 at 20 and 10 kJ/mol/nm).
#: Tolerance 100 kJ/mol/nm with them (one OpenMM thread, nothing else running): 7LVA_A
#: 11.8 s → 7.1 s, clashscore 0.9 → 1.8 (200: 4.7 s, 9.5 — too loose).
FOLD_RELAX = RelaxOptions(rounds=1, tolerance=100.0, prestage_energy=-math.inf, restrain_heavy=2.0)
