"""The gate's steps as adapters: each runs one plain module and says what it found as a `Step`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.contract import Contract
from harness.errors import HarnessError
from harness.gate.model import Case, Step, count
from harness.gate.property_failures import STATEFUL, Replay, broken_summary, failure_details
from harness.gate.target import key_fix, key_phrase, unreachable_message
from harness.proptests.runner import RunOptions, RunResult, run, split
from harness.settings import KeySource

if TYPE_CHECKING:
    from harness.recording.verify import VerifyResult


def description_step(contract: Contract) -> Step:
    """The description in use (overlays applied) must be valid OpenAPI before anything is judged by it."""
    step = Step("description")
    try:
        contract.check()
    except HarnessError as exc:
        return step.error(str(exc), f"fix {contract.source}, then run the gate again")
    step.summary = f"{contract.source} is valid OpenAPI {contract.document.get('openapi')}"
    step.cases.append(Case(contract.source, "passed"))
    return step


PROPERTIES_OFF = (
    "off: test a server with --base-url URL, or the embedded reference server with --properties embedded "
    '(or properties = "embedded" under [tool.vlmrun-harness.gate])'
)
"""Why the property tests did not run, and how to turn them on: one line in every report."""


def properties_off_step() -> Step:
    """The embedded reference server is ours, not the project's: testing it is asked for, not done by default."""
    return Step("properties", "skipped", PROPERTIES_OFF)


def properties_step(
    opts: RunOptions,
    *,
    key_source: KeySource = "option",
    started: Callable[[Callable[[], None]], None] = lambda stop: None,
) -> tuple[Step, RunResult | None]:
    """schemathesis against the server; a run in which no request was answered, or every answer
    was 401/403, is a set-up error (exit 2), never a pass: 401 is a described response.

    `key_source` "local" means the server is the gate's embedded one, gone when the gate ends:
    its failures are reproduced against `harness serve` instead."""
    step = Step("properties")
    embedded = key_source == "local"
    url = opts.base_url
    try:
        result = run(opts, started=started)
    except HarnessError as exc:
        return step.error(str(exc), "check that schemathesis is installed and the server is reachable"), None
    if result.unreachable:
        return step.error(unreachable_message(url, "no request got an answer")), result
    if result.refused:
        return step.error(refused_run_message(url, key_phrase(key_source), key_fix(key_source), result)), result
    step.summary = f"{url}: {result.totals}"
    for op in result.operations:
        messages = [*op.failures, *op.errors]
        step.cases.append(Case(op.name, "passed" if op.ok else "failed", "\n".join(messages)[:4000]))
    if result.failed:
        replay = Replay(opts.base_url, embedded)
        paths = [str(part.junit_path) for part in split(opts)]
        report = ", ".join(paths)
        step.details = failure_details(result, replay, report)
        step.details.append(f"full schemathesis report{'s' if len(paths) > 1 else ''}: {report}")
        step.fail(
            f"{broken_summary(result)} ({result.totals})",
            replay.how,
            *(
                [f"run the same cases again: `harness check --seed {result.seed}` with the same options"]
                if result.seed is not None
                else []
            ),
        )
    return step, result


def refused_run_message(url: str, key: str, fix: str, result: RunResult) -> str:
    """One line: which operations refused the key (every answer 401/403), and the fix."""
    operations = [op.name for op in result.operations if op.name != STATEFUL and not op.skipped]
    refused = result.refused
    if set(operations) <= set(refused):
        return f"the server at {url} answered only 401/403 to {key}, on every operation: {fix}"
    return (
        f"the server at {url} answered only 401/403 to {key} on {count(len(refused), 'operation')} "
        f"({', '.join(refused)}): pass a key that may call them"
    )


def cassettes_step(paths: list[Path], contract: Contract) -> tuple[Step, VerifyResult | None]:
    from harness.recording.verify import find_cassettes, format_result, verify  # when the step runs (run.py)

    step = Step("cassettes")
    if not paths:
        step.status, step.summary = "skipped", "no cassette folders found"
        return step, None
    result = verify(paths, contract)
    step.summary = f"{count(result.files, 'cassette')}, {count(result.interactions, 'interaction')}"
    step.details = format_result(result, unseen_limit=10).splitlines()[1:]
    failed = {r.source: r for r in result.reports}
    for cassette in find_cassettes(paths):
        report = failed.get(str(cassette))
        step.cases.append(
            Case(str(cassette), "failed", report.format()[:4000]) if report else Case(str(cassette), "passed")
        )
    if result.errors:
        step.error(
            f"{count(len(result.errors), 'cassette')} could not be read",
            "fix or delete the named file, then re-record it with `pytest --record-mode=rewrite`",
        )
    elif result.failed:
        step.fail(
            f"{count(len(result.findings), 'conformance finding')}, "
            f"{count(len(result.undescribed), 'undescribed field or header', 'undescribed fields or headers')}",
            *(f"re-record {s} (`pytest --record-mode=rewrite`) or update the description" for s in sorted(failed)[:5]),
            *(["describe the fields listed under 'Seen in traffic but not described'"] if result.undescribed else []),
        )
    return step, result
