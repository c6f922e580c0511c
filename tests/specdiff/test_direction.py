"""The same schema change judged on both sides: narrowing breaks requests, widening breaks responses."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from harness.specdiff import diff_documents

Doc = dict[str, Any]


def _doc() -> Doc:
    thing = {
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"type": "string", "enum": ["a", "b"]},
            "name": {"type": "string", "maxLength": 10},
            "count": {"type": "integer"},
            "shape": {"oneOf": [{"$ref": "#/components/schemas/Circle"}, {"$ref": "#/components/schemas/Square"}]},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": thing,
                "Circle": {"type": "object", "properties": {"r": {"type": "number"}}},
                "Square": {"type": "object", "properties": {"side": {"type": "number"}}},
            }
        },
    }


def _props(doc: Doc) -> Doc:
    found: Doc = doc["components"]["schemas"]["Thing"]["properties"]
    return found


# mutation, (request rule, level), (response rule, level); None: nothing reported
SIDES: dict[str, tuple[Callable[[Doc], Any], tuple[str, str] | None, tuple[str, str] | None]] = {
    "enum value removed": (
        lambda d: _props(d)["kind"]["enum"].remove("b"),
        ("request-property-enum-value-removed", "ERR"),
        ("response-property-enum-value-removed", "INFO"),
    ),
    "enum value added": (
        lambda d: _props(d)["kind"]["enum"].append("c"),
        ("request-property-enum-value-added", "INFO"),
        ("response-property-enum-value-added", "WARN"),
    ),
    "became nullable": (
        lambda d: _props(d)["name"].update(type=["string", "null"]),
        ("request-property-became-nullable", "INFO"),
        ("response-property-became-nullable", "ERR"),
    ),
    "maxLength decreased": (
        lambda d: _props(d)["name"].update(maxLength=5),
        ("request-property-max-length-decreased", "ERR"),
        None,
    ),
    "maxLength increased": (
        lambda d: _props(d)["name"].update(maxLength=20),
        ("request-property-max-length-increased", "INFO"),
        ("response-property-max-length-increased", "ERR"),
    ),
    "integer widened to number": (
        lambda d: _props(d)["count"].update(type="number"),
        ("request-property-type-generalized", "INFO"),
        ("response-property-type-changed", "ERR"),
    ),
    "oneOf branch added": (
        lambda d: _props(d)["shape"]["oneOf"].append({"type": "string"}),
        ("request-property-one-of-added", "INFO"),
        ("response-property-one-of-added", "ERR"),
    ),
    "oneOf branch removed": (
        lambda d: _props(d)["shape"]["oneOf"].pop(),
        ("request-property-one-of-removed", "ERR"),
        ("response-property-one-of-removed", "INFO"),
    ),
    "property became required": (
        lambda d: d["components"]["schemas"]["Thing"]["required"].append("name"),
        ("request-property-became-required", "ERR"),
        ("response-property-became-required", "INFO"),
    ),
    "property became optional": (
        lambda d: d["components"]["schemas"]["Thing"].update(required=[]),
        ("request-property-became-optional", "INFO"),
        ("response-property-became-optional", "ERR"),
    ),
}


@pytest.mark.parametrize("name", sorted(SIDES))
def test_same_change_different_verdicts(name: str) -> None:
    mutate, request, response = SIDES[name]
    old = _doc()
    new = copy.deepcopy(old)
    mutate(new)
    found = {(c.direction, c.id, c.level.name) for c in diff_documents(old, new)}
    expected = set()
    if request:
        expected.add(("request", *request))
    if response:
        expected.add(("response", *response))
    assert found == expected
