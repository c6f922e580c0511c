"""Deterministic assistant content for the reference server.

When the request or a resolved skill carries a JSON Schema, the content is a JSON document
valid against it; otherwise a sentence naming the skills applied. The same request always
gets the same content, so recorded answers are stable.

Written by hand: the generators that exist (hypothesis, hypothesis-jsonschema) draw random
values and shrink, which is neither deterministic per request nor fast enough to run on
every call. This one covers the keywords skill schemas use (type, properties, required,
items, enum, const, min/max, minItems, formats date/date-time/email/uri/uuid, anyOf/oneOf,
$ref into $defs/definitions) and the result is always checked with jsonschema-rs before it
is sent; anything it cannot satisfy falls back to text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema_rs

from harness.openapi.pointer import RefError, resolve_ref

_FORMATS = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T09:30:00Z",
    "time": "09:30:00Z",
    "email": "someone@example.com",
    "uri": "https://example.com/resource",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_MAX_DEPTH = 12


def structured_content(schema: Mapping[str, Any], seed: str) -> str | None:
    """JSON text valid against `schema`, or None when the schema is unusable or unsatisfied."""
    try:
        validator = jsonschema_rs.validator_for(dict(schema))
    except (ValueError, TypeError):
        return None
    try:
        instance = _instance(schema, schema, seed, "", 0)
    except (RefError, KeyError, TypeError, ValueError, RecursionError):
        return None
    if not validator.is_valid(instance):
        return None
    return json.dumps(instance, sort_keys=True)


def text_content(skill_labels: Sequence[str], seed: str) -> str:
    applied = ", ".join(skill_labels) if skill_labels else "no skills"
    return f"Reference answer {seed[:12]} (skills applied: {applied})."


def _token(seed: str, path: str) -> str:
    return hashlib.sha256(f"{seed}:{path}".encode()).hexdigest()[:8]


def _instance(schema: Any, root: Mapping[str, Any], seed: str, path: str, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError("schema too deep")
    if schema is True or schema == {}:
        return _token(seed, path)
    if not isinstance(schema, Mapping):
        raise TypeError("not a schema")
    if "$ref" in schema:
        return _instance(resolve_ref(root, schema["$ref"]), root, seed, path, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        values = list(schema["enum"])
        return values[int(_token(seed, path), 16) % len(values)]
    for key in ("oneOf", "anyOf", "allOf"):
        if schema.get(key):
            return _instance(schema[key][0], root, seed, path, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props: Mapping[str, Any] = schema.get("properties", {})
        return {name: _instance(sub, root, seed, f"{path}.{name}", depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        count = min(count, int(schema.get("maxItems", count)))
        items = schema.get("items", {})
        return [_instance(items, root, seed, f"{path}[{i}]", depth + 1) for i in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(int(low) + 1, 1) if kind == "integer" else float(low) + 1.5
        if "maximum" in schema and value > schema["maximum"]:
            value = schema["maximum"]
        return value
    if kind == "boolean":
        return int(_token(seed, path), 16) % 2 == 0
    if kind == "null":
        return None
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    text = f"{path.rsplit('.', 1)[-1] or 'value'}-{_token(seed, path)}"
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    if len(text) < int(schema.get("minLength", 0)):
        text = text.ljust(int(schema["minLength"]), "x")
    return text
