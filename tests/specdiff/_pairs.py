"""Description pairs: the real description with one mutation each, or the smallest description
with one schema placed where a rule looks (`api`, `At`)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.contract import default_description_path
from harness.specdiff import Change, Level, diff_documents
from harness.yaml_load import load_yaml

Doc = dict[str, Any]
Mutation = Callable[[Doc], object]
CHAT = "POST /v1/openai/chat/completions"
OP = "POST /t"


@functools.cache
def _real() -> Doc:
    document: Doc = load_yaml(default_description_path().read_text())
    return document


def real() -> Doc:
    """A fresh deep copy of the packaged description."""
    return copy.deepcopy(_real())


def mutated(*mutations: Mutation) -> Doc:
    doc = real()
    for mutation in mutations:
        mutation(doc)
    return doc


def schema(doc: Doc, name: str) -> Doc:
    found: Doc = doc["components"]["schemas"][name]
    return found


def prop(doc: Doc, schema_name: str, name: str) -> Doc:
    found: Doc = schema(doc, schema_name)["properties"][name]
    return found


def run(old: Doc, new: Doc) -> list[Change]:
    return diff_documents(old, new)


def facts(changes: list[Change]) -> set[tuple[str, str, str, str]]:
    return {(c.id, c.level.name, c.operation, c.path) for c in changes}


def breaking(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.level >= Level.WARN]


def api(*, request: Any = None, param: Any = None, response: Any = None) -> Doc:
    """The smallest description a rule can see: `POST /t` with a query parameter `p`, a JSON
    request body and a JSON 200 response, each with the schema given (`{}` when not)."""
    empty: Doc = {}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/t": {
                "post": {
                    "parameters": [{"name": "p", "in": "query", "schema": empty if param is None else param}],
                    "requestBody": {"content": {"application/json": {"schema": empty if request is None else request}}},
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": empty if response is None else response}},
                        }
                    },
                }
            }
        },
    }


def operation(doc: Doc) -> Doc:
    """`POST /t` in an `api()` document."""
    found: Doc = doc["paths"]["/t"]["post"]
    return found


@dataclass(frozen=True)
class At:
    """Where a schema sits in an `api()` document: a body, a property `x` of a body, or the
    parameter `p`; `path` is how a change there is located."""

    side: str  # "request" | "param" | "response"
    in_property: bool
    path: str

    def doc(self, placed: Any) -> Doc:
        if self.in_property:
            placed = {"type": "object", "properties": {"x": placed}}
        return api(**{self.side: placed})


REQUEST_BODY = At("request", False, "request body")
REQUEST_PROPERTY = At("request", True, "request body: x")
PARAMETER = At("param", False, "query: p")
RESPONSE_BODY = At("response", False, "response 200 application/json")
RESPONSE_PROPERTY = At("response", True, "response 200 application/json: x")
