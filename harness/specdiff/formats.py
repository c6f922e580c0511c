"""Render a diff report as text, JSON, Markdown, JUnit XML or GitHub Actions annotations.

Shapes follow oasdiff's so tooling built for it reads these too: JSON is
`{"changes": [{"id", "level", "operation", "path", "text", …}]}`; annotations are
`::error title=<id>,file=<description>,line=<n>::in API <operation> <path>: <text>` (`line`
when the NEW description is a local file and the changed schema was found in it).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.specdiff.rules import Change, Level
from harness.specdiff.waivers import Waiver

FORMATS = ("text", "json", "markdown", "junit", "githubactions")
_NAMES = {Level.ERR: "error", Level.WARN: "warning", Level.INFO: "info"}


@dataclass(frozen=True)
class DiffReport:
    """What `harness diff` found between two descriptions and how to judge it (`fail_on`,
    waivers), with the recorded traffic and description lines the renderers point at."""

    base: str
    revision: str
    changes: list[Change]
    fail_on: Level = Level.ERR
    revision_file: str | None = None  # where annotations point
    waivers_file: str | None = None
    unused_waivers: list[Waiver] = field(default_factory=list)
    exercised: dict[Change, list[str]] = field(default_factory=dict)
    """For failing changes: the recorded bodies (cassettes, snapshots) that contain the path."""
    lines: dict[Change, int] = field(default_factory=dict)
    """Where each change is in `revision_file` (1-based), when known: annotations point there."""

    def fails(self, change: Change) -> bool:
        return change.waived is None and change.level >= self.fail_on

    @property
    def failing(self) -> list[Change]:
        return [c for c in self.changes if self.fails(c)]

    def counts(self) -> dict[Level, int]:
        return {
            level: sum(1 for c in self.changes if c.level == level) for level in (Level.ERR, Level.WARN, Level.INFO)
        }

    def summary(self) -> str:
        counts = self.counts()
        waived = sum(1 for c in self.changes if c.waived is not None)
        text = (
            f"{plural(len(self.changes), 'change')}: {plural(counts[Level.ERR], 'error')}, "
            f"{plural(counts[Level.WARN], 'warning')}, {counts[Level.INFO]} info"
        )
        return text + (f" ({waived} waived)" if waived else "")


def plural(count: int, noun: str) -> str:
    """`1 change`, `2 changes`, `0 changes`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def render(report: DiffReport, fmt: str) -> str:
    renderers: dict[str, Callable[[DiffReport], str]] = {
        "text": render_text,
        "json": render_json,
        "markdown": render_markdown,
        "junit": render_junit,
        "githubactions": render_githubactions,
    }
    return renderers[fmt](report)


def _unused(waiver: Waiver) -> str:
    where = f"{waiver.id} {waiver.operation} {waiver.path}"
    return f"unused waiver waivers[{waiver.index}] ({where}): it may hide a future break"


def render_text(report: DiffReport) -> str:
    if not report.changes:
        lines = [f"No changes detected ({report.base} -> {report.revision})"]
    else:
        lines = [report.summary()]
        for c in report.changes:
            waived = f" (waived: {c.waived})" if c.waived is not None else ""
            lines += [
                f"{_NAMES[c.level]}\t[{c.id}] at {report.revision}{waived}",
                f"\tin API {c.operation}",
                f"\t\t{c.path}",
                f"\t\t{c.text}",
                *(f"\t\texercised by {label}" for label in report.exercised.get(c, [])),
                "",
            ]
    lines += [f"note: {_unused(w)}" for w in report.unused_waivers]
    return "\n".join(lines).rstrip("\n") + "\n"


def change_json(change: Change) -> dict[str, object]:
    return {
        "id": change.id,
        "level": change.level.name,
        "operation": change.operation,
        "path": change.path,
        "text": change.text,
        "json_path": change.json_path,
        "direction": change.direction,
        "waived": change.waived is not None,
        "waiver_reason": change.waived,
    }


