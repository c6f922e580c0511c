"""Layers point only down, and modules stay small (anchors-aesthetics.md G7)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "harness"

# Lower numbers sit lower. A module may import its own package or anything strictly lower.
LAYERS = {
    "errors": 0,
    "contract": 1,
    "headers": 0,
    "skill_dicts": 0,
    "secrets": 0,
    "files": 0,
    "bundles": 1,
    "models": 1,
    "canonical": 2,
    "examples": 2,
    "clients": 2,
    "recording": 3,
    "reference": 3,
    "properties": 3,
    "snapshots": 3,
    "matrix": 4,
    "compat": 3,
    "gate": 5,
    "cli": 6,
    "pytest_plugin": 6,
    "__main__": 7,
    "__init__": 6,
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
