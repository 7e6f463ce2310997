"""No import circles inside tui/: each module's imports, read from its source, form a graph without cycles.

Every `import` and `from … import` counts, at module level or inside a function (a deferred import still ties
the two modules together: one cannot be understood, moved or tested without the other); only imports under
`if TYPE_CHECKING:` are left out, since they never run. `from tui.core import bench` is an edge to
tui.core.bench, `from tui.core.bench import Plan` an edge to tui.core.bench.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT, run_python

PACKAGE = ROOT / "tui"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Import nodes anywhere in the tree, except the bodies of `if TYPE_CHECKING:` (their `else` runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(module: str, source: str) -> set[str]:
    """The tui modules `module` imports."""
    found = set()
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = _resolve(module, node)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        found |= {name for name in names if name in MODULES and name != module}
    return found


def import_graph() -> dict[str, set[str]]:
    return {m: imported_modules(m, p.read_text(encoding="utf-8")) for m, p in MODULES.items()}


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe(component: frozenset[str], graph: dict[str, set[str]]) -> str:
    edges = sorted(f"{a} → {b}" for a in component for b in graph[a] if b in component)
    return "{" + ", ".join(sorted(component)) + "}: " + "; ".join(edges)


def test_the_walk_sees_imports_at_every_level_but_not_under_type_checking(monkeypatch):
    monkeypatch.setitem(MODULES, "tui.x", PACKAGE / "x.py")
    source = ("from typing import TYPE_CHECKING\nimport tui.core.cpu\nif TYPE_CHECKING:\n"
              "    from tui.core.bench import Plan\nelse:\n    from tui.core import stats\n"
              "def f():\n    from tui.core.report import build_document\n    from . import cli\n")
    assert imported_modules("tui.x", source) == {"tui.core.cpu", "tui.core.stats", "tui.core.report", "tui.cli"}


def test_circles_finds_a_circle_and_only_the_modules_in_it():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"a"}}
    assert circles(graph) == [frozenset({"a", "b", "c"})]


def test_no_import_circles_inside_tui():
    graph = import_graph()
    found = circles(graph)
    assert not found, "import circles:\n" + "\n".join(describe(c, graph) for c in found)


def test_benchmarks_import_nothing_from_tests():
    """They run without pytest; what they share with the tests (the tmux driver) lives in benchmarks/."""
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not [n for n in names if n.split(".")[0] in ("tests", "conftest", "pytest")], path.name


def test_the_benchmark_with_the_tmux_driver_loads_without_pytest():
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import ui_overhead; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest', 'tests')))")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_dashboard_does_not_import_the_cli():
    assert "tui.cli" not in import_graph()["tui.app"]
