"""Where the property tests point: the in-process reference app, or a live server.

Set from the command line in `pytest_configure` (tests/conftest.py), before test modules
are imported, because schemathesis' `parametrize` needs the schema at import time
(`schemathesis.pytest.from_fixture` breaks on pytest 9.2: it reads `Function._nodeid`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis

from harness.contract import default_description_path
from harness.proptests.strategies import register
from harness.reference.app import ServerConfig, create_app
from harness.settings import PHASES, resolve_api_key

TEST_KEY = "property-test-key"


@dataclass
class Target:
    base_url: str | None = None
    api_key: str = TEST_KEY
    max_examples: int = 300


TARGET = Target()


def configure(config: pytest.Config) -> None:
    base_url = config.getoption("--harness-base-url")
    TARGET.max_examples = config.getoption("--harness-max-examples")
    if base_url:
        key = resolve_api_key(config.getoption("--harness-api-key"))
        if key is None:
            raise pytest.UsageError("--harness-base-url needs --harness-api-key or VLMRUN_API_KEY")
        TARGET.base_url = base_url.rstrip("/")
        TARGET.api_key = key.value


class FreshApp:
    """The in-process reference app, made again for each stateful scenario (`reset`).

    The skills one scenario creates would otherwise be listed to the next, and hypothesis,
    which may replay a scenario's draws, expects the same responses to the same requests: a
    shared registry made it fail now and then with `FlakyStrategyDefinition`."""

    def __init__(self) -> None:
        self.app = self._make()

    @staticmethod
    def _make() -> Any:
        return create_app(config=ServerConfig(api_key=TARGET.api_key))

    def reset(self) -> None:
        self.app = self._make()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def build_schema() -> schemathesis.BaseSchema:
    register()
    schema = schemathesis.openapi.from_path(str(default_description_path()))
    if TARGET.base_url:
        schema.config.update(base_url=TARGET.base_url)
    else:
        schema.app = FreshApp()
    schema.config.update(headers={"Authorization": f"Bearer {TARGET.api_key}"})
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    schema.config.generation.update(max_examples=TARGET.max_examples, modes=modes)
    schema.config.phases.update(phases=list(PHASES))
    return schema
