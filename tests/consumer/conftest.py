"""Fixtures for consumer tests: the wheel and the venvs, built once per test run and shared by xdist workers.

Everything lives under `<basetemp parent>/vlmrun-consumer`: under xdist that is the run's
own directory (shared by its workers), without xdist it is pytest's per-user temp root, so
successive runs reuse the wheel and the envs while the sources are unchanged. Every test
here is marked `consumer`; `-m "not consumer"` deselects them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.consumer.env import ConsumerEnv, cached_env, cached_wheel, make_project, wheel_extras

# Installed beside the wheel: the dev group's openai (vlmrun would pin 1.109.1) and xdist.
BASE_REQUIREMENTS = ("openai>=2.17", "pytest-xdist>=3.6")
# Extras consumer_env_full installs, each only if the wheel declares it.
FULL_EXTRAS = ("gate", "snapshots")

MakeProject = Callable[..., Path]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "consumer: runs the harness from a built wheel in a separate venv (deselect: -m 'not consumer')"
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    # Called only for items under this directory (conftest hooks are path-scoped here).
    item.add_marker(pytest.mark.consumer)


@pytest.fixture(scope="session")
def consumer_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the wheel, the envs and their lock file live (shared by the run's xdist workers)."""
    cache = tmp_path_factory.getbasetemp().parent / "vlmrun-consumer"
    cache.mkdir(parents=True, exist_ok=True)
    return cache


@pytest.fixture(scope="session")
def harness_wheel(consumer_cache: Path) -> Path:
    """The harness wheel, built from this checkout once per run (rebuilt when the sources changed)."""
    return cached_wheel(consumer_cache, run_id=os.environ.get("PYTEST_XDIST_TESTRUNUID"))


@pytest.fixture(scope="session")
def consumer_env(consumer_cache: Path, harness_wheel: Path) -> ConsumerEnv:
    """A venv with the wheel (no extras), openai>=2.17 and pytest-xdist. Shared: do not install into it."""
    return cached_env(consumer_cache, "base", harness_wheel, (), BASE_REQUIREMENTS)


@pytest.fixture(scope="session")
def consumer_env_full(consumer_cache: Path, harness_wheel: Path) -> ConsumerEnv:
    """Like consumer_env, plus the `gate` and `snapshots` extras the wheel declares."""
    extras = tuple(e for e in FULL_EXTRAS if e in wheel_extras(harness_wheel))
    # Without those extras it is the same env as consumer_env, so it shares it.
    return cached_env(consumer_cache, "full" if extras else "base", harness_wheel, extras, BASE_REQUIREMENTS)


@pytest.fixture
def consumer_project(tmp_path: Path) -> MakeProject:
    """`consumer_project(files, name="project")`: a project dir under tmp_path (see env.make_project)."""

    def make(files: Mapping[str, str] | None = None, name: str = "project") -> Path:
        return make_project(tmp_path / name, files or {})

    return make
