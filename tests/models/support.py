"""What the model tests share: the description's verdicts and generators built from it."""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import math
from typing import Any

import schemathesis
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from schemathesis import GenerationMode

from harness.contract import COMPLETIONS_PATH, load_contract
from harness.models import COMPONENTS, WireModel

CONTRACT = load_contract()
SCHEMAS: dict[str, Any] = CONTRACT.document["components"]["schemas"]
_PREFIX = "#/components/schemas/"


def _referenced(node: Any, found: set[str]) -> set[str]:
    """Every component schema `node` refers to, directly or through other components."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_PREFIX) and ref[len(_PREFIX) :] not in found:
            found.add(ref[len(_PREFIX) :])
            _referenced(SCHEMAS[ref[len(_PREFIX) :]], found)
        for value in node.values():
            _referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found)
    return found


def request_schemas() -> set[str]:
    """The component schemas a request body is made of: what the models must cover, exactly."""
    found: set[str] = set()
    for item in CONTRACT.document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                _referenced(operation["requestBody"], found)
    return found


SCHEMA_NAMES = sorted(request_schemas())

# Request bodies are generated from their real operations (which also mix in the
# operation's examples); every other component through a synthetic operation.
_REAL_OPERATIONS = {
    "ChatCompletionRequest": (COMPLETIONS_PATH, "POST"),
    "SkillLookupRequest": ("/v1/skills/lookup", "POST"),
    "SkillCreateRequest": ("/v1/skills/create", "POST"),
    "SkillUpdateRequest": ("/v1/skills/{skill_id}/update", "POST"),
}
_SYNTHETIC_PREFIX = "/__components__/"


@functools.cache
def adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(COMPONENTS[name])


def to_model(name: str, body: Any) -> WireModel:
    model = adapter(name).validate_python(body)
    assert isinstance(model, WireModel)
    return model


def model_accepts(name: str, body: Any) -> bool:
    try:
        adapter(name).validate_python(body)
    except ValidationError:
        return False
    return True


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def description_accepts(name: str, body: Any) -> bool:
    """The description's verdict, through the same validator the reference server uses."""
    return CONTRACT.is_valid(name, body)


def is_json(value: Any) -> bool:
    """Negative generation also produces raw bytes (a malformed body), which are not JSON."""
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json(v) for k, v in value.items())
    return False


@functools.cache
def _generator_schema() -> Any:
    document = copy.deepcopy(CONTRACT.document)
    for name in SCHEMA_NAMES:
        body = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
        document["paths"][f"{_SYNTHETIC_PREFIX}{name}"] = {
            "post": {"requestBody": body, "security": [], "responses": {"200": {"description": "unused"}}}
        }
    return schemathesis.openapi.from_dict(document)


def bodies(name: str, mode: GenerationMode) -> st.SearchStrategy[Any]:
    """Instances of component `name` from schemathesis' generator (negative: non-instances)."""
    path, method = _REAL_OPERATIONS.get(name, (f"{_SYNTHETIC_PREFIX}{name}", "POST"))
    operation = _generator_schema()[path][method]
    strategy: st.SearchStrategy[Any] = operation.as_strategy(generation_mode=mode)
    return strategy.map(lambda case: case.body).filter(is_json)
