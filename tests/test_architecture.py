"""Layers point only down, and modules stay small (anchors-aesthetics.md G7)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "harness"

# Lower numbers sit lower. A module may import its own package or anything strictly lower.
# `extras` (which extra brings what, and the error naming it) raises `errors.UsageError` and
# is used by every layer above, hence a layer of its own between them.
LAYERS = {
    "errors": 0,
    "extras": 1,
    "contract": 2,
    "header_names": 0,
    "skill_dicts": 0,
    "secrets": 0,
    "files": 0,
    "yaml_load": 0,
    "caches": 0,
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


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if ".venv" not in p.parts)


def _unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _harness_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [(node.lineno, node.module)]
        elif isinstance(node, ast.Import):
            names = [(node.lineno, alias.name) for alias in node.names]
        else:
            continue
        found += [(line, n) for line, n in names if n == "harness" or n.startswith("harness.")]
    return found


def test_every_unit_has_a_layer() -> None:
    assert {_unit(p) for p in _modules()} <= set(LAYERS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    unit = _unit(path)
    for lineno, name in _harness_imports(ast.parse(path.read_text())):
        parts = name.split(".")
        target = parts[1] if len(parts) > 1 else "__init__"
        if target == unit:
            continue
        assert LAYERS[target] < LAYERS[unit], (
            f"{path.name}:{lineno} imports {name}: {unit} (layer {LAYERS[unit]}) "
            f"may not import {target} (layer {LAYERS[target]})"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path} has {lines} lines; split it by job"
