"""One parsed OpenAPI description: references, validation, operations and streams in one object.

`harness.contract.Contract` is this plus where the description came from; everything
that judges traffic (conformance, verify, drift, the reference server) asks it, so each
fact of OpenAPI is written once: here and in the modules beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.errors import DescriptionError
from harness.openapi.operations import OperationMatch, is_json_media, match_path, response_key
from harness.openapi.validation import Schemas


class OpenAPIDocument(Schemas):
    """A parsed description (`document`) and the source its errors name."""

    def path_item(self, template: str) -> Mapping[str, Any]:
        item = self.deref(self.document.get("paths", {}).get(template))
        return item if isinstance(item, Mapping) else {}

    def operation(self, method: str, path: str) -> Mapping[str, Any]:
        """The operation documented for `method` on the path template `path`."""
        op = self.path_item(path).get(method.lower())
        if not isinstance(op, Mapping):
            raise DescriptionError(f"API description {self.source} has no operation {method.upper()} {path}")
        return op

    def match_operation(self, method: str, path: str) -> OperationMatch | None:
        """The path template a request path meets (see `operations.match_path`), documented method or not."""
        return match_path(self.document.get("paths", {}), method, path)

    def parameters(self, template: str, op: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The path item's parameters overlaid by the operation's, by (name, in), references followed."""
        merged: dict[tuple[str, str], Mapping[str, Any]] = {}
        for raw in [*self.path_item(template).get("parameters", []), *op.get("parameters", [])]:
            param = self.deref(raw)
            merged[(param["name"], param["in"])] = param
        return list(merged.values())

    def request_body(self, op: Mapping[str, Any]) -> Mapping[str, Any] | None:
        body = self.deref(op.get("requestBody"))
        return body if isinstance(body, Mapping) else None

    def response(self, op: Mapping[str, Any], status: int) -> tuple[str, Mapping[str, Any]] | None:
        """(documented key, response object) for a status: exact, then `2XX`, then `default`."""
        responses = op.get("responses") or {}
        key = response_key(responses, status)
        if key is None:
            return None
        found = next(v for k, v in responses.items() if str(k) == key)
        response = self.deref(found)
        return (key, response) if isinstance(response, Mapping) else (key, {})

    def event_data_schema(self, event_schema: Mapping[str, Any], data: Any) -> Any:
        """The `contentSchema` of the `data` branch that applies, when it declares JSON content.

        `contentSchema` is only an annotation to JSON Schema (2020-12 §8.5), so a validator
        never applies it: the caller parses the data and validates it against this."""
        event = self.deref(event_schema)
        data_schema = self.deref(event.get("properties", {}).get("data")) if isinstance(event, Mapping) else None
        if not isinstance(data_schema, Mapping) or not isinstance(data, str):
            return None
        for raw in [data_schema, *data_schema.get("oneOf", []), *data_schema.get("anyOf", [])]:
            branch = self.deref(raw)
            if not (isinstance(branch, Mapping) and "contentSchema" in branch):
                continue
            if is_json_media(str(branch.get("contentMediaType"))) and self.validator_for(branch).is_valid(data):
                return branch["contentSchema"]
        return None
