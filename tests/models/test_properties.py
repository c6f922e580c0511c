"""The models equal the description, both ways, on instances generated from the description.

Positive: every instance schemathesis generates from a component schema validates through
the model, and `to_wire()` gives back the same JSON, which the description accepts.
Negative: every body the description refuses (schemathesis' negative mode mutates one
place of the schema at a time), the model refuses too.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode

from tests.models.support import (
    CONTRACT,
    SCHEMA_NAMES,
    bodies,
    description_accepts,
    model_accepts,
    to_model,
)

HEALTH = list(HealthCheck)
# No example database: replaying stored bodies costs time on every run, and a failure
# prints its body anyway. Negative mode builds a strategy per mutated schema, hence fewer.


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_generated_instances_round_trip_through_the_model(name: str) -> None:
    @given(body=bodies(name, GenerationMode.POSITIVE))
    @settings(max_examples=100, deadline=None, suppress_health_check=HEALTH, database=None)
    def check(body: Any) -> None:
        assert CONTRACT.is_valid(name, body), "the generator strayed from the description"
        dumped = to_model(name, body).to_wire()
        assert dumped == body
        assert CONTRACT.is_valid(name, dumped)
        assert description_accepts(name, dumped)

    check()


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_bodies_the_description_refuses_the_model_refuses(name: str) -> None:
    refused: list[Any] = []

    @given(body=bodies(name, GenerationMode.NEGATIVE))
    @settings(max_examples=20, deadline=None, suppress_health_check=HEALTH, database=None)
    def check(body: Any) -> None:
        assume(not description_accepts(name, body))
        refused.append(body)
        assert not model_accepts(name, body), CONTRACT.violations(name, body)

    check()
    assert refused, "negative generation produced no body the description refuses"
