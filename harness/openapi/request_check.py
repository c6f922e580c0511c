"""Does a request fit the operation it was sent to? The one check of a request's parameters and body.

Recorded traffic (`recording.conformance`) and captured snapshots (`snapshots.request_check`)
both judge requests with it, so a field is named the same way wherever it is wrong:
`query.<name>`/`path.<name>` for a parameter, `content-type` for an undocumented media type,
and the body's own locations (`skills[0].skil_name`). Violation types beyond the schema
validator's: `missing` (a required parameter or body), `parsing` (a parameter that is not of
its type), `undocumented_media_type`, `not_json`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from harness.openapi.document import OpenAPIDocument
from harness.openapi.operations import (
    OperationMatch,
    documented_methods,
    is_json_media,
    parameter_value,
    request_media,
)
from harness.openapi.violations import Violation

__all__ = ["operation_of", "request_violations"]


def operation_of(doc: OpenAPIDocument, method: str, path: str) -> tuple[OperationMatch, Mapping[str, Any]] | Violation:
    """The operation a request goes to, or the violation at `path` saying it is not documented
    (naming the methods the path does document)."""
    method = method.upper()
    matched = doc.match_operation(method, path)
    item = doc.path_item(matched.template) if matched else {}
    op = item.get(method.lower())
    if matched is not None and isinstance(op, Mapping):
        return matched, op
    documented = documented_methods(item)
    why = f" (documented: {', '.join(documented)} {matched.template})" if matched and documented else ""
    return Violation(("path",), f"{method} {path} is not a documented operation{why}", "undocumented")


def request_violations(
    doc: OpenAPIDocument,
    matched: OperationMatch,
    op: Mapping[str, Any],
    query: Mapping[str, Sequence[str]],
    content_type: str | None,
    body: bytes | str,
) -> list[Violation]:
    """Every way the request departs from operation `op` (empty when the API would take it)."""
    found: list[Violation] = []
    for param in doc.parameters(matched.template, op):
        where, name, schema = param["in"], param["name"], param.get("schema", {})
        if where not in ("query", "path"):
            continue
        given = matched.path_params.get(name) if where == "path" else None
        values = [given] if given is not None else list(query.get(name, []))
        if not values and param.get("required"):
            found.append(Violation((where, name), f"Required {where} parameter {name!r} is missing", "missing"))
        for raw in values:
            try:
                value = parameter_value(raw, schema)
            except ValueError as exc:
                found.append(Violation((where, name), str(exc), "parsing"))
                continue
            found += [replace(v, loc=(where, name, *v.loc)) for v in doc.schema_violations(schema, value)]
    return found + _body_violations(doc, op, content_type, body)


def _body_violations(
    doc: OpenAPIDocument, op: Mapping[str, Any], content_type: str | None, body: bytes | str
) -> list[Violation]:
    spec = doc.request_body(op)
    if spec is None:
        return []
    content = spec.get("content", {})
    if not body:
        return [Violation((), "Request body is required but empty", "missing")] if spec.get("required") else []
    key = request_media(content, content_type)
    if key is None:
        message = f"Content-Type {content_type!r} is not documented (documented: {', '.join(content)})"
        return [Violation(("content-type",), message, "undocumented_media_type")]
    if not is_json_media(key):
        return []
    try:
        value = json.loads(body)
    except ValueError as exc:
        return [Violation((), f"Body is not JSON ({exc}): {body[:60]!r}", "not_json")]
    schema = content[key].get("schema")
    return doc.schema_violations(schema, value) if isinstance(schema, Mapping) else []
