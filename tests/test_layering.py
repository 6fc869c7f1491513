"""Data flows one way: spaces -> models -> benchmarks -> evaluators -> search -> analysis -> cli
(-> examples: the worked examples' scripts, which nothing imports).

Read from the source (every import statement, module level or inside a function; not those under
``if TYPE_CHECKING:``, which never run): no module imports a later stage, and no module imports
itself back through others (no import cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "arch2vec"
STAGES = ["spaces", "models", "benchmarks", "evaluators", "search", "analysis", "cli", "examples"]
BASE = {
    "arch2vec",
    "arch2vec.io",
    "arch2vec.errors",
    "arch2vec.registry",
    "arch2vec.executor",
    "arch2vec.progress",
    "arch2vec.checks",
    "arch2vec.threads",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def rank(module: str) -> int:
    if module in BASE:
        return 0
    stage = module.split(".")[1]
    assert stage in STAGES, f"{module}: not in a known stage"
    return 1 + STAGES.index(stage)


def imports(path: Path) -> set[str]:
    """The arch2vec modules ``path`` imports (``from a import b`` names module ``a.b`` if it is
    one, else ``a``)."""
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = {  # imports under ``if TYPE_CHECKING:`` name types; they never run
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for stmt in block.body
        for n in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                for a in node.names
            ]
        else:
            continue
        found.update(n for n in names if n == "arch2vec" or n.startswith("arch2vec."))
    return found


GRAPH = {m: imports(p) for m, p in MODULES.items()}


def test_the_graph_is_read():
    assert len(MODULES) > 50
    assert "arch2vec.search.engine" in GRAPH["arch2vec.search.experiment"]
    assert "arch2vec.evaluators.base" in GRAPH["arch2vec.search.engine"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_upward_import(module):
    upward = [m for m in GRAPH[module] if rank(m) > rank(module)]
    assert not upward, f"{module} imports a later stage: {upward}"


def test_no_import_cycle():
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(GRAPH.get(m, ())):
            if state.get(n) == 1:
                cycle = path[path.index(n) :] + [n]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)
