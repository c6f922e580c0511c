"""The gate's compatibility steps: the installed client stack, and the description diff.

The diff step also says which recorded traffic exercises each breaking change (cassette
bodies and snapshot files), since those must be re-recorded or reviewed with the change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from harness.specdiff import Change, Document, Level, exercised_by, snapshot_documents
from harness.specdiff.command import compare
from harness.errors import CassetteError
from harness.gate.model import Case, Status, Step, count
from harness.matrix.run import probe_installed
from harness.recording.cassette_io import read_cassette
from harness.recording.verify import find_cassettes


def client_stack_step() -> Step:
    step = Step("client-stack")
    result = probe_installed()
    [stack] = result.stacks
    versions = ", ".join(f"{k} {v}" for k, v in stack.versions.items() if v)
    counts = result.counts(stack.name)
    works = counts.get("ok", 0)
    step.summary = f"{versions}: {count(works, 'call')} {'works' if works == 1 else 'work'}"
    for cell in result.cells:
        name = f"{cell.example} via {cell.path}"
        if cell.verdict == "FAIL":
            step.cases.append(Case(name, "failed", "; ".join(cell.problems)))
        elif cell.expected == "known failure":
            step.cases.append(Case(name, "passed", f"known failure: {cell.reason}"))
            step.details.append(f"{name}: known failure ({cell.rule}): {cell.error or cell.status}")
        elif cell.outcome != "n/a":
            step.cases.append(Case(name, "passed"))
    if result.failed:
        failed = [c for c in step.cases if c.status == "failed"]
        step.details = [f"{c.name}: {c.message}" for c in failed] + step.details
        step.fail(
            f"{count(len(failed), 'call')} from the installed SDKs no longer "
            f"{'works' if len(failed) == 1 else 'work'} ({versions})",
            "see which calls with `harness matrix` (all stacks) and compare the sent bodies",
            "send skills as dicts (`harness.skill_dicts.to_wire_dicts`) until the SDK is fixed",
        )
    return step


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def cassette_documents(paths: list[Path], root: Path) -> Iterator[Document]:
    for path in find_cassettes(paths):
        try:
            cassette = read_cassette(path)
        except CassetteError:
            continue  # the cassettes step reports unreadable files
        for interaction in cassette.interactions:
            label = f"{_shown(path, root)}#{interaction.index}"
            try:
                yield Document(f"{label} (request)", "request", interaction.request.json())
                if not interaction.response.is_event_stream:
                    yield Document(f"{label} (response)", "response", interaction.response.json())
            except ValueError:
                continue


def traffic_documents(cassettes: list[Path], root: Path) -> list[Document]:
    """Every recorded body below `root`: cassette requests and responses, and snapshot files."""
    return [*cassette_documents(cassettes, root), *snapshot_documents(root)]


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
        step.details += [f"    exercised by {label}" for label in labels[:10]]
        if len(labels) > 10:
            step.details.append(f"    … and {len(labels) - 10} more recorded bodies")
    step.details += [f"note: unused waiver #{w.index} ({w.id} {w.operation} {w.path})" for w in report.unused_waivers]
    if failing:
        touched = sorted({label.split("#")[0].split(" (")[0] for labels in exposure.values() for label in labels})
        step.fail(
            f"{count(len(failing), 'breaking change')} against {report.base}",
            "fix the description, or accept each break in a waiver file with a reason (`--waivers`)",
            *(f"re-record or review {t}" for t in touched[:10]),
        )
    return step
