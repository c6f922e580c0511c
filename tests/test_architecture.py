"""Layers point only down, no import cycle anywhere, modules stay small (see ARCHITECTURE.md).

The import graph holds every import a file makes, wherever it sits: inside functions, under
`if TYPE_CHECKING:`, relative ones, and `importlib.import_module("...")` with a literal name.
A lazy import hides a cycle from the interpreter, not from a reader, so it counts.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

# Lower numbers sit lower. A module may import its own package or anything strictly lower.
# `extras` (which extra brings what, and the error naming it) raises `errors.UsageError` and
# is used by every layer above, hence a layer of its own between them.
LAYERS = {
    "errors": 0,
    "extras": 1,
    "contract": 2,
    "openapi": 1,
    "header_names": 0,
    "wire": 0,
    "skill_dicts": 1,
    "secrets": 0,
    "files": 0,
    "yaml_load": 0,
    "caches": 0,
    "settings": 0,
    "project_config": 1,
    "project_init": 3,
    "description_yaml": 0,
    "bundles": 2,
    "models": 2,
    "canonical": 3,
    "docs_examples": 3,
    "clients": 3,
    "recording": 4,
    "reference": 4,
    "proptests": 4,
    "snapshots": 4,
    "matrix": 5,
    "specdiff": 4,
    "gate": 6,
    "cli": 7,
    "pytest_vcr": 6,
    "pytest_plugin": 7,
    "__main__": 8,
    "__init__": 7,
}
MAX_LINES = 400
PACKAGE = Path(__file__).resolve().parent.parent / "harness"


@dataclass(frozen=True)
class Edge:
    """`source` imports `target`, first at `line` of `path` (relative to the package's folder)."""

    source: str
    target: str
    path: Path
    line: int


Graph = Mapping[str, list[Edge]]


def module_files(root: Path) -> dict[str, Path]:
    """Dotted name of every module under the package folder `root`."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if ".venv" not in parts:
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _resolve(dotted: str, modules: Collection[str]) -> str | None:
    """The deepest of the package's modules that importing `dotted` runs; None if outside it.

    `from a import b` is passed as `a.b`: a submodule `b` is what it imports, anything else
    is a name in `a`.
    """
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return None


def _from_base(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` reads from (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _literal_import(node: ast.Call) -> str | None:
    """The name in `importlib.import_module("x")` or `__import__("x")`, when it is a literal."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    first = node.args[0] if node.args else None
    if called in {"import_module", "__import__"} and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _dotted_names(node: ast.AST, name: str, path: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = _from_base(name, path, node)
        return [base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names]
    literal = _literal_import(node) if isinstance(node, ast.Call) else None
    return [literal] if literal else []


def imports_of(name: str, path: Path, modules: Collection[str], shown: Path) -> list[Edge]:
    """The package's modules that module `name` (read from `path`, named `shown`) imports, each with its first line."""
    first: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        for dotted in _dotted_names(node, name, path):
            target = _resolve(dotted, modules)
            if target is not None and target != name:
                line: int = getattr(node, "lineno", 0)
                first[target] = min(first.get(target, line), line)
    return [Edge(name, target, shown, line) for target, line in sorted(first.items())]


def import_graph(root: Path) -> dict[str, list[Edge]]:
    """Module name -> its imports of other modules in the same package."""
    files = module_files(root)
    return {name: imports_of(name, path, files, path.relative_to(root.parent)) for name, path in files.items()}


def _shortest_cycle(graph: Graph, start: str) -> list[Edge] | None:
    """A shortest path of imports from `start` back to `start` (breadth first)."""
    came_by: dict[str, Edge] = {}
    queue = deque([start])
    while queue:
        for edge in graph.get(queue.popleft(), []):
            if edge.target == start:
                path = [edge]
                while path[0].source != start:
                    path.insert(0, came_by[path[0].source])
                return path
            if edge.target not in came_by:
                came_by[edge.target] = edge
                queue.append(edge.target)
    return None


def import_cycles(graph: Graph) -> list[list[Edge]]:
    """A shortest cycle through each module that is on one, each cycle once, from its least name."""
    found: dict[tuple[str, ...], list[Edge]] = {}
    for start in sorted(graph):
        cycle = _shortest_cycle(graph, start)
        if cycle is not None:
            sources = [edge.source for edge in cycle]
            turn = sources.index(min(sources))
            found.setdefault((*sources[turn:], *sources[:turn]), cycle[turn:] + cycle[:turn])
    return [found[key] for key in sorted(found)]


def describe_cycle(cycle: list[Edge]) -> str:
    """`a (line 3) -> b (line 9) -> a`: each line number is where the module on its left imports the next."""
    steps = [f"{edge.source} (line {edge.line})" for edge in cycle]
    return " -> ".join([*steps, cycle[0].source])


def unit_of(name: str) -> str:
    """The top-level unit a module belongs to: `harness.bundles.decode` -> `bundles`."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_violations(edges: list[Edge], layers: Mapping[str, int]) -> list[str]:
    """Imports of another unit that is not strictly lower (units without a layer fail elsewhere)."""
    problems = []
    for edge in edges:
        source, target = unit_of(edge.source), unit_of(edge.target)
        if source != target and layers.get(target, -1) >= layers.get(source, -1) >= 0:
            problems.append(
                f"{edge.path}:{edge.line} imports {edge.target}: {source} (layer {layers[source]}) "
                f"may not import {target} (layer {layers[target]})"
            )
    return problems


GRAPH = import_graph(PACKAGE)
FILES = module_files(PACKAGE)


def test_every_unit_has_a_layer() -> None:
    assert {unit_of(name) for name in GRAPH} - set(LAYERS) == set()


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_down(name: str) -> None:
    assert layer_violations(GRAPH[name], LAYERS) == []


def test_no_import_cycles() -> None:
    assert [describe_cycle(cycle) for cycle in import_cycles(GRAPH)] == []


@pytest.mark.parametrize("name", sorted(FILES))
def test_modules_stay_small(name: str) -> None:
    lines = len(FILES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{FILES[name]} has {lines} lines; split it by job"


# --- the checker itself, on a tiny package --------------------------------------------


def make_package(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "pkg"


TINY = {
    "pkg/__init__.py": "from pkg.low import helper\n",
    "pkg/low.py": "def helper() -> None: ...\n",
    "pkg/sub/__init__.py": "",
    "pkg/sub/a.py": "import os\n\nfrom pkg import low\n",
    "pkg/sub/b.py": "from . import a\n",
    "pkg/sub/c.py": "from ..low import helper\n",
}


def cycles_in(root: Path) -> list[str]:
    return [describe_cycle(cycle) for cycle in import_cycles(import_graph(root))]


def test_a_package_without_cycles_passes(tmp_path: Path) -> None:
    package = make_package(tmp_path, TINY)
    assert cycles_in(package) == []
    assert {name: [e.target for e in edges] for name, edges in import_graph(package).items()} == {
        "pkg": ["pkg.low"],
        "pkg.low": [],
        "pkg.sub": [],
        "pkg.sub.a": ["pkg.low"],
        "pkg.sub.b": ["pkg.sub.a"],
        "pkg.sub.c": ["pkg.low"],
    }


@pytest.mark.parametrize(
    ("low_py", "expected"),
    [
        (
            "def f() -> None:\n    from pkg.sub.b import a\n",
            "pkg.low (line 2) -> pkg.sub.b (line 1) -> pkg.sub.a (line 3) -> pkg.low",
        ),
        (
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg.sub import b\n",
            "pkg.low (line 4) -> pkg.sub.b (line 1) -> pkg.sub.a (line 3) -> pkg.low",
        ),
        ("from .sub import a\n", "pkg.low (line 1) -> pkg.sub.a (line 3) -> pkg.low"),
        ("import pkg.sub.a\n", "pkg.low (line 1) -> pkg.sub.a (line 3) -> pkg.low"),
        (
            "import importlib\n\nB = importlib.import_module('pkg.sub.b')\n",
            "pkg.low (line 3) -> pkg.sub.b (line 1) -> pkg.sub.a (line 3) -> pkg.low",
        ),
    ],
    ids=["in a function", "under TYPE_CHECKING", "relative submodule", "import a.b", "import_module literal"],
)
def test_a_cycle_is_found_with_its_path_and_lines(tmp_path: Path, low_py: str, expected: str) -> None:
    package = make_package(tmp_path, {**TINY, "pkg/low.py": low_py})
    assert cycles_in(package) == [expected]


def test_a_name_imported_from_a_package_is_not_its_submodule(tmp_path: Path) -> None:
    # `from pkg.sub import a` imports the submodule; `from pkg import helper` only pkg/__init__.
    package = make_package(tmp_path, {**TINY, "pkg/low.py": "from pkg import helper\n"})
    assert cycles_in(package) == ["pkg (line 1) -> pkg.low (line 1) -> pkg"]


def test_every_cycle_is_reported_once(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/x.py": "import pkg.y\n", "pkg/y.py": "import pkg.z\nimport pkg.x\n"}
    package = make_package(tmp_path, {**files, "pkg/z.py": "\n\nimport pkg.y\n"})
    assert cycles_in(package) == [
        "pkg.x (line 1) -> pkg.y (line 2) -> pkg.x",
        "pkg.y (line 1) -> pkg.z (line 3) -> pkg.y",
    ]


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    package = make_package(tmp_path, {**TINY, "pkg/low.py": "def f() -> None:\n    import pkg.sub.a\n"})
    edges = import_graph(package)["pkg.low"]
    assert layer_violations(edges, {"low": 0, "sub": 1, "__init__": 2}) == [
        "pkg/low.py:2 imports pkg.sub.a: low (layer 0) may not import sub (layer 1)"
    ]
