"""The import contract of docs/ARCHITECTURE.md.

- The sub-packages (and top-level modules) of ``rnapredict`` form an acyclic graph; imports
  inside functions count, since a lazy import is still a dependency.
- Nothing outside ``rnapredict/train/`` imports ``rnapredict.train``.
- Commands that need no network (``--version``, ``--help``, ``score``, ``export``, ``report``)
  start without importing torch.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "rnapredict"


def _module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path = REPO) -> list[tuple[str, int]]:
    """Absolute names of every ``rnapredict`` module imported anywhere in ``path`` (with line)."""
    name = _module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            # ``from rnapredict import fold`` imports the sub-package ``fold``
            out += [(f"{mod}.{a.name}", node.lineno) for a in node.names]
    return [(m, line) for m, line in out if m.startswith("rnapredict.")]


def _unit(module: str) -> str | None:
    """The sub-package (or top-level module) of ``rnapredict.X…``; None if X does not exist."""
    head = module.split(".")[1]
    if (PKG / head).is_dir() or (PKG / f"{head}.py").is_file():
        return head
    return None


def import_graph() -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) → ``file:line`` of each import, units distinct."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PKG.rglob("*.py")):
        src = _unit(_module_name(path)) if path.parent != PKG else None
        if src is None:  # rnapredict/__init__.py, __main__.py: the entry points
            continue
        for mod, line in _imports(path):
            dst = _unit(mod)
            if dst is not None and dst != src:
                where = f"{path.relative_to(REPO)}:{line}"
                if where not in edges.setdefault((src, dst), []):
                    edges[(src, dst)].append(where)
    return edges


def _cycle(edges: dict[tuple[str, str], list[str]]) -> list[str] | None:
    """One cycle of the graph as a list of units (first = last), or None."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(succ.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v) :] + [v]
            if v not in state and (found := visit(v)):
                return found
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(succ):
        if u not in state and (found := visit(u)):
            return found
    return None


def test_graph_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The parser counts imports inside functions and resolves relative ones."""
    src = tmp_path / "rnapredict" / "fold" / "x.py"
    src.parent.mkdir(parents=True)
    src.write_text("def f():\n    from ..report import page\n    import rnapredict.io.fasta\n")
    found = {m for m, _ in _imports(src, tmp_path)}
    assert {"rnapredict.report", "rnapredict.report.page", "rnapredict.io.fasta"} <= found


def test_cycle_finder_finds_a_known_cycle() -> None:
    edges = {("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): []}
    assert _cycle(edges) == ["a", "b", "c", "a"]
    assert _cycle({("a", "b"): [], ("b", "c"): []}) is None


def test_no_cycle_between_subpackages() -> None:
    edges = import_graph()
    cycle = _cycle(edges)
    if cycle:
        where = [f"{a} -> {b}: {', '.join(edges[(a, b)][:3])}" for a, b in pairwise(cycle)]
        pytest.fail("import cycle " + " -> ".join(cycle) + "\n" + "\n".join(where))


def test_no_cycle_between_modules_of_a_package() -> None:
    """Inside a sub-package, modules do not import each other in a loop either."""
    paths = {_module_name(p): p for p in PKG.rglob("*.py")}
    edges: dict[tuple[str, str], list[str]] = {}
    for src, path in paths.items():
        for mod, line in _imports(path):
            while mod not in paths:  # ``from pkg.module import name`` -> pkg.module
                mod = mod.rpartition(".")[0]
            same_package = src.split(".")[:2] == mod.split(".")[:2]
            if mod != src and same_package and src.count(".") > 1 and mod.count(".") > 1:
                edges.setdefault((src, mod), []).append(f"{path.relative_to(REPO)}:{line}")
    cycle = _cycle(edges)
    assert cycle is None, "import cycle " + " -> ".join(cycle or [])


def test_nothing_outside_train_imports_train() -> None:
    bad = [where for (a, b), w in import_graph().items() if b == "train" for where in w]
    assert not bad, "rnapredict.train imported from " + ", ".join(bad)


def test_no_private_name_crosses_a_package() -> None:
    """A package uses another's public names only (``_name`` is its own business)."""
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        src = _unit(_module_name(path)) if path.parent != PKG else None
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "rnapredict."
            ):
                continue
            if _unit(node.module) != src:
                bad += [
                    f"{path.relative_to(REPO)}:{node.lineno} {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
    assert not bad, bad


def test_bench_is_a_package_without_path_edits_or_private_imports() -> None:
    """``python -m bench.NAME`` from the repository root: no ``sys.path`` edits, and only the
    public names of ``rnapredict`` (a private one may change without notice)."""
    bench = REPO / "bench"
    assert (bench / "__init__.py").is_file()
    bad = []
    for path in sorted(bench.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and node.attr == "path":
                if isinstance(node.value, ast.Name) and node.value.id == "sys":
                    bad.append(f"{where} sys.path")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnapredict"):
                parts = (node.module or "").split(".") + [a.name for a in node.names]
                bad += [f"{where} {p}" for p in parts if p.startswith("_")]
    assert not bad, bad


TORCH_FREE = {
    "version": ["--version"],
    "help": ["--help"],
    "score-help": ["score", "--help"],
    "export-help": ["export", "--help"],
    "report-help": ["report", "--help"],
}
STRUCTURES = REPO.parent / "shared" / "data" / "structures"


def _heavy_modules(args: list[str]) -> str:
    """Run the CLI with ``args`` in a fresh interpreter; the heavy modules it loaded."""
    code = (
        "import sys\n"
        "from rnapredict.cli import app\n"
        f"sys.argv = ['rnapredict', *{args!r}]\n"
        "try:\n"
        "    app()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('torch', 'openmm', 'pdbfixer') if m in sys.modules)\n"
        "print('HEAVY', ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "100"},
        timeout=120,
    )
    line = [s for s in out.stdout.splitlines() if s.startswith("HEAVY")]
    assert line, out.stdout + out.stderr
    return line[-1][6:]


@pytest.mark.parametrize("args", TORCH_FREE.values(), ids=TORCH_FREE.keys())
def test_light_commands_do_not_import_torch(args: list[str]) -> None:
    assert _heavy_modules(args) == ""


@pytest.mark.shared
def test_score_and_export_runs_do_not_import_torch(tmp_path: Path) -> None:
    """A real ``score`` and ``export`` (not only their help) stay torch-free."""
    ref = STRUCTURES / "1ehz.cif"
    if not ref.is_file():
        pytest.skip("../shared not available")
    model = STRUCTURES / "old_1ehz_A.cif"
    assert _heavy_modules(["score", str(model), "--ref", str(ref)]) == ""
    out = str(tmp_path / "x.fa")
    assert _heavy_modules(["export", str(ref), "--to", "fasta", "-o", out]) == ""
    assert Path(out).read_text().startswith(">1ehz_A")
