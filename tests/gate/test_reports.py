"""The three report formats render one result; JUnit opens in a real consumer."""

from __future__ import annotations

import json
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Skipped

from harness.gate.model import Case, GateResult, Step
from harness.gate.reports import as_json, markdown, write_reports


def result() -> GateResult:
    return GateResult(
        target="embedded reference server",
        steps=[
            Step("description", summary="valid", cases=[Case("openapi/x.yaml", "passed")]),
            Step(
                "cassettes",
                "failed",
                "1 conformance finding(s)",
                details=["cassettes/a.yaml#0 response body: choices is required"],
                next_steps=["re-record cassettes/a.yaml (`pytest --record-mode=rewrite`)"],
                cases=[Case("cassettes/a.yaml", "failed", "choices is required"), Case("cassettes/b.yaml", "passed")],
            ),
            Step("snapshots", "skipped", "no __snapshots__ folders found"),
            Step("client-stack").error("openai is not installed", "pip install openai"),
        ],
    )


def test_junit_opens_in_junitparser_with_every_case(tmp_path: Path) -> None:
    written = write_reports(result(), tmp_path)
    xml = JUnitXml.fromfile(str(written[0]))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["description", "cassettes", "snapshots", "client-stack"]
    cases = {case.name: case for suite in xml for case in suite}
    assert cases["openapi/x.yaml"].is_passed
    [failure] = cases["cassettes/a.yaml"].result
    assert isinstance(failure, Failure)
    assert "re-record cassettes/a.yaml" in (failure.text or "")
    assert isinstance(cases["snapshots"].result[0], Skipped)
    assert isinstance(cases["client-stack"].result[0], Error)
    assert suites["cassettes"].failures == 1
    assert suites["cassettes"].tests == 2


def test_markdown_reads_as_a_pull_request_comment() -> None:
    text = markdown(result())
    assert text.startswith("## ⚠️ harness check: error\n")
    assert "| cassettes | ❌ failed | 1 conformance finding(s) |" in text
    assert "### cassettes: failed" in text
    assert "- re-record cassettes/a.yaml (`pytest --record-mode=rewrite`)" in text
    assert "### snapshots" not in text


def test_json_is_versioned_and_complete(tmp_path: Path) -> None:
    write_reports(result(), tmp_path)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data == as_json(result())
    assert data["harness_report"] == 1
    assert (data["verdict"], data["exit_code"]) == ("error", 2)
    assert [s["status"] for s in data["steps"]] == ["passed", "failed", "skipped", "error"]


def test_exit_codes() -> None:
    assert GateResult([Step("a"), Step("b", "skipped")]).exit_code == 0
    assert GateResult([Step("a"), Step("b", "failed")]).exit_code == 1
    assert GateResult([Step("a", "failed"), Step("b", "error")]).exit_code == 2
