"""The rules for one recorded exchange, judged against today's API description.

Request: operation (path templates, also as suffixes of a prefixed path), query and path
parameters, JSON body. Response: status, declared headers (required ones present, values
valid), media type, JSON body, or each server-sent event and the JSON its `data` carries.
Findings name a JSON location and stay short. What the description means is asked of the
contract (`harness.openapi`); which interactions of a cassette are judged, and the report,
are `cassette_check`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from harness.contract import Contract, Loc, Violation
from harness.openapi.operations import OperationMatch, is_json_media, parameter_value, pick_media
from harness.openapi.request_check import operation_of, request_violations
from harness.openapi.sse import parse_sse
from harness.openapi.violations import loc_path, short
from harness.recording.interaction import EVENT_STREAM, Interaction

Side = Literal["request", "response"]


@dataclass(frozen=True)
class Finding:
    """One way a recorded interaction departs from the description."""

    interaction: int
    side: Side
    location: str
    message: str
    kind: str
    violation: Violation | None = field(default=None, compare=False, repr=False)
    """Behind a `schema` finding: the schema violation, whose `type` says which rule (`enum`,
    `missing`, …) and, for an enum, carries the value and every allowed one whole. Its `loc` is
    the finding's whole location (`query.order_by`, `events[2].data.choices[0]…`)."""

    def __str__(self) -> str:
        return f"{self.side} {self.location}: {self.message} [{self.kind}]"


class _Checker:
    def __init__(self, interaction: Interaction, contract: Contract) -> None:
        self.ix = interaction
        self.contract = contract
        self.findings: list[Finding] = []

    def add(self, side: Side, loc: Loc | str, message: str, kind: str, violation: Violation | None = None) -> None:
        where = loc if isinstance(loc, str) else loc_path(loc)
        self.findings.append(Finding(self.ix.index, side, where, short(message), kind, violation))

    def violations(self, side: Side, prefix: Loc, schema: Any, instance: Any) -> None:
        for v in self.contract.schema_violations(schema, instance) if isinstance(schema, Mapping) else []:
            located = replace(v, loc=(*prefix, *v.loc))
            self.add(side, located.loc, v.msg, "schema", located)

    def json_value(self, side: Side, loc: Loc, raw: bytes | str, schema: Any) -> None:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            self.add(side, loc, f"{'Event data' if loc else 'Body'} is not JSON ({exc}): {raw[:60]!r}", "not_json")
            return
        self.violations(side, loc, schema, value)

    def request(self, matched: OperationMatch, op: Mapping[str, Any]) -> None:
        req = self.ix.request
        query = parse_qs(urlsplit(req.uri).query, keep_blank_values=True)
        for v in request_violations(self.contract, matched, op, query, req.content_type, req.body):
            kind = v.type if v.type in ("undocumented_media_type", "not_json") else "schema"
            self.add("request", v.loc, v.msg, kind, v)

    def response(self, method: str, template: str, op: Mapping[str, Any]) -> None:
        res = self.ix.response
        found = self.contract.response(op, res.status)
        if found is None:
            documented = ", ".join(str(k) for k in op.get("responses") or {})
            msg = f"Status {res.status} is not documented for {method} {template} (documented: {documented})"
            self.add("response", "status", msg, "undocumented_status")
            return
        key, declared = found
        self.headers(declared)
        content = declared.get("content") or {}
        picked = pick_media(content, res.content_type)
        if picked is None:
            if not content and not res.body:
                return
            expected = ", ".join(content) or "no body"
            msg = f"Content-Type {res.content_type!r} is not documented for {method} {template} {key}: {expected}"
            self.add("response", "content-type", msg, "undocumented_media_type")
            return
        schema = content[picked].get("schema")
        if picked.lower() == EVENT_STREAM and isinstance(schema, Mapping):
            self.events(res.body, schema)
        elif is_json_media(picked):
            self.json_value("response", (), res.body, schema)

    def headers(self, declared: Mapping[str, Any]) -> None:
        """Each header the response declares: present when required, its value valid against its schema."""
        sent = {name.lower(): values for name, values in self.ix.response.headers.items()}
        for name, spec in (declared.get("headers") or {}).items():
            spec = self.contract.deref(spec)
            if not isinstance(spec, Mapping) or str(name).lower() == "content-type":  # OpenAPI ignores that one
                continue
            values = sent.get(str(name).lower())
            if not values:
                if spec.get("required"):
                    self.add("response", ("headers", name), f"Required header {name!r} is missing", "missing_header")
                continue
            schema = spec.get("schema")
            if not isinstance(schema, Mapping):
                continue
            try:
                value = parameter_value(str(values[0]), schema)
            except ValueError as exc:
                self.add("response", ("headers", name), str(exc), "schema")
                continue
            self.violations("response", ("headers", name), schema, value)

    def events(self, body: bytes, schema: Mapping[str, Any]) -> None:
        events, truncated = parse_sse(body)
        for i, event in enumerate(events):
            self.violations("response", ("events", i), schema, event)
            content = self.contract.event_data_schema(schema, event["data"])
            if content is not None:
                self.json_value("response", ("events", i, "data"), event["data"], content)
        if truncated:
            msg = "Stream ends inside an event (no blank line after its last field): the recording looks truncated"
            self.add("response", ("events", len(events)), msg, "incomplete_event")


def check_interaction(interaction: Interaction, contract: Contract) -> list[Finding]:
    """Every way one recorded exchange departs from the description (empty when it conforms)."""
    checker = _Checker(interaction, contract)
    found = operation_of(contract, interaction.request.method, interaction.request.path)
    if isinstance(found, Violation):
        checker.add("request", found.loc, found.msg, "undocumented_operation")
        return checker.findings
    matched, op = found
    checker.request(matched, op)
    checker.response(interaction.request.method.upper(), matched.template, op)
    return checker.findings


def check_recorded(interaction: Interaction, contract: Contract) -> list[Finding]:
    """Findings that matter for recorded traffic: a request the API rejected (4xx) may be invalid,
    since tests send bad input on purpose to see the rejection; its response must still conform."""
    rejected = 400 <= interaction.response.status < 500
    return [f for f in check_interaction(interaction, contract) if not (rejected and f.side == "request")]
