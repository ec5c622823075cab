"""Pre-flight memory check: refuse a record that would not fit instead of being OOM-killed.

The estimate is the *extra* memory one record needs while folding (activations, coordinates,
output text), on top of what the process already holds (interpreter, torch, weights). An engine
may provide its own ``memory_estimate(length, options) -> bytes``; otherwise a conservative
linear model in length, samples and chunk size is used (the model has no L×L tensor: features
are O(L·k), decoding O(chunk·M), diffusion O(S·L·k)).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from rnapredict.errors import RnapredictError
from rnapredict.pipeline.api import FoldOptions

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

_UNITS = {"": 1, "B": 1, "K": KIB, "M": MIB, "G": GIB, "T": 1024 * GIB}


@dataclass(frozen=True)
class MemoryModel:
    """Linear memory model of one fold, in bytes.

    ``bytes = fixed + length * (per_residue + n_samples * per_residue_sample)
    + chunk * per_chunk_residue``. Calibrated on the v1 engine (``small`` preset, ViennaRNA
    MFE included) from the peak-RSS increase of one fold: 5 samples → 76 MiB at 100 nt,
    551 MiB at 1,000, 931 MiB at 2,000, 1,822 MiB at 4,000; at 2,000 nt 430 / 931 / 1,767 MiB
    for 1 / 5 / 10 samples. These constants over-estimate those by 28–75 % (refusing a little
    early beats being OOM-killed).
    """

    fixed: int = 64 * MIB
    per_residue: int = 160 * KIB
    per_residue_sample: int = 96 * KIB
    per_chunk_residue: int = 64 * KIB
    default_chunk: int = 256


DEFAULT_MEMORY_MODEL = MemoryModel()


def parse_size(text: str) -> int:
    """``"8G"``, ``"512M"``, ``"16GiB"``, ``"2.5GB"``, ``"1000000"`` → bytes (binary units).

    Raises:
        RnapredictError: unparseable or non-positive size (a usage error, exit 2).
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if not m:
        raise RnapredictError(f"--max-memory {text!r}: expected a size like 8G, 512M or 16GiB")
    value = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(value) or value <= 0:
        raise RnapredictError(f"--max-memory {text!r}: must be positive")
    return int(value)


def format_size(n: float) -> str:
    """Bytes → a short human string (``1.5 GiB``)."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_headroom(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Memory left under this process's cgroup limit (SLURM enforces --mem this way), if any."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hier, controllers, rel = parts
        rel = rel.lstrip("/")
        if hier == "0" and controllers == "":  # cgroup v2
            limit = _read_int(root / rel / "memory.max")
            used = _read_int(root / rel / "memory.current")
        elif "memory" in controllers.split(","):  # cgroup v1
            limit = _read_int(root / "memory" / rel / "memory.limit_in_bytes")
            used = _read_int(root / "memory" / rel / "memory.usage_in_bytes")
        else:
            continue
        if limit is not None and used is not None and limit < (1 << 60):
            return max(limit - used, 0)
    return None


def available_memory() -> int:
    """Bytes this process can still allocate: ``MemAvailable``, capped by any cgroup limit."""
    avail: int | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * KIB
                break
    except (OSError, ValueError, IndexError):
        avail = None
    if avail is None:  # not Linux: total physical memory as a last resort
        try:
            avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            avail = 1 << 62
    cg = _cgroup_headroom()
    return min(avail, cg) if cg is not None else avail


def estimate_memory(
    length: int,
    options: FoldOptions,
    engine: object | None = None,
    model: MemoryModel | None = None,
) -> int:
    """Estimated extra bytes to fold one record of ``length`` nt with ``options``.

    Uses ``engine.memory_estimate(length, options)`` when the engine provides it.
    """
    hook = getattr(engine, "memory_estimate", None)
    if callable(hook):
        return int(hook(length, options))
    m = model or DEFAULT_MEMORY_MODEL
    chunk = min(length, options.chunk_size or m.default_chunk)
    return (
        m.fixed
        + length * (m.per_residue + options.n_samples * m.per_residue_sample)
        + chunk * m.per_chunk_residue
    )


def memory_refusal(estimate: int, limit: int | None) -> str | None:
    """The refusal message if ``estimate`` exceeds ``limit`` bytes, else None."""
    if limit is None or estimate <= limit:
        return None
    return (
        f"needs about {format_size(estimate)} of memory, more than the "
        f"{format_size(limit)} allowed (--max-memory); lower -n or --chunk-size, or raise "
        "--max-memory"
    )
