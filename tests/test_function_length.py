"""No function in ``benchmarks/`` is longer than 60 lines (the last three long ones were split into named steps).

A function's length runs from its ``def`` line to its last line (docstring, comments and nested functions
included), as ``ast`` gives it; methods are named ``Class.method``, nested functions ``outer.inner``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 60

def long_functions(root: Path = ROOT / "benchmarks", limit: int = LIMIT) -> dict[str, int]:
    """``{"path::qualified.name": lines}`` for every function longer than ``limit`` lines under ``root``."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, path: str, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = child.end_lineno - child.lineno + 1
                if lines > limit:
                    found[f"{path}::{prefix}{child.name}"] = lines
                visit(child, path, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, path, f"{prefix}{child.name}.")
            else:
                visit(child, path, prefix)

    for file in sorted(root.rglob("*.py")):
        visit(ast.parse(file.read_text(), filename=str(file)), file.relative_to(root.parent).as_posix(), "")
    return found


def test_no_function_is_longer_than_the_limit() -> None:
    found = long_functions()
    assert not found, (f"functions over {LIMIT} lines (split them into named steps): "
                     + ", ".join(f"{name} ({lines} lines)" for name, lines in sorted(found.items())))


def test_the_measure_counts_methods_and_nested_functions(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(4))
    (package / "m.py").write_text(f"class A:\n    def f(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n\n"
                                  f"def g():\n    def h():\n    {body.replace(chr(10), chr(10) + '    ')}\n    return h\n")
    assert long_functions(package, limit=4) == {"pkg/m.py::A.f": 5, "pkg/m.py::g": 7, "pkg/m.py::g.h": 5}
