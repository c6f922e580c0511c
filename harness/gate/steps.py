"""The gate's steps as adapters: each runs one plain module and says what it found as a `Step`."""

from __future__ import annotations

from pathlib import Path

from harness.contract import Contract
from harness.errors import HarnessError
from harness.gate.model import Case, Step
from harness.properties.runner import RunOptions, RunResult, run
from harness.recording.verify import VerifyResult, find_cassettes, format_result, verify


def description_step(contract: Contract, path: Path) -> Step:
    step = Step("description")
    try:
        contract.check()
    except HarnessError as exc:
        return step.error(str(exc), f"fix {path}, then validate it with `harness check --description {path}`")
    step.summary = f"{path} is valid OpenAPI {contract.document.get('openapi')}"
    step.cases.append(Case(str(path), "passed"))
    return step


def properties_step(opts: RunOptions) -> tuple[Step, RunResult | None]:
    step = Step("properties")
    try:
        result = run(opts)
    except HarnessError as exc:
        return step.error(str(exc), "check that schemathesis is installed and the server is reachable"), None
    step.summary = f"{opts.base_url}: {result.totals}"
    for op in result.operations:
        messages = [*op.failures, *op.errors]
        step.cases.append(Case(op.name, "passed" if op.ok else "failed", "\n".join(messages)[:4000]))
        step.details += [f"{op.name}: {m.splitlines()[0][:300]}" for m in messages[:3]]
    if result.failed:
        step.details.append(f"full schemathesis report: {opts.junit_path}")
        step.fail(
            f"{sum(not op.ok for op in result.operations)} operation(s) break the description ({result.totals})",
            f"reproduce with `harness check --seed {opts.seed}`" if opts.seed is not None else "rerun with --seed N",
            "each failure above shows a curl command; fix the server or the description",
        )
    return step, result


def cassettes_step(paths: list[Path], contract: Contract) -> tuple[Step, VerifyResult | None]:
    step = Step("cassettes")
    if not paths:
        step.status, step.summary = "skipped", "no cassette folders found"
        return step, None
    result = verify(paths, contract)
    step.summary = f"{result.files} cassette(s), {result.interactions} interaction(s)"
    step.details = format_result(result, unseen_limit=10).splitlines()[1:]
    failed = {r.source: r for r in result.reports}
    for cassette in find_cassettes(paths):
        report = failed.get(str(cassette))
        step.cases.append(
            Case(str(cassette), "failed", report.format()[:4000]) if report else Case(str(cassette), "passed")
        )
    if result.errors:
        step.error(
            f"{len(result.errors)} cassette(s) could not be read",
            "fix or delete the named file, then re-record it with `pytest --record-mode=rewrite`",
        )
    elif result.failed:
        step.fail(
            f"{len(result.findings)} conformance finding(s), {len(result.undescribed)} undescribed field(s)",
            *(f"re-record {s} (`pytest --record-mode=rewrite`) or update the description" for s in sorted(failed)[:5]),
            *(["describe the fields listed under 'Seen in traffic but not described'"] if result.undescribed else []),
        )
    return step, result