def render_json(report: DiffReport) -> str:
    counts = report.counts()
    data = {
        "changes": [change_json(c) for c in report.changes],
        "summary": {
            "base": report.base,
            "revision": report.revision,
            "ERR": counts[Level.ERR],
            "WARN": counts[Level.WARN],
            "INFO": counts[Level.INFO],
            "waived": sum(1 for c in report.changes if c.waived is not None),
            "fail_on": report.fail_on.name,
            "failed": bool(report.failing),
        },
        "exercised_by": [
            {"id": c.id, "operation": c.operation, "path": c.path, "labels": labels}
            for c, labels in report.exercised.items()
            if labels
        ],
        "unused_waivers": [
            {"index": w.index, "id": w.id, "operation": w.operation, "path": w.path, "reason": w.reason}
            for w in report.unused_waivers
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"<code>{_cell(text)}</code>"


def render_markdown(report: DiffReport) -> str:
    icon = {Level.ERR: ":red_circle: ERR", Level.WARN: ":warning: WARN", Level.INFO: ":information_source: INFO"}
    lines = [f"### API changes: `{report.base}` → `{report.revision}`", ""]
    if not report.changes:
        lines.append("No changes detected.")
    else:
        verdict = "**fails**" if report.failing else "passes"
        lines += [f"{report.summary()}; the gate (`--fail-on {report.fail_on.name}`) {verdict}.", ""]
        lines += ["| level | rule | operation | where | change |", "|---|---|---|---|---|"]
        for c in report.changes:
            text = _cell(c.text) + (f"<br>**waived:** {_cell(c.waived)}" if c.waived is not None else "")
            level = f"~~{icon[c.level]}~~ waived" if c.waived is not None else icon[c.level]
            lines.append(f"| {level} | {_code(c.id)} | {_code(c.operation)} | {_code(c.path)} | {text} |")
    touched = {c: labels for c, labels in report.exercised.items() if labels}
    if touched:
        lines += ["", "**Recorded traffic to re-record or review:**", ""]
        for c, labels in touched.items():
            lines.append(f"- {_code(c.id)} {_code(c.path)}: " + ", ".join(_code(label) for label in labels[:10]))
    if report.unused_waivers:
        lines += ["", "**Unused waivers** (they may hide a future break):", ""]
        lines += [
            f"- waivers[{w.index}]: {_code(w.id)} {_code(w.operation)} {_code(w.path)}" for w in report.unused_waivers
        ]
    return "\n".join(lines) + "\n"


def render_junit(report: DiffReport) -> str:
    """One testcase per rule + operation + path; failures for what fails the gate, skipped
    for waived changes, passing cases for the rest (so the report lists every change)."""
    groups: dict[tuple[str, str, str], list[Change]] = {}
    for c in report.changes:
        groups.setdefault((c.id, c.operation, c.path), []).append(c)
    suites = ET.Element("testsuites", name="harness diff")
    suite = ET.SubElement(suites, "testsuite", name=f"harness diff {report.base} -> {report.revision}")
    failures = skipped = 0
    for (rule_id, operation, path), changes in groups.items():
        case = ET.SubElement(suite, "testcase", classname=operation, name=f"{rule_id} {path}", time="0")
        text = "\n".join(
            [f"{c.level.name}: {c.text}" for c in changes]
            + [f"exercised by {label}" for c in changes for label in report.exercised.get(c, [])]
        )
        if any(report.fails(c) for c in changes):
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=f"{rule_id}: {changes[0].text}", type=changes[0].level.name
            )
            failure.text = text
        elif all(c.waived is not None for c in changes):
            skipped += 1
            ET.SubElement(case, "skipped", message=f"waived: {changes[0].waived}")
        else:
            ET.SubElement(case, "system-out").text = text
    if not groups:
        ET.SubElement(suite, "testcase", classname="harness diff", name="no changes detected", time="0")
    for w in report.unused_waivers:
        ET.SubElement(suite, "system-err").text = _unused(w)
    tests = max(len(groups), 1)
    for element in (suite, suites):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", "0")
    suite.set("skipped", str(skipped))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def escape_data(text: str) -> str:
    """GitHub workflow command data: `%`, CR and LF are escaped (actions/toolkit)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Workflow command properties also escape `:` and `,` (they delimit properties)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_githubactions(report: DiffReport) -> str:
    command = {Level.ERR: "error", Level.WARN: "warning", Level.INFO: "notice"}
    lines = []
    for c in report.changes:
        kind = "notice" if c.waived is not None else command[c.level]
        props = [f"title={escape_property(c.id)}"]
        if report.revision_file:
            props.append(f"file={escape_property(report.revision_file)}")
            if c in report.lines:
                props.append(f"line={report.lines[c]}")
        waived = f" (waived: {c.waived})" if c.waived is not None else ""
        lines.append(f"::{kind} {','.join(props)}::{escape_data(f'in API {c.operation} {c.path}: {c.text}{waived}')}")
    for w in report.unused_waivers:
        props = [f"title={escape_property('unused waiver')}"]
        if report.waivers_file:
            props.append(f"file={escape_property(report.waivers_file)}")
        lines.append(f"::notice {','.join(props)}::{escape_data(_unused(w))}")
    return "".join(line + "\n" for line in lines)
