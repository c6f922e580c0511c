"""The gate's diff step: breaking changes between an older description and this one.

It also says which recorded traffic exercises each breaking change (cassette bodies and
snapshot files), since those must be re-recorded or reviewed with the change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.gate.model import Case, Status, Step, count
from harness.recording.verify import recorded_bodies
from harness.specdiff import Change, Document, Level, exercised_by, snapshot_documents
from harness.specdiff.command import compare

SHOWN_BODIES = 10
"""Recorded bodies named per breaking change (and files named to re-record)."""


def traffic_documents(cassettes: list[Path], root: Path) -> list[Document | tuple[str, str, Any]]:
    """Every recorded body below `root`: cassette requests and responses, and snapshot files."""
    return [*recorded_bodies(cassettes, root), *snapshot_documents(root)]


def _describe(change: Change) -> str:
    return f"[{change.level.name}] {change.id} {change.operation} {change.path}: {change.text}"


def diff_step(
    against: str, description: Path, cassettes: list[Path], root: Path, waivers: Path | None, fail_on: str = "ERR"
) -> Step:
    step = Step("diff")
    report = compare(against, str(description), waivers=waivers, fail_on=fail_on)
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
            "fix the description, or accept each break in a waiver file with a reason (`--waivers`)",
            *(f"re-record or review {t}" for t in touched[:SHOWN_BODIES]),
        )
    return step
