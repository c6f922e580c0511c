"""What each step of the gate found, in one shape every report format renders.

A step is `passed`, `failed` (the contract drifted: exit 1), `error` (the harness could not
do the step: exit 2) or `skipped` (nothing to check, e.g. no cassettes). Every failure
carries the next thing to do, so a CI log is actionable without reading the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.settings import EXIT_ERROR, EXIT_FAILED, EXIT_OK

Status = Literal["passed", "failed", "error", "skipped"]
STEPS = ("description", "properties", "cassettes", "snapshots", "client-stack", "diff", "accepted")
SKIPPABLE = STEPS[1:]


@dataclass(frozen=True)
class Case:
    """One JUnit test case: a checked thing (an operation, a cassette, a snapshot test, a rule)."""

    name: str
    status: Status
    message: str = ""


@dataclass
class Step:
    name: str
    status: Status = "passed"
    summary: str = ""
    details: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, summary: str, *next_steps: str) -> Step:
        self.status, self.summary = "failed", summary
        self.next_steps.extend(next_steps)
        return self

    def error(self, summary: str, *next_steps: str) -> Step:
        self.status, self.summary = "error", summary
        self.next_steps.extend(next_steps)
        return self


@dataclass
class GateResult:
    steps: list[Step] = field(default_factory=list)
    target: str = ""

    @property
    def exit_code(self) -> int:
        statuses = {s.status for s in self.steps}
        if "error" in statuses:
            return EXIT_ERROR
        return EXIT_FAILED if "failed" in statuses else EXIT_OK

    @property
    def verdict(self) -> str:
        return {EXIT_OK: "passed", EXIT_FAILED: "failed", EXIT_ERROR: "error"}[self.exit_code]


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`1 operation`, `2 operations`, `0 operations`."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
