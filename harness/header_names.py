"""HTTP header names the harness relies on: its own markers, and the ones that vary between machines."""

from __future__ import annotations

# The reference server marks every answer, so a cassette can say it was recorded against it.
REFERENCE_HEADER = "x-harness-reference-server"
# The skills the reference server resolved (`name@version`, comma-separated, percent-encoded).
RESOLVED_HEADER = "x-harness-resolved-skills"

# Request headers that differ between machines, runs or SDK patch releases, not between meanings:
# left out of request snapshots and of stored VLM Run requests (the stamp names the client stack).
VOLATILE_HEADERS = frozenset(
    {
        "host",
        "connection",
        "accept-encoding",
        "content-length",
        "user-agent",
        "x-stainless-package-version",
        "x-stainless-os",
        "x-stainless-arch",
        "x-stainless-runtime",
        "x-stainless-runtime-version",
        "x-stainless-retry-count",
        "x-stainless-read-timeout",
        "x-stainless-timeout",
        "idempotency-key",
    }
)

# Response headers that belong to HTTP or to an intermediary, not to the API: a description
# does not list them (OpenAPI ignores a described Content-Type outright), so they are not
# drift. The harness's own markers come from the reference server, not from the API.
HTTP_HEADERS = frozenset(
    {
        "accept-ranges", "age", "allow", "alt-svc", "cache-control", "connection", "content-encoding",
        "content-language", "content-length", "content-location", "content-range", "content-security-policy",
        "content-type", "date", "etag", "expires", "keep-alive", "last-modified", "nel", "permissions-policy",
        "pragma", "proxy-authenticate", "referrer-policy", "report-to", "server", "server-timing", "set-cookie",
        "strict-transport-security", "trailer", "transfer-encoding", "upgrade", "vary", "via", "warning",
        "www-authenticate", "x-accel-buffering", "x-content-type-options", "x-frame-options", "x-xss-protection",
        REFERENCE_HEADER, RESOLVED_HEADER,
    }
)  # fmt: skip
HTTP_HEADER_PREFIXES = ("access-control-", "cf-")  # CORS; Cloudflare's
