"""What recorded traffic shows and the description lacks, by the node of the description to extend.

`harness verify` reports drift as lines a person reads; a proposed overlay needs each gap
tied to the node a correction edits (a pointer into the description in use): the object
schema a field belongs in, the response a header belongs to, the schema whose `enum` a value
belongs to, the operation a status belongs to, with what was seen there and the first
interaction that showed it. `drift` notes fields and headers as it walks responses; this
module notes statuses and enum values from what conformance found.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from harness.contract import Contract, Loc
from harness.header_names import HTTP_HEADER_PREFIXES, HTTP_HEADERS
from harness.openapi.operations import is_json_media, parameter_value, pick_media, request_media
from harness.openapi.sse import parse_sse
from harness.openapi.violations import loc_path
from harness.recording.conformance import Finding
from harness.recording.interaction import EVENT_STREAM, Interaction, RecordedResponse
from harness.recording.schema_nodes import (
    Node,
    child,
    data_schema_at,
    enum_holder,
    follow,
    locate,
    operation_at,
    parameters_at,
    response_at,
)
from harness.recording.shapes import Shape


@dataclass
class Sighting:
    """Where a gap was first seen, and the shape of every value seen there."""

    where: str
    shape: Shape = field(default_factory=Shape)


@dataclass
class StatusSighting:
    """An undocumented status of an operation: per media type the shape of its bodies (None: not
    JSON, so no schema is inferred), and the headers it carried that HTTP does not define."""

    where: str
    media: dict[str, Shape | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Gaps:
    """Keys are (pointer of the node to extend, what to add there)."""

    properties: dict[tuple[str, str], Sighting] = field(default_factory=dict)
    """(object schema, property name)"""
    headers: dict[tuple[str, str], str] = field(default_factory=dict)
    """(response object, lower-case header name) -> first interaction"""
    enums: dict[tuple[str, str], tuple[Any, str]] = field(default_factory=dict)
    """(schema holding the enum, the value as JSON) -> (value, first interaction)"""
    statuses: dict[tuple[str, str], StatusSighting] = field(default_factory=dict)
    """(operation, status code)"""

    def __bool__(self) -> bool:
        return bool(self.properties or self.headers or self.enums or self.statuses)

    def add_property(self, owner: str, name: str, value: Any, where: str) -> None:
        self.properties.setdefault((owner, name), Sighting(where)).shape.observe(value)


def undescribed_headers(headers: Mapping[str, Any], declared: Any) -> list[str]:
    """The response's header names (lower case) that neither HTTP nor the response object describes."""
    described = {str(k).lower() for k in declared} if isinstance(declared, Mapping) else set()
    names = {str(k).lower() for k in headers}
    return sorted(
        n for n in names if n not in HTTP_HEADERS and not n.startswith(HTTP_HEADER_PREFIXES) and n not in described
    )


def note_status(gaps: Gaps, contract: Contract, interaction: Interaction, where: str) -> None:
    """Note a response whose status its (documented) operation does not document."""
    request, response = interaction.request, interaction.response
    matched = contract.match_operation(request.method, request.path)
    found = operation_at(contract, matched.template, request.method) if matched else None
    if found is None or contract.response(found[0], response.status) is not None:
        return
    sighting = gaps.statuses.setdefault((found[1], str(response.status)), StatusSighting(where))
    for name in undescribed_headers(response.headers, None):
        sighting.headers.setdefault(name, where)
    if not response.body:
        return
    media = (response.content_type or "application/octet-stream").split(";")[0].strip().lower()
    values = _body_values(response, media)
    if values is None:  # not JSON (or not what its media type says): no schema is guessed
        sighting.media[media] = None
        return
    shape = sighting.media.setdefault(media, Shape())
    if shape is not None:  # None: an earlier body of this media type was not JSON
        for value in values:
            shape.observe(value)


def _body_values(response: RecordedResponse, media: str) -> list[Any] | None:
    """The JSON values a body holds: its events for a stream, itself for JSON; None for other media."""
    if media == EVENT_STREAM:
        return list(parse_sse(response.body).events)
    if not is_json_media(media):
        return None
    try:
        return [response.json()]
    except ValueError:
        return None


def note_enum(gaps: Gaps, contract: Contract, interaction: Interaction, finding: Finding, where: str) -> None:
    """Note the value of an enum finding against the schema whose `enum` rejected it."""
    violation = finding.violation
    if violation is None or violation.type != "enum" or violation.allowed is None:
        return
    for prefix, (node, at), instance in _roots(contract, interaction, finding.side, finding.location):
        if tuple(violation.loc[: len(prefix)]) != tuple(prefix) or loc_path(violation.loc) != finding.location:
            continue
        for sub, sub_at in locate(contract, node, at, instance, violation.loc[len(prefix) :]):
            holder = enum_holder(contract, sub, sub_at, violation.allowed)
            if holder is not None:
                value = json.dumps(violation.input, sort_keys=True, ensure_ascii=False)
                gaps.enums.setdefault((holder, value), (violation.input, where))
                return


def _roots(contract: Contract, interaction: Interaction, side: str, location: str) -> Iterator[tuple[Loc, Node, Any]]:
    """Each value conformance validates on one side, with its location prefix and schema (as `conformance`);
    of a stream, only the event `location` is in."""
    request, response = interaction.request, interaction.response
    matched = contract.match_operation(request.method, request.path)
    found = operation_at(contract, matched.template, request.method) if matched else None
    if matched is None or found is None:
        return
    op, op_at = found
    if side == "request":
        query = parse_qs(urlsplit(request.uri).query, keep_blank_values=True)
        for (where, name), (param, param_at) in parameters_at(contract, matched.template, request.method).items():
            if where not in ("query", "path"):
                continue
            given = matched.path_params.get(name) if where == "path" else None
            for raw in [given] if given is not None else query.get(name, []):
                try:
                    value = parameter_value(raw, param.get("schema", {}))
                except ValueError:
                    continue
                yield (where, name), (param.get("schema"), child(param_at, "schema")), value
        body, body_at = follow(contract, op.get("requestBody"), child(op_at, "requestBody"))
        content = body.get("content") or {} if isinstance(body, Mapping) else {}
        media = request_media(content, request.content_type)
        if media is not None and is_json_media(media):
            yield from _json((), (content[media].get("schema"), child(body_at, "content", media, "schema")), request)
        return
    key = contract.response(op, response.status)
    declared = response_at(contract, matched.template, request.method, key[0]) if key else None
    content = declared[0].get("content") or {} if declared else {}
    media = pick_media(content, response.content_type)
    if declared is None or media is None:
        return
    schema = (content[media].get("schema"), child(declared[1], "content", media, "schema"))
    if media.lower() == EVENT_STREAM:
        for index, event in enumerate(parse_sse(response.body).events):
            if not location.startswith(f"events[{index}]"):
                continue
            yield ("events", index), schema, event
            data = data_schema_at(contract, schema, event["data"])
            if data is not None:
                try:
                    yield ("events", index, "data"), data, json.loads(event["data"])
                except ValueError:
                    continue
    elif is_json_media(media):
        yield from _json((), schema, response)


def _json(prefix: Loc, schema: Node, message: Any) -> Iterator[tuple[Loc, Node, Any]]:
    try:
        yield prefix, schema, message.json()
    except ValueError:
        return
