"""Optional numba compilation for the scoring hot loops.

numba is a dependency; without it the decorated functions run as plain Python (correct, slow),
so the package stays importable. Compiled code is cached on disk (``__pycache__``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from numba import njit as _njit
    from numba import prange
except ImportError:  # pragma: no cover
    _njit = None
    prange = range

__all__ = ["jit", "jit_parallel", "prange"]


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True, nogil=True)`` when numba is available, else ``fn`` itself."""
    if _njit is None:  # pragma: no cover
        return fn
    return _njit(cache=True, nogil=True)(fn)


def jit_parallel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """As :func:`jit`, with ``prange`` loops spread over threads (``NUMBA_NUM_THREADS``)."""
    if _njit is None:  # pragma: no cover
        return fn
    return _njit(cache=True, nogil=True, parallel=True)(fn)
