"""One place for the values the harness's parts must agree on: the key's precedence, exit codes, defaults."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness import settings
from harness.settings import LOCAL_API_KEY, ApiKey, resolve_api_key

PACKAGE = Path(settings.__file__).resolve().parent


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("VLMRUN_API_KEY", raising=False)
    return monkeypatch


def test_the_option_comes_first_then_the_environment_then_the_local_key(no_env_key: pytest.MonkeyPatch) -> None:
    assert resolve_api_key(None) is None
    assert resolve_api_key(None, local=LOCAL_API_KEY) == ApiKey(LOCAL_API_KEY, "local")
    assert resolve_api_key("opt", local=LOCAL_API_KEY) == ApiKey("opt", "option")
    no_env_key.setenv("VLMRUN_API_KEY", "env")
    assert resolve_api_key(None) == ApiKey("env", "environment")
    assert resolve_api_key(None, local=LOCAL_API_KEY) == ApiKey("env", "environment")
    assert resolve_api_key("opt") == ApiKey("opt", "option")


def test_an_empty_option_or_variable_is_not_a_key(no_env_key: pytest.MonkeyPatch) -> None:
    no_env_key.setenv("VLMRUN_API_KEY", "")
    assert resolve_api_key("") is None
    assert resolve_api_key("", local="l") == ApiKey("l", "local")


def test_a_key_never_shows_in_its_repr() -> None:
    assert repr(ApiKey("sk-secret", "environment")) == "ApiKey(source='environment')"


def test_the_reference_server_accepts_the_local_key_by_default() -> None:
    from harness.reference.app import ServerConfig

    assert ServerConfig().api_key == LOCAL_API_KEY


def _outside_settings() -> list[tuple[str, ast.Module]]:
    paths = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "settings.py" or p.parent != PACKAGE)
    return [(str(p.relative_to(PACKAGE)), ast.parse(p.read_text(encoding="utf-8"))) for p in paths]


def test_no_module_reads_the_key_from_the_environment_itself() -> None:
    """The precedence is `resolve_api_key`'s: it was written four times under three option spellings."""
    readers = [
        f"{name}:{node.lineno}"
        for name, tree in _outside_settings()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call | ast.Subscript)
        and any(isinstance(c, ast.Constant) and c.value == settings.API_KEY_ENV for c in ast.walk(node))
        and "environ" in ast.unparse(node)
    ]
    assert readers == []


def test_exit_codes_are_defined_once() -> None:
    defined = [
        f"{name}:{node.lineno}"
        for name, tree in _outside_settings()
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        for assigned in ast.walk(target)
        if isinstance(assigned, ast.Name) and assigned.id.startswith("EXIT_")
    ]
    assert defined == []
