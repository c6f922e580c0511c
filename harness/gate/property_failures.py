"""What the properties step shows for each failure: the checks with what their codes mean, the
server's answer, and a curl command that sends the request again.

schemathesis filters the key out of its curl commands (`-H 'Authorization: [Filtered]'`).
The gate puts back something that runs: `$VLMRUN_API_KEY` for a server of yours, and for the
embedded reference server (gone when the gate ends) the address and key of
`harness serve --api-key harness-local-key`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from harness.gate.model import count
from harness.proptests.codes import meaning
from harness.proptests.failures import CaseFailure, error_summary
from harness.proptests.runner import RunResult
from harness.settings import LOCAL_API_KEY, SERVE_HOST, SERVE_PORT

STATEFUL = "Stateful tests"
SHOWN_CASES = 10
SHOWN_DETAIL_LINES = 12
BODY_CHARS = 160
SERVE_URL = f"http://{SERVE_HOST}:{SERVE_PORT}"
SERVE_KEY = LOCAL_API_KEY
SERVE_COMMAND = f"harness serve --api-key {SERVE_KEY}"
_FILTERED = "'Authorization: [Filtered]'"


@dataclass(frozen=True)
class Replay:
    """How curl commands are rewritten so they run after the gate has ended."""

    base_url: str
    embedded: bool = False

    def curl(self, line: str) -> str:
        if self.embedded:
            line = line.replace(_FILTERED, f"'Authorization: Bearer {SERVE_KEY}'")
            return re.sub(re.escape(self.base_url) + r"(?=/|'|\s|$)", SERVE_URL, line)
        return line.replace(_FILTERED, '"Authorization: Bearer $VLMRUN_API_KEY"')

    @property
    def how(self) -> str:
        if self.embedded:
            return (
                f"reproduce a failure: start `{SERVE_COMMAND}` (it listens on {SERVE_URL[len('http://') :]}), "
                "run the failure's curl command, then fix the server or the description"
            )
        return (
            "reproduce a failure with its curl command (with VLMRUN_API_KEY set to the key), "
            "then fix the server or the description"
        )


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= BODY_CHARS else flat[: BODY_CHARS - 1] + "…"


def case_lines(operation: str, case: CaseFailure, replay: Replay) -> list[str]:
    """One failing test case: a heading with the answer, each check with its meaning, the curl."""
    answer = f" → {case.status} {case.reason}" if case.status is not None else ""
    body = f": {_one_line(case.body)}" if case.body else ""
    lines = [f"{operation}{answer}{body}"]
    for check in case.checks:
        lines.append(f"  {check.code} {check.title}: {meaning(check.code)}")
        details = [d for d in check.details if d.strip()]
        lines += [f"      {d}" for d in details[:SHOWN_DETAIL_LINES]]
        if len(details) > SHOWN_DETAIL_LINES:
            lines.append(f"      … {count(len(details) - SHOWN_DETAIL_LINES, 'more line')}")
    for index, curl in enumerate(case.curl):
        lines.append(("  reproduce: " if index == 0 else "             ") + replay.curl(curl))
    return lines


def failure_details(result: RunResult, replay: Replay, report: str) -> list[str]:
    """Every failing case (up to `SHOWN_CASES`), then the errors, each once with how often it happened."""
    lines: list[str] = []
    cases = [(op.name, case) for op in result.operations for case in op.failed_cases]
    for name, case in cases[:SHOWN_CASES]:
        lines += case_lines(name, case, replay)
    if len(cases) > SHOWN_CASES:
        lines.append(f"… and {count(len(cases) - SHOWN_CASES, 'more failing test case')} in {report}")
    for op in result.operations:
        for message, times in Counter(error_summary(e) for e in op.errors).items():
            lines.append(f"{op.name}: {message}" + (f" ({times} times)" if times > 1 else ""))
    # A failure whose text is not in schemathesis' usual form is still shown, as it came.
    for op in result.operations:
        if op.failures and not op.failed_cases:
            lines += [f"{op.name}: {line}" for line in "\n".join(op.failures).splitlines()[:SHOWN_DETAIL_LINES]]
    return lines


def broken_summary(result: RunResult) -> str:
    """`1 operation breaks the description`, `2 operations and the stateful tests break the description`."""
    failing = [op.name for op in result.operations if not op.ok]
    stateful = STATEFUL in failing
    operations = [name for name in failing if name != STATEFUL]
    if operations and stateful:
        return f"{count(len(operations), 'operation')} and the stateful tests break the description"
    if stateful:
        return "the stateful tests break the description"
    if len(operations) == 1:
        return "1 operation breaks the description"
    if operations:
        return f"{len(operations)} operations break the description"
    return f"schemathesis exited {result.returncode} without naming a failure"
