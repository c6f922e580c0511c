"""Is a captured request one the description in use allows?

A snapshot is what reviewers take as the truth about a client. A request the API would
reject (a misspelt key, a missing field, a model id the description does not allow) must fail
the test that captured it, not be stored and approved. The rules are `openapi.request_check`'s, which recorded
traffic is judged by too (`recording.conformance`), with the same locations:
`path` for an undocumented operation, `query.<name>` for a parameter, `content-type`, and
the body's own locations (`skills[0].skil_name`).
"""

from __future__ import annotations

from harness.contract import Contract, Violation
from harness.errors import ConformanceFailure
from harness.openapi.request_check import operation_of
from harness.openapi.request_check import request_violations as operation_violations
from harness.snapshots.captured import CapturedRequest

SHOWN = 10
"""Violations listed per request; the count says how many more there are."""
KEEP_INVALID = "Capture(allow_invalid=True)"


def request_violations(request: CapturedRequest, contract: Contract) -> list[Violation]:
    """Every way `request` departs from `contract` (empty when the API would take it)."""
    found = operation_of(contract, request.method, request.path)
    if isinstance(found, Violation):
        return [found]
    matched, op = found
    query: dict[str, list[str]] = {}
    for name, value in request.query:
        query.setdefault(name, []).append(value)
    content_type = dict(request.headers).get("content-type")
    return operation_violations(contract, matched, op, query, content_type, request.body)


def invalid_request(request: CapturedRequest, violations: list[Violation], contract: Contract) -> ConformanceFailure:
    """The failure a test gets for capturing an invalid request: each field, and how to keep one on purpose."""
    lines = [
        f"{request.method.upper()} {request.path}: the captured request breaks the API description "
        f"{contract.source} ({len(violations)} finding{'s' if len(violations) != 1 else ''}):"
    ]
    lines += [f"  {v.path}: {v.msg}" for v in violations[:SHOWN]]
    if len(violations) > SHOWN:
        lines.append(f"  … and {len(violations) - SHOWN} more")
    lines.append(f"fix the call, or capture with {KEEP_INVALID} to snapshot an invalid request on purpose")
    return ConformanceFailure("\n".join(lines), location=violations[0].path)
