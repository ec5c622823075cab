"""Every module imports, and every third-party import is a declared dependency.

A green CI once hid an undeclared dependency (einops) because the machine had it installed;
this test fails on any third-party top-level import whose distribution is not listed in
``pyproject.toml`` (``[project] dependencies``), wherever the suite runs.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata as md
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import rnapredict

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "rnapredict"


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0] for d in project["dependencies"]}
    return {n.lower().replace("_", "-") for n in names}


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _third_party(mod: str) -> bool:
    return mod != "rnapredict" and mod not in sys.stdlib_module_names and mod != "__future__"


def test_every_third_party_import_is_declared() -> None:
    declared = _declared()
    dists = md.packages_distributions()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for mod in sorted(filter(_third_party, _top_level_imports(path))):
            owners = {d.lower().replace("_", "-") for d in dists.get(mod, [])}
            if not owners:
                missing.append(f"{path.relative_to(REPO)}: {mod} (not installed)")
            elif not owners & declared:
                missing.append(f"{path.relative_to(REPO)}: {mod} (from {', '.join(owners)})")
    assert not missing, "undeclared dependencies:\n" + "\n".join(missing)


def test_declared_list_catches_an_omission(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: drop einops from the declared set and it must be reported."""
    declared = _declared() - {"einops"}
    dists = md.packages_distributions()
    used = _top_level_imports(PACKAGE / "model" / "layers.py")
    assert "einops" in used
    owners = {d.lower() for d in dists.get("einops", [])}
    assert owners and not owners & declared


@pytest.mark.parametrize(
    "name",
    sorted(m.name for m in pkgutil.walk_packages(rnapredict.__path__, "rnapredict.")),
)
def test_every_module_imports(name: str) -> None:
    if name.endswith("__main__"):
        pytest.skip("entry point: running it is the CLI tests' job")
    importlib.import_module(name)
