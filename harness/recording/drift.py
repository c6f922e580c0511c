"""Traffic-vs-description drift: what responses carry that the description does not say, and back.

Conformance (`conformance.py`) says whether each exchange is *allowed*; an open schema
allows any extra field, so a field the API started sending passes unnoticed. This walks
each recorded response alongside its schema and collects, per response kind
(`POST /v1/openai/chat/completions 200 application/json`), the field paths seen in traffic
and the field paths the description declares, so both directions can be reported; and the
response headers that neither HTTP nor the description defines (`gaps.undescribed_headers`).
The walk keeps the pointer of each schema it passes, so every gap can also be noted against
the node of the description that would describe it (`gaps`, for `overlay_proposal`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.contract import Contract
from harness.openapi.operations import is_json_media, pick_media
from harness.openapi.sse import parse_sse
from harness.recording.gaps import Gaps, undescribed_headers
from harness.recording.interaction import EVENT_STREAM, Interaction
from harness.recording.schema_nodes import (
    branches,
    child,
    data_schema_at,
    follow,
    items,
    operation_at,
    owner,
    properties,
    response_at,
)

_MAX_DEPTH = 24


@dataclass
class FieldUse:
    """Per response kind: declared field paths, and the paths seen with one example each."""

    declared: set[str] = field(default_factory=set)
    seen: dict[str, str] = field(default_factory=dict)
    undeclared: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers neither HTTP nor the description defines, with one example each."""


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


@dataclass
class _Walk:
    """One response's walk: where its fields are noted, and where gaps go (with the nodes to extend)."""

    contract: Contract
    use: FieldUse
    where: str
    gaps: Gaps | None

    def value(self, schema: Any, at: str, instance: Any, prefix: str, depth: int = 0) -> None:
        schema, at = follow(self.contract, schema, at)
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return
        if isinstance(instance, Mapping):
            props = properties(self.contract, schema, at, instance)
            for name, value in instance.items():
                path = f"{prefix}.{name}" if prefix else str(name)
                if name in props:
                    self.use.seen.setdefault(path, self.where)
                    self.value(*props[name], value, path, depth + 1)
                    continue
                self.use.undeclared.setdefault(path, self.where)
                if self.gaps is not None:
                    self.gaps.add_property(owner(self.contract, schema, at, instance), str(name), value, self.where)
        elif isinstance(instance, list):
            found = items(self.contract, schema, at)
            if found is not None:
                for value in instance:
                    self.value(*found, value, f"{prefix}[]", depth + 1)
        elif instance is not None:
            for branch in branches(self.contract, schema, at):
                self.value(*branch, instance, prefix, depth + 1)


def record_response(
    contract: Contract, interaction: Interaction, where: str, uses: dict[str, FieldUse], *, gaps: Gaps | None = None
) -> None:
    """Fold one exchange's response into `uses`, keyed by response kind (the documented status:
    exact, `2XX` or `default`, as conformance resolves it); undocumented ones are skipped.

    With `gaps`, each field and header the description lacks is also noted against the node
    of the description that would describe it (the object schema, the response object)."""
    request, response = interaction.request, interaction.response
    matched = contract.match_operation(request.method, request.path)
    op = operation_at(contract, matched.template, request.method) if matched else None
    found = contract.response(op[0], response.status) if matched and op else None
    declared_at = response_at(contract, matched.template, request.method, found[0]) if matched and found else None
    if matched is None or found is None or declared_at is None:
        return
    status, (declared, response_ptr) = found[0], declared_at
    content = declared.get("content") or {}
    media = pick_media(content, response.content_type)
    if media is None and (content or response.body):
        return  # conformance reports the media type
    kind = f"{request.method.upper()} {matched.template} {status}" + (f" {media}" if media else "")
    headers = undescribed_headers(response.headers, declared.get("headers"))
    if media is None and not headers:
        return
    use = uses.setdefault(kind, FieldUse())
    for name in headers:
        use.headers.setdefault(name, where)
        if gaps is not None:
            gaps.headers.setdefault((response_ptr, name), where)
    if media is None:
        return
    schema = (content[media].get("schema"), child(response_ptr, "content", media, "schema"))
    if not use.declared:
        use.declared = set(declared_paths(contract, schema[0]))
    walk = _Walk(contract, use, where, gaps)
    if media.lower() == EVENT_STREAM:
        for event in parse_sse(response.body).events:
            walk.value(*schema, event, "")
            chunk_schema = data_schema_at(contract, schema, event["data"])
            if chunk_schema is None:
                continue
            use.declared |= {f"data.{p}" for p in declared_paths(contract, chunk_schema[0])}
            try:
                chunk = json.loads(event["data"])
            except ValueError:
                continue
            walk.value(*chunk_schema, chunk, "data")
    elif is_json_media(media):
        try:
            body = response.json()
        except ValueError:
            return
        walk.value(*schema, body, "")
