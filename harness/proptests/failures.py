"""schemathesis' failure reports, read back into parts: checks, the response, the curl command.

The JUnit report holds, per operation, one text per failing scenario, in the form
`schemathesis.core.failures.format_failures` writes (4.32.5)::

    1. Test Case ID: yCaaPL

    - ST103 Undocumented status code

        Received: 418
        Documented: 200, 401, 404, 422

    [418] I'm a Teapot:

        `teapot`

    Reproduce with:

        curl -X POST -H 'Authorization: [Filtered]' … http://127.0.0.1:8765/v1/skills/lookup

The gate shows each part where a person needs it; the message attribute alone ("ST103")
says nothing a person can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CASE = re.compile(r"^\d+\. Test Case ID: (\S+)\s*$", re.MULTILINE)
_CHECK = re.compile(r"^- ([A-Z]+\d+) (.+)$")
_STATUS = re.compile(r"^\[(\d{3})\] (.*):$")
_INDENT = "    "


@dataclass(frozen=True)
class Check:
    code: str
    """`ST103`."""
    title: str
    """`Undocumented status code`, as schemathesis words it (with `(3 violations)` when grouped)."""
    details: tuple[str, ...] = ()
    """schemathesis' explanation lines (`Received: 418`), unindented; blank lines kept."""


@dataclass(frozen=True)
class CaseFailure:
    """One failing test case: the checks it broke, what the server answered, how to send it again."""

    case_id: str
    checks: tuple[Check, ...]
    status: int | None = None
    reason: str = ""
    body: str = ""
    curl: tuple[str, ...] = ()
    """The reproduction, one line per request (a stateful failure needs several)."""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.checks)


def _unindent(line: str) -> str:
    return line[len(_INDENT) :] if line.startswith(_INDENT) else line.strip()


def _trim(lines: list[str]) -> tuple[str, ...]:
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return tuple(lines)


def _parse_case(case_id: str, text: str) -> CaseFailure | None:
    checks: list[Check] = []
    current: list[str] | None = None
    check_head: tuple[str, str] | None = None
    status: int | None = None
    reason, body_lines, curl_lines = "", [], []
    mode = ""

    def close_check() -> None:
        nonlocal check_head, current
        if check_head is not None and current is not None:
            checks.append(Check(check_head[0], check_head[1], _trim(current)))
        check_head, current = None, None

    for line in text.splitlines():
        if found := _CHECK.match(line):
            close_check()
            check_head, current, mode = (found.group(1), found.group(2).strip()), [], "check"
        elif found := _STATUS.match(line):
            close_check()
            status, reason, mode = int(found.group(1)), found.group(2), "body"
        elif line.strip() == "Reproduce with:":
            close_check()
            mode = "curl"
        elif line.startswith("Identity:"):
            close_check()
            mode = ""
        elif mode == "check" and current is not None:
            current.append(_unindent(line))
        elif mode == "body":
            body_lines.append(_unindent(line))
        elif mode == "curl" and line.strip():
            curl_lines.append(line.strip())
    close_check()
    if not checks:
        return None
    body = "\n".join(_trim(body_lines))
    if body.startswith("`") and body.endswith("`") and len(body) >= 2:
        body = body[1:-1]
    return CaseFailure(case_id, tuple(checks), status, reason, body, tuple(curl_lines))


def parse_failure_text(text: str) -> list[CaseFailure]:
    """Every failing test case in one JUnit `<failure>` text; empty when the text is not in that form."""
    heads = list(_CASE.finditer(text))
    if not heads:
        found = _parse_case("", text)
        return [found] if found else []
    cases = []
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        chunk = text[head.end() : following.start() if following else len(text)]
        if found := _parse_case(head.group(1), chunk):
            cases.append(found)
    return cases


def error_summary(text: str) -> str:
    """A JUnit `<error>` text as one line: `Network Error: Failed to establish a new connection: …`."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "error"
    rest = [line for line in lines[1:] if not line.startswith("Tip:")]
    return ": ".join([lines[0], *rest[:2]])
