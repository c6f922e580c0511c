"""HTTP headers the harness's own parts use to talk to each other (never sent by real clients)."""

from __future__ import annotations

# The reference server marks every answer, so a cassette can say it was recorded against it.
REFERENCE_HEADER = "x-harness-reference-server"
# The skills the reference server resolved (`name@version`, comma-separated, percent-encoded).
RESOLVED_HEADER = "x-harness-resolved-skills"
