"""Secrets out of recorded traffic, before anything is written or matched.

Applied as vcrpy's `before_record_request`/`before_record_response` (so live requests are
scrubbed before matching too) and again by the persister just before a cassette is
written: a key must never reach disk, whatever hook a user's `vcr_config` replaces.
"""

from __future__ import annotations

from typing import Any

from harness.secrets import REDACTED, SECRET_HEADERS, scrub_body, scrub_headers, scrub_json, scrub_uri

__all__ = [
    "REDACTED",
    "scrub_body",
    "scrub_headers",
    "scrub_json",
    "scrub_uri",
    "scrub_vcr_request",
    "scrub_vcr_response",
]


def scrub_vcr_request(request: Any) -> Any:
    """vcrpy `before_record_request`: mutate a copy-safe vcr Request in place and return it."""
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = REDACTED
    request.uri = scrub_uri(request.uri)
    request.body = scrub_body(request.body)
    return request


def scrub_vcr_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy `before_record_response`: secret headers (Set-Cookie) and secret JSON fields."""
    headers = response.get("headers") or {}
    response["headers"] = {k: ([REDACTED] if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}
    body = response.get("body")
    if isinstance(body, dict) and "string" in body:
        body["string"] = scrub_body(body["string"])
    return response
