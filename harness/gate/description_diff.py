"""The gate's diff steps: breaking changes between an older description and the one in use.

`diff` compares against the description `--against` names; `accepted` against the one the
project last accepted (`accepted`). Both say which recorded traffic exercises each breaking
change (cassette bodies and snapshot files), since those must be re-recorded or reviewed
with the change.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from harness.gate.model import Case, Status, Step, count
from harness.recording.verify import recorded_bodies
from harness.specdiff import Change, Document, Level, exercised_by, snapshot_documents
from harness.specdiff.command import compare
from harness.specdiff.formats import DiffReport

SHOWN_BODIES = 10
"""Recorded bodies named per breaking change (and files named to re-record)."""
WAIVE = "accept each break in a waiver file with a reason (`--waivers`)"


def traffic_documents(cassettes: list[Path], root: Path) -> list[Document | tuple[str, str, Any]]:
    """Every recorded body below `root`: cassette requests and responses, and snapshot files."""
    return [*recorded_bodies(cassettes, root), *snapshot_documents(root)]


def _describe(change: Change) -> str:
    return f"[{change.level.name}] {change.id} {change.operation} {change.path}: {change.text}"


def diff_report(
    base: str,
    description: Path,
    *,
    label: str | None = None,
    waivers: Path | None,
    fail_on: str,
    cwd: Path | None = None,
) -> DiffReport:
    """`base` against the file `description`; `label` names it in the report when the file is a temporary copy."""
    report = compare(base, str(description), waivers=waivers, fail_on=fail_on, cwd=cwd)
    return report if label is None else dataclasses.replace(report, revision=label, revision_file=None)


def judge(step: Step, report: DiffReport, cassettes: list[Path], root: Path, *fixes: str) -> Step:
    """The report as the step's cases and details; breaking changes fail it, with `fixes` first."""
    step.summary = f"{report.base} → {report.revision}: {report.summary()}"
    failing = report.failing
    exposure = exercised_by(failing, traffic_documents(cassettes, root)) if failing else {}
    for change in report.changes:
        if change.level < Level.WARN:
            continue
        status: Status = "failed" if report.fails(change) else "passed"
        note = f"waived: {change.waived}" if change.waived else change.text
        step.cases.append(Case(f"{change.id} {change.operation} {change.path}", status, note))
    for change in failing:
        step.details.append(_describe(change))
        labels = exposure.get(change, [])
        step.details += [f"    exercised by {label}" for label in labels[:SHOWN_BODIES]]
        if len(labels) > SHOWN_BODIES:
            step.details.append(f"    … and {len(labels) - SHOWN_BODIES} more recorded bodies")
    step.details += [f"note: unused waiver #{w.index} ({w.id} {w.operation} {w.path})" for w in report.unused_waivers]
    if failing:
        touched = sorted({label.split("#")[0].split(" (")[0] for labels in exposure.values() for label in labels})
        step.fail(
            f"{count(len(failing), 'breaking change')} against {report.base}",
            *fixes,
            *(f"re-record or review {t}" for t in touched[:SHOWN_BODIES]),
        )
    return step


def diff_step(
    against: str,
    description: Path,
    cassettes: list[Path],
    root: Path,
    waivers: Path | None,
    fail_on: str = "ERR",
    *,
    label: str | None = None,
) -> Step:
    report = diff_report(against, description, label=label, waivers=waivers, fail_on=fail_on)
    return judge(Step("diff"), report, cassettes, root, f"fix the description, or {WAIVE}")
