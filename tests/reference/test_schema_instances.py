from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest

from harness.reference.schema_instances import structured_content, text_content

OBJ = "object"
SCHEMAS: list[dict[str, Any]] = [
    {"type": OBJ, "properties": {"a": {"type": "string"}, "b": {"type": "integer", "minimum": 5}}, "required": ["a"]},
    {"type": OBJ, "properties": {"when": {"type": "string", "format": "date-time"}, "kind": {"enum": ["x", "y"]}}},
    {"type": "array", "items": {"type": "number", "maximum": 0.5}, "minItems": 2},
    {"$defs": {"item": {"properties": {"n": {"const": 3}}}}, "properties": {"i": {"$ref": "#/$defs/item"}}},
    {"type": OBJ, "properties": {"v": {"type": ["null", "boolean"]}, "s": {"type": "string", "minLength": 40}}},
    {"anyOf": [{"type": "string", "format": "email"}, {"type": "integer"}]},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_structured_content_is_valid_and_deterministic(schema: dict[str, Any]) -> None:
    first = structured_content(schema, "seed-1")
    assert first is not None
    assert jsonschema_rs.validator_for(schema).is_valid(json.loads(first))
    assert structured_content(schema, "seed-1") == first


def test_different_requests_get_different_content() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    assert structured_content(schema, "a") != structured_content(schema, "b")


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"x": {"type": "string", "pattern": "^[0-9]{3}$"}}, "required": ["x"]},
        {"type": 12},
        {"not": {}},
    ],
)
def test_unsatisfied_or_invalid_schemas_fall_back_to_none(schema: dict[str, Any]) -> None:
    assert structured_content(schema, "seed") is None


def test_text_content_names_the_skills() -> None:
    assert "invoice-extraction@20260301-4c1d9e07" in text_content(["invoice-extraction@20260301-4c1d9e07"], "abc")
    assert "no skills" in text_content([], "abc")
