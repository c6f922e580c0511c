"""Traffic-vs-description drift: what responses carry that the description does not say, and back.

Conformance (`conformance.py`) says whether each exchange is *allowed*; an open schema
allows any extra field, so a field the API started sending passes unnoticed. This walks
each recorded response alongside its schema and collects, per response kind
(`POST /v1/openai/chat/completions 200 application/json`), the field paths seen in traffic
and the field paths the description declares, so both directions can be reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.contract import Contract
from harness.openapi.operations import is_json_media, pick_media
from harness.openapi.sse import parse_sse
from harness.recording.interaction import EVENT_STREAM, Interaction

_MAX_DEPTH = 24


@dataclass
class FieldUse:
    """Per response kind: declared field paths, and the paths seen with one example each."""

    declared: set[str] = field(default_factory=set)
    seen: dict[str, str] = field(default_factory=dict)
    undeclared: dict[str, str] = field(default_factory=dict)


def _branches(contract: Contract, schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out = []
    for key in ("oneOf", "anyOf", "allOf"):
        out += [contract.deref(b) for b in schema.get(key, []) if isinstance(b, Mapping)]
    return out


def declared_paths(contract: Contract, schema: Any, prefix: str = "", depth: int = 0) -> Iterator[str]:
    """Every property path a schema declares (`choices[].message.content`), branches expanded."""
    schema = contract.deref(schema)
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        yield from declared_paths(contract, sub, path, depth + 1)
    if "items" in schema:
        yield from declared_paths(contract, schema["items"], f"{prefix}[]", depth + 1)
    for branch in _branches(contract, schema):
        yield from declared_paths(contract, branch, prefix, depth + 1)


def _properties(contract: Contract, schema: Mapping[str, Any], instance: Mapping[str, Any]) -> dict[str, Any]:
    """Properties of the schema and of the branch the instance is in (by `type` const, else all)."""
    props: dict[str, Any] = dict(schema.get("properties") or {})
    branches = _branches(contract, schema)
    chosen = [b for b in branches if (b.get("properties") or {}).get("type", {}).get("const") == instance.get("type")]
    for branch in chosen or branches:
        props.update(_properties(contract, branch, instance))
    return props


def walk(
    contract: Contract, schema: Any, instance: Any, prefix: str, use: FieldUse, where: str, depth: int = 0
) -> None:
    schema = contract.deref(schema)
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return
    if isinstance(instance, Mapping):
        props = _properties(contract, schema, instance)
        for name, value in instance.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            if name in props:
                use.seen.setdefault(path, where)
                walk(contract, props[name], value, path, use, where, depth + 1)
            else:
                use.undeclared.setdefault(path, where)
    elif isinstance(instance, list):
        items: Any = schema.get("items")
        if items is None:
            items = next((b.get("items") for b in _branches(contract, schema) if "items" in b), None)
        for value in instance:
            walk(contract, items, value, f"{prefix}[]", use, where, depth + 1)
    elif instance is not None:
        for branch in _branches(contract, schema):
            walk(contract, branch, instance, prefix, use, where, depth + 1)


def record_response(contract: Contract, interaction: Interaction, where: str, uses: dict[str, FieldUse]) -> None:
    """Fold one exchange's response into `uses`, keyed by response kind (the documented status:
    exact, `2XX` or `default`, as conformance resolves it); undocumented ones are skipped."""
    request, response = interaction.request, interaction.response
    matched = contract.match_operation(request.method, request.path)
    if matched is None:
        return
    op = contract.path_item(matched.template).get(request.method.lower())
    found = contract.response(op, response.status) if isinstance(op, Mapping) else None
    if found is None:
        return
    status, declared = found
    content = declared.get("content") or {}
    media = pick_media(content, response.content_type)
    if media is None:
        return
    schema = content[media].get("schema")
    kind = f"{request.method.upper()} {matched.template} {status} {media}"
    use = uses.setdefault(kind, FieldUse())
    if not use.declared:
        use.declared = set(declared_paths(contract, schema))
    if media.lower() == EVENT_STREAM:
        for event in parse_sse(response.body).events:
            walk(contract, schema, event, "", use, where)
            chunk_schema = contract.event_data_schema(schema, event["data"])
            if chunk_schema is None:
                continue
            use.declared |= {f"data.{p}" for p in declared_paths(contract, chunk_schema)}
            try:
                chunk = json.loads(event["data"])
            except ValueError:
                continue
            walk(contract, chunk_schema, chunk, "data", use, where)
    elif is_json_media(media):
        try:
            body = response.json()
        except ValueError:
            return
        walk(contract, schema, body, "", use, where)
