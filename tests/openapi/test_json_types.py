from __future__ import annotations

import json
from typing import Any

import pytest

from harness.openapi.json_types import json_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("null", "null"),
        ("true", "boolean"),
        ("3", "integer"),
        ("3.5", "number"),
        ('"x"', "string"),
        ("{}", "object"),
        ("[]", "array"),
    ],
)
def test_each_json_value_has_its_schema_type(text: str, expected: str) -> None:
    value: Any = json.loads(text)
    assert json_type(value) == expected
