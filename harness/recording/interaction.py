"""One normalised recorded exchange, with adapters from vcrpy's shapes at the edge.

vcrpy hands persisters and hooks a `vcr.request.Request` plus a response dict
(`{"status": {"code", "message"}, "headers": {name: [values]}, "body": {"string": bytes}}`);
everything in `harness.recording` works on `Interaction` instead. Bodies are read one way
for storage and for conformance: `request_bytes` (file and iterator bodies joined) and
`decoded_response` (gzip/deflate/br undone, as the persister stores it), so what is judged
is what is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

EVENT_STREAM = "text/event-stream"


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, list | tuple):
                return str(value[0]) if value else None
            return str(value)
    return None


def _as_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)


def request_bytes(request: Any) -> bytes:
    """A vcrpy request's body as bytes (file and iterator bodies joined, text as UTF-8)."""
    return _as_bytes(getattr(request, "body_bytes", request.body))


def decoded_response(response: Mapping[str, Any]) -> Mapping[str, Any]:
    """The response with a compressed body decompressed, as the client read it (vcrpy's own
    `decode_response`: gzip, deflate, br when available); one without `content-encoding` as it is."""
    if _header(response.get("headers") or {}, "content-encoding") is None:
        return response
    from vcr.filters import decode_response

    try:
        decoded: Mapping[str, Any] = decode_response(dict(response))
    except (TypeError, KeyError, AttributeError):  # not vcrpy's shape (a text body): kept as recorded
        return response
    return decoded


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    uri: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def content_type(self) -> str | None:
        return _header(self.headers, "content-type")

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class RecordedResponse:
    status: int
    reason: str = ""
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str | None:
        return _header(self.headers, "content-type")

    @property
    def is_event_stream(self) -> bool:
        return (self.content_type or "").split(";")[0].strip().lower() == EVENT_STREAM

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Interaction:
    request: RecordedRequest
    response: RecordedResponse
    index: int = 0
    vlmrun: bool = True
    """VLM Run's traffic (the harness's rules apply), or another API's kept as vcrpy has it."""

    @property
    def label(self) -> str:
        """`POST /v1/openai/chat/completions -> 200`: how reports name an interaction."""
        return f"{self.request.method} {self.request.path} -> {self.response.status}"

    @classmethod
    def from_vcr(cls, request: Any, response: Mapping[str, Any], index: int = 0, *, vlmrun: bool = True) -> Interaction:
        headers = {k: [str(v)] if not isinstance(v, list) else [str(x) for x in v] for k, v in request.headers.items()}
        req = RecordedRequest(str(request.method).upper(), str(request.uri), headers, request_bytes(request))
        response = decoded_response(response)
        status = response.get("status", {})
        body = response.get("body", {})
        res = RecordedResponse(
            status=int(status.get("code", 0)),
            reason=str(status.get("message") or ""),
            headers={k: [str(x) for x in v] for k, v in response.get("headers", {}).items()},
            body=_as_bytes(body.get("string") if isinstance(body, Mapping) else body),
        )
        return cls(req, res, index, vlmrun)
