"""File-safe names for record ids (docs/DESIGN.md: output directory ``OUT/<id>``).

Rule: keep ``[A-Za-z0-9._-]``, map every other character to ``_``, never start with ``.``
(so no hidden directories and no ``.``/``..`` path escape). Names longer than
:data:`MAX_NAME_LEN` are cut and get a short hash of the full id so distinct long ids stay
distinct. The original id is always kept inside the outputs.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME_LEN = 200
#: Names that would clash with files fold writes beside the per-record directories.
RESERVED_NAMES = frozenset({"summary.tsv", "index.html"})

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(record_id: str) -> str:
    """File-safe directory name for ``record_id`` (never empty, never starts with ``.``).

    Examples: ``"1ehz_A"`` → ``"1ehz_A"``, ``"sp|P1|x y"`` → ``"sp_P1_x_y"``,
    ``"../etc"`` → ``"_._etc"``, ``""`` → ``"_"``.
    """
    name = _UNSAFE.sub("_", record_id)
    if not name:
        return "_"
    if name.startswith("."):
        name = "_" + name[1:]
    if name.casefold() in RESERVED_NAMES:
        name += "_"
    if len(name) > MAX_NAME_LEN:
        digest = hashlib.sha256(record_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = f"{name[: MAX_NAME_LEN - 17]}-{digest}"
    return name


def name_key(name: str) -> str:
    """Comparison key of a safe name: names differing only in case collide on case-insensitive
    file systems (macOS, Windows), so they count as the same directory."""
    return name.casefold()
