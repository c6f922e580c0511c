"""One request exactly as a client sent it, read off an `httpx` or `httpx2` request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class CapturedRequest:
    """One request exactly as a client sent it."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def from_httpx(request: Any) -> CapturedRequest:
    """An `httpx.Request` or `httpx2.Request` (same shape) as a `CapturedRequest`."""
    query = request.url.query
    return CapturedRequest(
        method=request.method,
        path=request.url.path,
        query=tuple(parse_qsl(query.decode() if isinstance(query, bytes) else query)),
        headers=tuple((k.lower(), v) for k, v in request.headers.items()),
        body=bytes(request.read()),
    )
