"""Options shared by the suite: point the property tests at a live server if wanted."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness-suite", "harness test suite")
    group.addoption(
        "--harness-base-url",
        default=None,
        help="Run the property tests against this live server instead of the in-process reference app.",
    )
    group.addoption("--harness-api-key", default=None, help="Bearer key for --harness-base-url.")
    group.addoption(
        "--harness-max-examples",
        type=int,
        default=300,
        help="Property-test examples per operation (default: 300).",
    )


def pytest_configure(config: pytest.Config) -> None:
    from tests.proptests import target

    target.configure(config)


pytest_plugins = ["pytester"]
