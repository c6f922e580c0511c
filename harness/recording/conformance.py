"""Recorded traffic judged against today's API description, for replay and `harness verify`.

Request: operation (path templates, also as suffixes of a prefixed path), query and path
parameters, JSON body. Response: status, media type, JSON body, or each server-sent event
and the JSON its `data` carries (`contentSchema` is only an annotation to JSON Schema, so it
is applied here). Findings name a JSON location and stay short.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema_rs

from harness.contract import OPENAPI_FORMATS, Contract, Loc, Violation
from harness.errors import CassetteError, ConformanceFailure
from harness.recording.interaction import EVENT_STREAM, Interaction

Side = Literal["request", "response"]
_MAX_MESSAGE = 300
_MAX_PER_INTERACTION = 10
_COMPONENT = "#/components/schemas/"
_validators: weakref.WeakKeyDictionary[Contract, dict[str, jsonschema_rs.Validator]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Finding:
    """One way a recorded interaction departs from the description."""

    interaction: int
    side: Side
    location: str
    message: str
    kind: str

    def __str__(self) -> str:
        return f"{self.side} {self.location}: {self.message} [{self.kind}]"


def _bounded(text: str) -> str:
    half = _MAX_MESSAGE // 2
    return text if len(text) <= _MAX_MESSAGE else f"{text[:half]} … {text[-half:]}"


def _component(schema: Any) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, Mapping) and len(schema) == 1 else None
    return ref.removeprefix(_COMPONENT) if isinstance(ref, str) and ref.startswith(_COMPONENT) else None


def deref(contract: Contract, node: Any) -> Any:
    """Follow `$ref`s to local components (responses, parameters, request bodies, schemas)."""
    while isinstance(node, Mapping) and str(node.get("$ref", "")).startswith("#/"):
        ref, node = node["$ref"], contract.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema_validator(contract: Contract, schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
    """A validator for an inline schema of the description, built like `Contract.validator`."""
    cache = _validators.setdefault(contract, {})
    key = json.dumps(schema, sort_keys=True, default=str)
    found = cache.get(key)
    if found is None:
        root = {"allOf": [schema], "components": contract.document["components"]}
        found = cache[key] = jsonschema_rs.Draft202012Validator(root, validate_formats=True, formats=OPENAPI_FORMATS)
    return found


def schema_violations(contract: Contract, schema: Mapping[str, Any], instance: Any) -> list[Violation]:
    """Violations of any schema: component refs (and arrays of them) get the contract's narrowed messages."""
    name = _component(schema)
    if name is not None:
        return contract.violations(name, instance)
    out: list[Violation] = []
    items = _component(schema.get("items"))
    if items is not None and isinstance(instance, list):
        out += [
            Violation((i, *v.loc), v.msg, v.type)
            for i, x in enumerate(instance)
            for v in schema_violations(contract, schema["items"], x)
        ]
        schema = {k: v for k, v in schema.items() if k != "items"}
    for err in schema_validator(contract, schema).iter_errors(instance):
        out.append(Violation(tuple(err.instance_path), _bounded(err.message), type(err.kind).__name__.lower()))
    return out


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^{}/]+)\}", template)
    body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<p{i // 2}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"(?:/.*)?{body}")


def match_operation(contract: Contract, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """(template, path parameters) for a path: the whole path or a suffix of it (a proxy prefix).

    A template documenting `method` wins, then the longest, then the most literal.
    """
    best: tuple[tuple[int, int, int], str, dict[str, str]] | None = None
    for template, item in contract.document["paths"].items():
        m = _template_regex(template).fullmatch(path)
        if m is None:
            continue
        names = re.findall(r"\{([^{}/]+)\}", template)
        rank = (int(method.lower() in item), template.count("/"), len(re.sub(r"\{[^{}/]+\}", "", template)))
        if best is None or rank > best[0]:
            best = (rank, template, {n: unquote(m.group(f"p{i}")) for i, n in enumerate(names)})
    return None if best is None else (best[1], best[2])


def _parameters(contract: Contract, template: str, op: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    merged: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*contract.document["paths"][template].get("parameters", []), *op.get("parameters", [])]:
        param = deref(contract, raw)
        merged[(param["name"], param["in"])] = param
    return list(merged.values())


_PARSERS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "integer": (r"-?[0-9]{1,4000}", int, "an integer"),
    "number": (r"-?[0-9]{1,4000}(\.[0-9]+)?([eE][-+]?[0-9]+)?", float, "a number"),
    "boolean": ("true|false", lambda raw: raw == "true", "true or false"),
}


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query or path value as the type its schema declares (strings stay as given)."""
    declared = schema.get("type", "string")
    kind = next((t for t in ([declared] if isinstance(declared, str) else declared) if t != "null"), "string")
    pattern, parse, label = _PARSERS.get(kind, (".*", str, "a string"))
    if not re.fullmatch(pattern, raw, re.DOTALL):
        raise ValueError(f"Expected {label}, got {raw[:60]!r}")
    return parse(raw)


def pick_media(content: Mapping[str, Any], content_type: str | None) -> str | None:
    """The documented media type (exact, then `type/*`, `*/*`) for a Content-Type, parameters stripped."""
    media = (content_type or "").split(";")[0].strip().lower()
    exact = [k for k in content if k.lower() == media]
    wild = [k for k in content if k == "*/*" or (k.endswith("/*") and media.startswith(k.lower()[:-1]))]
    return next(iter(exact + wild), None) if media else None


def is_json_media(media: str) -> bool:
    media = media.lower()
    return media == "application/json" or media.endswith("+json")


def parse_sse(body: bytes | str) -> tuple[list[dict[str, str]], bool]:
    """Server-sent events (WHATWG rules; our own parser), and whether the body ends inside one.

    CRLF/CR/LF lines, `:` comments, `data` lines joined with "\\n", `event`, `id` (no NUL);
    `retry` is not kept; a blank line dispatches; events without data and an unterminated last
    event are dropped."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    *lines, rest = re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))  # `rest`: after the last line break
    events: list[dict[str, str]] = []
    data: list[str] = []
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if data:
                events.append({"data": "\n".join(data), **event})
            data, event = [], {}
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        value = value.removeprefix(" ") if colon else ""
        if name == "data":
            data.append(value)
        elif name == "event" or (name == "id" and "\0" not in value):
            event[name] = value
    return events, bool(data) or rest.startswith("data")


def content_schema(contract: Contract, event_schema: Mapping[str, Any], data: Any) -> Any:
    """The `contentSchema` of the `data` branch that applies, when it declares JSON content."""
    data_schema = deref(contract, deref(contract, event_schema).get("properties", {}).get("data"))
    if not isinstance(data_schema, Mapping) or not isinstance(data, str):
        return None
    for raw in [data_schema, *data_schema.get("oneOf", []), *data_schema.get("anyOf", [])]:
        branch = deref(contract, raw)
        if not (isinstance(branch, Mapping) and "contentSchema" in branch):
            continue
        if is_json_media(str(branch.get("contentMediaType"))) and schema_validator(contract, branch).is_valid(data):
            return branch["contentSchema"]
    return None


class _Checker:
    def __init__(self, interaction: Interaction, contract: Contract) -> None:
        self.ix = interaction
        self.contract = contract
        self.findings: list[Finding] = []

    def add(self, side: Side, loc: Loc | str, message: str, kind: str) -> None:
        where = loc if isinstance(loc, str) else Violation(loc, "", "").path
        self.findings.append(Finding(self.ix.index, side, where, _bounded(message), kind))

    def violations(self, side: Side, prefix: Loc, schema: Any, instance: Any) -> None:
        for v in schema_violations(self.contract, schema, instance) if isinstance(schema, Mapping) else []:
            self.add(side, (*prefix, *v.loc), v.msg, "schema")

    def json_value(self, side: Side, loc: Loc, raw: bytes | str, schema: Any) -> None:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            self.add(side, loc, f"{'Event data' if loc else 'Body'} is not JSON ({exc}): {raw[:60]!r}", "not_json")
            return
        self.violations(side, loc, schema, value)

    def request(self, template: str, op: Mapping[str, Any], path_params: dict[str, str]) -> None:
        req = self.ix.request
        query = parse_qs(urlsplit(req.uri).query, keep_blank_values=True)
        for param in _parameters(self.contract, template, op):
            where, name, schema = param["in"], param["name"], param.get("schema", {})
            if where not in ("query", "path"):
                continue
            values = [path_params[name]] if where == "path" and name in path_params else query.get(name, [])
            if not values and param.get("required"):
                self.add("request", (where, name), f"Required {where} parameter {name!r} is missing", "schema")
            for raw in values:
                try:
                    value = _coerce(raw, schema)
                except ValueError as exc:
                    self.add("request", (where, name), str(exc), "schema")
                    continue
                self.violations("request", (where, name), schema, value)
        spec = deref(self.contract, op.get("requestBody"))
        if not isinstance(spec, Mapping):
            return
        content = spec.get("content", {})
        if not req.body and spec.get("required"):
            self.add("request", "<root>", "Request body is required but empty", "schema")
        if not req.body:
            return
        media = req.content_type
        key = pick_media(content, media) if media else next((k for k in content if is_json_media(k)), None)
        if key is None:
            msg = f"Content-Type {media!r} is not documented (documented: {', '.join(content)})"
            self.add("request", "content-type", msg, "undocumented_media_type")
        elif is_json_media(key):
            self.json_value("request", (), req.body, content[key].get("schema"))

    def response(self, method: str, template: str, op: Mapping[str, Any]) -> None:
        res = self.ix.response
        responses, status = {str(k): v for k, v in op.get("responses", {}).items()}, str(res.status)
        key = next((k for k in (status, f"{status[0]}XX", "default") if k in responses), None)
        if key is None:
            msg = f"Status {status} is not documented for {method} {template} (documented: {', '.join(responses)})"
            self.add("response", "status", msg, "undocumented_status")
            return
        content = deref(self.contract, responses[key]).get("content") or {}
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

    def events(self, body: bytes, schema: Mapping[str, Any]) -> None:
        events, truncated = parse_sse(body)
        for i, event in enumerate(events):
            self.violations("response", ("events", i), schema, event)
            content = content_schema(self.contract, schema, event["data"])
            if content is not None:
                self.json_value("response", ("events", i, "data"), event["data"], content)
        if truncated:
            msg = "Stream ends inside an event (no blank line after its last field): the recording looks truncated"
            self.add("response", ("events", len(events)), msg, "incomplete_event")


def check_interaction(interaction: Interaction, contract: Contract) -> list[Finding]:
    """Every way one recorded exchange departs from the description (empty when it conforms)."""
    checker = _Checker(interaction, contract)
    method, path = interaction.request.method.upper(), interaction.request.path
    matched = match_operation(contract, method, path)
    item = contract.document["paths"][matched[0]] if matched else {}
    if matched is None or method.lower() not in item:
        documented = [m.upper() for m in ("get", "put", "post", "delete", "patch", "head", "options") if m in item]
        why = f" (documented: {', '.join(documented)} {matched[0]})" if matched and documented else ""
        checker.add("request", "path", f"{method} {path} is not a documented operation{why}", "undocumented_operation")
        return checker.findings
    template, params = matched
    checker.request(template, item[method.lower()], params)
    checker.response(method, template, item[method.lower()])
    return checker.findings


def check_recorded(interaction: Interaction, contract: Contract) -> list[Finding]:
    """Findings that matter for recorded traffic: a request the API rejected (4xx) may be invalid,
    since tests send bad input on purpose to see the rejection; its response must still conform."""
    rejected = 400 <= interaction.response.status < 500
    return [f for f in check_interaction(interaction, contract) if not (rejected and f.side == "request")]


@dataclass(frozen=True)
class Report:
    """Findings of a cassette (or any interactions), with each interaction's `METHOD path`."""

    source: str
    findings: tuple[Finding, ...]
    labels: Mapping[int, str]

    @property
    def ok(self) -> bool:
        return not self.findings

    def by_interaction(self) -> dict[int, list[Finding]]:
        out: dict[int, list[Finding]] = {}
        for finding in self.findings:
            out.setdefault(finding.interaction, []).append(finding)
        return out

    def format(self, *, cassette: str | None = None) -> str:
        """Cassette, then per interaction `METHOD path -> status` and its findings (at most 10 each)."""
        groups, head = self.by_interaction(), f"{cassette or self.source}: {len(self.labels)} interaction(s)"
        if not groups:
            return f"{head} conform to the API description"
        lines = [f"{head}, {len(groups)} with {len(self.findings)} conformance finding(s):"]
        for index, found in groups.items():
            lines.append(f"  interaction {index}: {self.labels.get(index, '?')}")
            lines += [f"    {f}" for f in found[:_MAX_PER_INTERACTION]]
            if len(found) > _MAX_PER_INTERACTION:
                lines.append(f"    … and {len(found) - _MAX_PER_INTERACTION} more")
        return "\n".join(lines)


def load_cassette(path: str | os.PathLike[str]) -> list[Interaction]:
    """A plain vcrpy cassette (YAML, or JSON by suffix) as interactions, indexed in file order."""
    p = Path(path)
    fmt = "jsonserializer" if p.suffix.lower() == ".json" else "yamlserializer"
    try:
        serializer = importlib.import_module(f"vcr.serializers.{fmt}")
        loaded = importlib.import_module("vcr.serialize").deserialize(p.read_text(encoding="utf-8"), serializer)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CassetteError(f"Cannot read cassette {p}: {exc}") from exc
    requests, responses = loaded[0], loaded[1]
    return [Interaction.from_vcr(rq, rs, i) for i, (rq, rs) in enumerate(zip(requests, responses, strict=True))]


Loader = Callable[[Path], Iterable[Interaction]]


def check_cassette(
    cassette: str | os.PathLike[str] | Iterable[Interaction], contract: Contract, *, loader: Loader | None = None
) -> Report:
    """Check every interaction of a cassette file (via `loader`, default `load_cassette`) or an iterable."""
    if isinstance(cassette, str | os.PathLike):
        source = str(cassette)
        interactions = list((loader or load_cassette)(Path(cassette)))
    else:
        source, interactions = "<interactions>", list(cassette)
    findings = tuple(f for ix in interactions for f in check_interaction(ix, contract))
    labels = {ix.index: f"{ix.request.method.upper()} {ix.request.path} -> {ix.response.status}" for ix in interactions}
    return Report(source, findings, labels)


def description_drift(recorded_sha256: str | None, contract: Contract) -> str | None:
    """A message when a cassette was recorded against another version of the description."""
    recorded = (recorded_sha256 or "").strip().lower().removeprefix("sha256:")
    if not recorded or recorded == contract.sha256.lower():
        return None
    return (
        f"Cassette was recorded against API description {recorded[:12]}, today's is {contract.sha256[:12]} "
        f"({contract.source}): recorded traffic may no longer match; re-record or run `harness verify`"
    )


def raise_for(report: Report, *, cassette: str) -> None:
    """Raise `ConformanceFailure` naming the cassette and every finding, when there are any."""
    if report.findings:
        raise ConformanceFailure(report.format(cassette=cassette), location=report.findings[0].location)
