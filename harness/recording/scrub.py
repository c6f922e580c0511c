"""Secrets out of recorded traffic, before anything is written or matched.

Applied to VLM Run requests after the user's `before_record_request` (so live requests are
scrubbed before matching too), and to VLM Run requests and responses again as a cassette is
written (`vcr_format`): a key must never reach disk, whatever hooks a user's `vcr_config` sets.
"""

from __future__ import annotations

from typing import Any

from harness.secrets import REDACTED, scrub_body, scrub_headers, scrub_json, scrub_uri

__all__ = [
    "REDACTED",
    "scrub_body",
    "scrub_headers",
    "scrub_json",
    "scrub_uri",
    "scrub_vcr_request",
]


def scrub_vcr_request(request: Any) -> Any:
    """vcrpy `before_record_request`: mutate a copy-safe vcr Request in place and return it."""
    headers = dict(request.headers)
    for name, value in scrub_headers(headers).items():
        if value is not headers[name]:  # vcrpy's header setter is costly: only what scrubbing replaced
            request.headers[name] = value
    request.uri = scrub_uri(request.uri)
    request.body = scrub_body(request.body)
    return request
