"""Secondary structure as the model sees it: dot-bracket → partner index per residue.

Brackets ``() [] {} <>`` and letter pairs ``Aa`` … ``Zz`` (upper opens, lower closes) mark
pairs, as in DESIGN.md. Validation of user input (with file/record/position in the message)
happens at the I/O boundary; here a malformed string is a programmer error or, when called on
user data, raises :class:`SecondaryStructureError` with the 1-based position.
"""

from __future__ import annotations

import numpy as np

from rnapredict.errors import SecondaryStructureError

_OPEN = "([{<" + "".join(chr(c) for c in range(ord("A"), ord("Z") + 1))
_CLOSE = ")]}>" + "".join(chr(c) for c in range(ord("a"), ord("z") + 1))
_MATCH = dict(zip(_CLOSE, _OPEN, strict=True))


def partner_array(ss: str) -> np.ndarray:
    """Partner index of each residue.

    Args:
        ss: dot-bracket string of length L (``.``, ``-`` and ``,`` are unpaired).

    Returns:
        [L] int64, index of the paired residue or -1.
    """
    partner = np.full(len(ss), -1, dtype=np.int64)
    stacks: dict[str, list[int]] = {}
    for i, ch in enumerate(ss):
        if ch in _OPEN:
            stacks.setdefault(ch, []).append(i)
        elif ch in _CLOSE:
            stack = stacks.get(_MATCH[ch])
            if not stack:
                raise SecondaryStructureError(f"unbalanced '{ch}'", position=i + 1)
            j = stack.pop()
            partner[i], partner[j] = j, i
        elif ch not in ".-,_:":
            raise SecondaryStructureError(f"illegal structure character '{ch}'", position=i + 1)
    for opener, stack in stacks.items():
        if stack:
            raise SecondaryStructureError(f"unbalanced '{opener}'", position=stack[0] + 1)
    return partner


def predict_ss(seq: str) -> str:
    """ViennaRNA MFE structure of ``seq`` (``N`` folded as unpaired).

    Uses :func:`rnapredict.features.vienna.mfe_structure` when present (the foundation's
    wrapper); falls back to ``RNA.fold`` so the engine works before that module lands.
    """
    try:
        from rnapredict.features.vienna import mfe_structure  # type: ignore[attr-defined]
    except ImportError:
        import RNA

        return str(RNA.fold(seq)[0])
    return str(mfe_structure(seq))
