"""The imports inside ``benchmarks/`` form a DAG: an AST walk finds every module-level import and fails on a cycle.

What counts as an edge A → B (the first test): an ``import`` or ``from … import`` that runs when A is imported, i.e. one at module
level, in a class body, or in a module-level ``try``/``if``/``with`` block. Not counted: imports under
``if TYPE_CHECKING:`` (never run) and imports inside functions (run on call, after every module has loaded; they
are how a command or a system keeps heavy imports off ``list``). ``from benchmarks.x import y`` is an edge to
``benchmarks.x.y`` when that is a module, else to ``benchmarks.x``; importing ``benchmarks.x.y`` also runs the
package ``benchmarks.x`` first, so that is an edge too, except from inside the package itself. The second test
is stricter and counts every import statement, deferred and type-only ones included: no two modules may need
each other even lazily.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "benchmarks"


def module_files(root: Path = ROOT / PACKAGE) -> dict[str, Path]:
    """``{dotted module name: file}`` for every ``.py`` file under the package (``__init__`` names the package)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_time_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run when a module with this body is imported."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _import_time_imports(node.body)
            found += _import_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                found += _import_time_imports(block)
        elif isinstance(node, ast.With | ast.ClassDef):
            found += _import_time_imports(node.body)
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path], deferred: bool = False) -> set[str]:
    """The package's modules that ``name`` (at ``path``) imports at import time (``deferred``: anywhere, also
    inside functions and under ``if TYPE_CHECKING:``)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    tree = ast.parse(path.read_text(), filename=str(path))
    statements = ([n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)] if deferred
                  else _import_time_imports(tree.body))
    for node in statements:
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:  # relative: from the importer's package, one level up per extra dot
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        for alias in node.names:
            targets.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
    edges = set()
    for target in targets:
        parts = target.split(".")
        for end in range(1, len(parts) + 1):  # the packages on the way run first
            prefix = ".".join(parts[:end])
            explicit = end == len(parts)
            inside = name == prefix or name.startswith(prefix + ".")
            if prefix in modules and prefix != name and (explicit or not inside):
                edges.add(prefix)
    return edges


def import_graph(deferred: bool = False) -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(name, path, modules, deferred) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan), as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_closed_path(graph, set(component)) for component in components]


def _closed_path(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first inside the component)."""
    start = min(component)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & component):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if successor not in parents:
                    parents[successor] = node
                    following.append(successor)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")


def _report(cycles: list[list[str]]) -> str:
    return "\n".join("  " + " → ".join(cycle) for cycle in cycles)


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 30 and "benchmarks.runner" in graph  # the walk saw the package
    cycles = find_cycles(graph)
    assert not cycles, "import cycles among module-level imports (Python meets a half-initialised module):\n" + _report(cycles)


def test_no_cycle_hides_behind_a_deferred_import() -> None:
    """Stricter: a function-level or type-only import still makes two modules depend on each other for a reader.
    (``api`` ↔ ``registry`` and ``leaderboard`` ↔ ``plots`` were such cycles.)"""
    cycles = find_cycles(import_graph(deferred=True))
    assert not cycles, ("import cycles through imports inside functions or under TYPE_CHECKING (move the shared "
                        "piece to the module both may import, or type against a Protocol):\n" + _report(cycles))


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


@pytest.mark.parametrize("files,expected", [
    ({"pkg/__init__.py": "", "pkg/a.py": "from pkg import b\n", "pkg/b.py": "import pkg.c\n",
      "pkg/c.py": "from pkg.a import thing\n"}, [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]),
    ({"pkg/__init__.py": "", "pkg/a.py": "from . import b\n", "pkg/b.py": "try:\n    from .a import x\nexcept ImportError:\n    pass\n"},
     [["pkg.a", "pkg.b", "pkg.a"]]),
    ({"pkg/__init__.py": "", "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n",
      "pkg/b.py": "from pkg import a\ndef f():\n    from pkg import c\n", "pkg/c.py": "import pkg.b\n"}, []),
    ({"pkg/__init__.py": "from pkg.sub import x\n", "pkg/sub/__init__.py": "", "pkg/sub/x.py": "import pkg\n"},
     [["pkg", "pkg.sub.x", "pkg"]]),
    ({"pkg/__init__.py": "", "pkg/sub/__init__.py": "from pkg.sub.x import f\n", "pkg/sub/x.py": "from pkg.other import g\n",
      "pkg/other.py": "class A:\n    from pkg.sub import y\n", "pkg/sub/y.py": ""}, [["pkg.other", "pkg.sub", "pkg.sub.x", "pkg.other"]]),
])
def test_the_walk_finds_cycles_and_skips_what_does_not_run(tmp_path: Path, files: dict[str, str], expected: list[list[str]]) -> None:
    root = _write(tmp_path, files)
    modules = module_files(root)
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    assert find_cycles(graph) == expected


def test_the_deferred_walk_sees_imports_in_functions_and_type_checking(tmp_path: Path) -> None:
    root = _write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n",
                             "pkg/b.py": "def f():\n    import pkg.a\n"})
    modules = module_files(root)
    assert find_cycles({n: imports_of(n, p, modules) for n, p in modules.items()}) == []
    assert find_cycles({n: imports_of(n, p, modules, deferred=True) for n, p in modules.items()}) == [["pkg.a", "pkg.b", "pkg.a"]]
