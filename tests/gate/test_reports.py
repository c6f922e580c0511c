"""The three report formats render one result; JUnit opens in a real consumer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from rich.console import Console

from harness.gate import run as gate_run
from harness.gate.model import Case, GateResult, Step
from harness.gate.reports import as_json, markdown, write_reports
from harness.gate.run import GateOptions, run_gate, summary_table


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
    assert markdown(result()) == (
        "## ⚠️ harness check: error\n"
        "\n"
        "Target: `embedded reference server`\n"
        "\n"
        "| step | result | summary |\n"
        "|---|---|---|\n"
        "| description | ✅ passed | valid |\n"
        "| cassettes | ❌ failed | 1 conformance finding(s) |\n"
        "| snapshots | ➖ skipped | no __snapshots__ folders found |\n"
        "| client-stack | ⚠️ error | openai is not installed |\n"
        "\n"
        "### cassettes: failed\n"
        "\n"
        "```\n"
        "cassettes/a.yaml#0 response body: choices is required\n"
        "```\n"
        "\n"
        "What to do next:\n"
        "- re-record cassettes/a.yaml (`pytest --record-mode=rewrite`)\n"
        "\n"
        "### client-stack: error\n"
        "\n"
        "What to do next:\n"
        "- pip install openai\n"
    )


def test_markdown_has_no_empty_sections() -> None:
    """A failing step with nothing more than its table row gets no heading, block or list of its own."""
    text = markdown(GateResult([Step("snapshots", "failed", "1 snapshot test failed")]))
    assert text == (
        "## ❌ harness check: failed\n"
        "\n"
        "| step | result | summary |\n"
        "|---|---|---|\n"
        "| snapshots | ❌ failed | 1 snapshot test failed |\n"
    )


def test_the_terminal_has_no_empty_sections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failed = GateResult([Step("snapshots", "failed", "1 snapshot test failed")])
    monkeypatch.setattr(gate_run.Gate, "run", lambda self: failed)
    out, expected = Console(file=io.StringIO(), width=100), Console(file=io.StringIO(), width=100)
    run_gate(GateOptions(description=Path("d.yaml"), report_dir=tmp_path), out)
    expected.print(summary_table(failed))
    expected.print(f"reports: {tmp_path}/junit.xml, {tmp_path}/summary.md, {tmp_path}/summary.json", soft_wrap=True)
    assert out.file.getvalue() == expected.file.getvalue()  # type: ignore[attr-defined]


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


def test_long_details_say_how_many_lines_were_left_out_and_where_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"line {i}" for i in range(1, 402)]
    failed = GateResult([Step("cassettes", "failed", "401 findings", details=lines)])
    assert markdown(failed).endswith("line 400\n… 1 more line: see junit.xml\n```\n")
    monkeypatch.setattr(gate_run.Gate, "run", lambda self: failed)
    out = Console(file=io.StringIO(), width=300)  # tmp paths under xdist are long: no wrapping
    run_gate(GateOptions(description=Path("d.yaml"), report_dir=tmp_path), out)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "  line 80\n  … 321 more lines in " + f"{tmp_path}/summary.md\n" in text
    assert "line 81\n" not in text
