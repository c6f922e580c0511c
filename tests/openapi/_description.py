"""A small description that exercises what the packaged one does not: status ranges, `default`,
escaped component names, shared parameters and references at every level."""

from __future__ import annotations

import copy
from typing import Any

from harness.contract import Contract

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/things/{thing_id}": {
            "parameters": [{"$ref": "#/components/parameters/ThingId"}],
            "get": {
                "parameters": [
                    {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": {"$ref": "#/components/responses/Thing"},
                    "2XX": {
                        "description": "accepted",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/a~1b"}}},
                    },
                    "default": {
                        "description": "error",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                },
            },
        },
    },
    "components": {
        "parameters": {"ThingId": {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}}},
        "responses": {
            "Thing": {
                "description": "a thing",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
            }
        },
        "schemas": {
            "Thing": {
                "type": "object",
                "required": ["id", "colour"],
                "properties": {
                    "id": {"type": "string"},
                    "colour": {"enum": ["red", "green", "blue", "cyan", "magenta"]},
                },
            },
            "a/b": {"type": "object", "properties": {"queued": {"type": "boolean"}}},
            "Problem": {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
            "Loop": {"$ref": "#/components/schemas/Loop"},
        },
    },
}


def small_contract() -> Contract:
    return Contract(copy.deepcopy(DOCUMENT), source="small.yaml", sha256="0" * 64)
