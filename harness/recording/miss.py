"""Turning vcrpy's "can't overwrite cassette" into a `CassetteMiss` a person can act on.

The message names the cassette, the request, the closest recorded interaction and the
canonical paths that differ (which skill, which field), then how to re-record.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from harness.errors import CassetteMiss
from harness.recording.matcher import canonical_body, differences
from harness.recording.scope import Scope


def find_vcr_miss(exc: BaseException | None) -> Any:
    """The vcrpy miss in an exception chain (openai 1.x wraps it in APIConnectionError)."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, CannotOverwriteExistingCassetteException):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _label(request: Any) -> str:
    parts = urlsplit(str(request.uri))
    return f"{request.method} {parts.path}{'?' + parts.query if parts.query else ''}"


def miss_from_vcr(miss: Any, scope: Scope | None = None) -> CassetteMiss:
    """The miss explained against the cassette's VLM Run requests (all of them without a scope)."""
    cassette = miss.cassette
    live = cassette.filter_request(miss.failed_request) or miss.failed_request
    recorded_requests = [r for r in cassette.requests if scope is None or scope.owns(r)]
    path = getattr(cassette, "_path", "<cassette>")
    lines = [
        f"No recorded interaction matches {_label(live)} in cassette {path} (record mode {cassette.record_mode!s})."
    ]
    candidates = [
        (i, req)
        for i, req in enumerate(cassette.requests)
        if (scope is None or scope.owns(req))
        and req.method == live.method
        and urlsplit(str(req.uri)).path == urlsplit(str(live.uri)).path
    ]
    if not candidates:
        recorded = sorted({_label(r) for r in recorded_requests}) or ["nothing"]
        lines.append(f"The cassette holds no {live.method} to that path; it has: {', '.join(recorded)}.")
    else:
        best_index, best = min(candidates, key=lambda c: len(differences(live, c[1], limit=1000)))
        diffs = differences(live, best)
        if diffs:
            lines.append(f"Closest recorded: interaction {best_index}; what differs in the canonical request:")
            lines += [f"  {d}" for d in diffs]
        elif canonical_body(live).key == canonical_body(best).key:
            lines.append(f"Interaction {best_index} matches but was already played; a test replays each once.")
    lines.append("Re-record with --record-mode=once (new cassettes) or --record-mode=rewrite, or fix the call.")
    return CassetteMiss("\n".join(lines))
