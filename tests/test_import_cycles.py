"""No import cycles among mcuforge's modules (generator/ and hil/), and every module imports.

The graph is read from the sources with `ast`: every `import` / `from … import` anywhere in a module,
inside functions too (a deferred import that closes a cycle is still a cycle, only hidden until some
code path runs), except those under `if TYPE_CHECKING:`, which never run.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"generator": "mcuforge.generator", "hil": "mcuforge.hil"}


def module_files() -> dict[str, tuple[Path, bool]]:
    """Module name → (source file, is a package's __init__)."""
    found = {}
    for folder, package in PACKAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = [package, *path.relative_to(REPO / folder).with_suffix("").parts]
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Every module (or module.attribute) name `source` imports, relative imports made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.orelse:
                    visit_one(stmt)
                continue
            visit_one(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
        visit(node)

    visit(ast.parse(source))
    return names


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: {n for n in imported_names(path.read_text(), name, is_pkg) if n in modules and n != name}
            for name, (path, is_pkg) in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []


def test_the_graph_sees_deferred_relative_imports_but_not_type_checking_ones() -> None:
    source = ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\nfrom .a import x\n"
              "if TYPE_CHECKING:\n    from ..boards import Board\n"
              "def f():\n    from . import b\n    from ..ops import conv\n")
    names = imported_names(source, "mcuforge.generator.sensor.m", is_package=False)
    assert {"mcuforge.generator.sensor.a", "mcuforge.generator.sensor.b", "mcuforge.generator.ops.conv"} <= names
    assert "mcuforge.generator.boards" not in names and "mcuforge.generator.boards.Board" not in names


def test_no_import_cycles_in_generator_and_hil() -> None:
    graph = import_graph()
    assert "mcuforge.generator.sensor.pipeline" in graph and "mcuforge.hil.device" in graph
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("module", sorted(module_files()))
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)
