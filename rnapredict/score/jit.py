"""Optional numba compilation for the scoring hot loops.

numba is a dependency; without it the decorated functions run as plain Python (correct, slow),
so the package stays importable. Compiled code is cached on disk (``__pycache__``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from numba import njit as _njit
except ImportError:  # pragma: no cover
    _njit = None


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True, nogil=True)`` when numba is available, else ``fn`` itself."""
    if _njit is None:  # pragma: no cover
        return fn
    return _njit(cache=True, nogil=True)(fn)
