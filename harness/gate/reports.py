"""The gate's reports: JUnit XML for CI test tabs, markdown for a pull-request comment or
job summary, JSON for other tools. All three render the same `GateResult`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.files import write_atomic
from harness.gate.model import Case, GateResult, Step, count
from harness.settings import JSON_REPORT, JUNIT_REPORT, MARKDOWN_REPORT

REPORT_FORMAT = 1
ICON = {"passed": "✅", "failed": "❌", "error": "⚠️", "skipped": "➖"}


def _step_cases(step: Step) -> list[Case]:
    """A step with no cases still shows up in JUnit, as one case of its own."""
    if step.cases:
        return step.cases
    status = step.status
    return [Case(step.name, status, step.summary if status in ("failed", "error") else "")]


def junit_xml(result: GateResult) -> str:
    suites = ET.Element("testsuites", name="harness check")
    for step in result.steps:
        cases = _step_cases(step)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=step.name,
            tests=str(len(cases)),
            failures=str(sum(c.status == "failed" for c in cases)),
            errors=str(sum(c.status == "error" for c in cases)),
            skipped=str(sum(c.status == "skipped" for c in cases)),
            time=f"{step.seconds:.3f}",
        )
        for case in cases:
            node = ET.SubElement(suite, "testcase", classname=f"harness.{step.name}", name=case.name)
            if case.status in ("failed", "error"):
                tag = "failure" if case.status == "failed" else "error"
                first = case.message.splitlines()[0] if case.message else step.summary
                child = ET.SubElement(node, tag, message=first[:500])
                child.text = "\n".join([case.message, *step.next_steps])
            elif case.status == "skipped":
                ET.SubElement(node, "skipped", message=case.message or step.summary)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


MARKDOWN_LINES = 400
"""Detail lines per failing step in summary.md (GitHub caps a job summary at 1 MiB); junit.xml has every case."""


def markdown(result: GateResult) -> str:
    lines = [f"## {ICON[result.verdict]} harness check: {result.verdict}", ""]
    if result.target:
        lines += [f"Target: `{result.target}`", ""]
    lines += ["| step | result | summary |", "|---|---|---|"]
    lines += [f"| {s.name} | {ICON[s.status]} {s.status} | {_cell(s.summary)} |" for s in result.steps]
    for step in result.steps:
        if step.status not in ("failed", "error") or not (step.details or step.next_steps):
            continue  # the table's row says all there is
        lines += ["", f"### {step.name}: {step.status}"]
        if step.details:
            shown = step.details[:MARKDOWN_LINES]
            lines += ["", "```", *shown]
            if len(step.details) > len(shown):
                lines.append(f"… {count(len(step.details) - len(shown), 'more line')}: see {JUNIT_REPORT}")
            lines.append("```")
        if step.next_steps:
            lines += ["", "What to do next:", *(f"- {n}" for n in step.next_steps)]
    return "\n".join(lines) + "\n"


def as_json(result: GateResult) -> dict[str, Any]:
    return {
        "harness_report": REPORT_FORMAT,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "target": result.target,
        "steps": [
            {
                "name": s.name,
                "status": s.status,
                "summary": s.summary,
                "seconds": round(s.seconds, 3),
                "details": s.details,
                "next_steps": s.next_steps,
                "cases": [{"name": c.name, "status": c.status, "message": c.message} for c in s.cases],
            }
            for s in result.steps
        ],
    }


def write_reports(result: GateResult, directory: Path) -> list[Path]:
    written = [directory / JUNIT_REPORT, directory / MARKDOWN_REPORT, directory / JSON_REPORT]
    write_atomic(written[0], junit_xml(result))
    write_atomic(written[1], markdown(result))
    write_atomic(written[2], json.dumps(as_json(result), indent=2) + "\n")
    return written
