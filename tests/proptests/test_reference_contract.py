"""Schemathesis against the reference server: every check, positive and negative data."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from tests.proptests.target import FreshApp, build_schema

schema = build_schema()


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_the_description(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    def setup(self) -> None:
        if isinstance(schema.app, FreshApp):  # a live server (--harness-base-url) keeps its own state
            schema.app.reset()


def test_stateful_links_between_skills_and_completions() -> None:
    Workflow.run(
        settings=settings(
            max_examples=50, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )
