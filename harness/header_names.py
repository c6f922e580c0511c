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
