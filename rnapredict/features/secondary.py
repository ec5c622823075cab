"""Secondary structure as the model sees it: dot-bracket → partner index per residue.

Parsing is :func:`rnapredict.io.secondary.parse_dot_bracket` (brackets ``() [] {} <>``,
letter pairs ``Aa`` … ``Zz``; malformed input raises :class:`SecondaryStructureError` with the
1-based position); the default structure is ViennaRNA's MFE (:mod:`rnapredict.features.vienna`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import RNA

from rnapredict.features.vienna import DEFAULT_CONFIG, ViennaConfig, mfe_structure
from rnapredict.io.secondary import parse_dot_bracket


def partner_array(ss: str) -> np.ndarray:
    """Partner index of each residue.

    Args:
        ss: dot-bracket string of length L (``. - _ , :`` are unpaired).

    Returns:
        [L] int64, index of the paired residue or -1.
    """
    return parse_dot_bracket(ss)


def predict_ss(
    seq: str,
    probing: Callable[[RNA.fold_compound], None] | None = None,
    config: ViennaConfig = DEFAULT_CONFIG,
) -> str:
    """ViennaRNA MFE structure of ``seq`` (``N`` unpaired; windowed beyond 1,000 nt).

    Args:
        probing: soft constraint from :func:`rnapredict.features.probing.soft_constraint`
            (reactivity pseudo-energies), or None for the plain thermodynamic MFE.
        config: energy parameters (``config.energy_params``) and folding thresholds.
    """
    return mfe_structure(seq, config, constraint=probing)
