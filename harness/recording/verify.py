"""`harness verify`: every cassette through the check replay runs (`cassette_check`), and drift both ways.

Conformance findings and fields, headers, statuses or enum values seen in traffic but not
described are failures (the API and the description disagree); described response fields that
no cassette ever shows are reported on request (`--coverage`: what the recordings leave
untested). The same drift is kept by the node of the description it would extend
(`VerifyResult.gaps`), from which `overlay_proposal` writes the corrections.

Conformance messages are kept short (a value may be a 70 MB bundle); an enum finding is
shown whole instead, from the violation it carries: the value sent and every allowed value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contract import Contract
from harness.errors import CassetteError
from harness.files import path_below
from harness.recording.cassette_check import ConformanceReport, check_interactions
from harness.recording.cassette_io import read_cassette
from harness.recording.conformance import Finding
from harness.recording.drift import FieldUse, record_response
from harness.recording.gaps import Gaps, note_enum, note_status

CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")
_SKIP_DIRS = {"_blobs", ".venv", "node_modules", ".git", "__pycache__"}


def find_cassettes(roots: Iterable[Path]) -> list[Path]:
    found: set[Path] = set()
    for root in roots:
        if root.is_file():
            found.add(root)
            continue
        for path in root.rglob("*"):
            if path.suffix in CASSETTE_SUFFIXES and path.is_file() and not _SKIP_DIRS & set(path.parts):
                found.add(path)
    return sorted(found)


def discover_cassette_dirs(root: Path) -> list[Path]:
    """Folders named `cassettes` below `root` (pytest-recording's default layout), pruning
    virtualenvs, VCS and hidden folders so a large checkout is not walked in full."""
    found = []
    for folder, dirs, _files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
        if Path(folder).name == "cassettes":
            found.append(Path(folder))
            dirs[:] = []
    return sorted(found)


def recorded_bodies(paths: Sequence[Path], root: Path) -> Iterator[tuple[str, str, Any]]:
    """(label, "request" | "response", JSON body) of every recorded interaction, for `harness
    diff` to say which recordings a breaking change touches. Unreadable cassettes and bodies
    that are not JSON (streams) are skipped: `harness verify` reports those."""
    for path in find_cassettes(paths):
        try:
            cassette = read_cassette(path)
        except CassetteError:
            continue
        shown = path_below(path, root)
        for interaction in cassette.interactions:
            label = f"{shown}#{interaction.index}"
            try:
                yield f"{label} (request)", "request", interaction.request.json()
                if not interaction.response.is_event_stream:
                    yield f"{label} (response)", "response", interaction.response.json()
            except ValueError:
                continue


@dataclass
class VerifyResult:
    files: int = 0
    interactions: int = 0
    reports: list[ConformanceReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    uses: dict[str, FieldUse] = field(default_factory=dict)
    enums: dict[str, str] = field(default_factory=dict)
    """Enum values seen but not described: the whole message, and the first interaction showing it."""
    gaps: Gaps = field(default_factory=Gaps)
    """The same drift by the node of the description each would extend (`overlay_proposal`)."""

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.reports for f in r.findings]

    @property
    def undescribed(self) -> list[str]:
        """Fields, then response headers, per response kind."""
        lines: list[str] = []
        for kind, use in sorted(self.uses.items()):
            lines += [f"{kind}: {path} (e.g. {where})" for path, where in use.undeclared.items()]
            lines += [f"{kind}: header {name} (e.g. {where})" for name, where in sorted(use.headers.items())]
        return lines

    @property
    def unseen(self) -> list[str]:
        return [
            f"{kind}: {path}"
            for kind, use in sorted(self.uses.items())
            for path in sorted(use.declared - set(use.seen))
        ]

    @property
    def failed(self) -> bool:
        return bool(self.findings or self.undescribed)


def verify(paths: Sequence[Path], contract: Contract) -> VerifyResult:
    result = VerifyResult()
    for path in find_cassettes(paths):
        try:
            cassette = read_cassette(path)
        except CassetteError as exc:
            result.errors.append(str(exc))
            continue
        checked = check_interactions(str(path), cassette.interactions, contract, stamp=cassette.metadata)
        if not checked.judged:
            continue  # another API's cassette: not ours to judge
        result.files += 1
        result.interactions += len(checked.judged)
        if checked.drift:
            result.drift.append(f"{path}: {checked.drift}")
        for interaction in checked.judged:
            record_response(contract, interaction, f"{path.name}#{interaction.index}", result.uses, gaps=result.gaps)
        by_index = {interaction.index: interaction for interaction in checked.judged}
        for finding in checked.report.findings:
            where, shown = f"{path.name}#{finding.interaction}", by_index[finding.interaction]
            line = enum_line(finding)
            if line is not None:
                result.enums.setdefault(line, where)
                note_enum(result.gaps, contract, shown, finding, where)
            if finding.kind == "undocumented_status":
                note_status(result.gaps, contract, shown, where)
        if checked.report.findings:
            result.reports.append(checked.report)
    return result


def format_result(
    result: VerifyResult, *, unseen_limit: int | None = 40, coverage: bool = False, errors: bool = True
) -> str:
    """The report: counts, unreadable cassettes (unless `errors=False`: the caller shows them),
    findings by cassette, drift sections, and with `coverage` the described fields never seen."""
    lines = [f"{result.files} cassette(s), {result.interactions} interaction(s) checked against the description"]
    if errors:
        lines += [f"error: {error}" for error in result.errors]
    for report in result.reports:
        lines.append(report.format())
    if result.undescribed:
        lines.append("Seen in traffic but not described:")
        lines += [f"  {line}" for line in result.undescribed]
    statuses = sorted(
        {
            f"{r.labels.get(f.interaction, '?')}"
            for r in result.reports
            for f in r.findings
            if f.kind == "undocumented_status"
        }
    )
    if statuses:
        lines.append("Status codes seen but not described: " + "; ".join(statuses))
    if result.enums:
        lines.append("Enum values seen but not described:")
        lines += [f"  {line} (e.g. {where})" for line, where in sorted(result.enums.items())]
    unseen = result.unseen if coverage else []
    if coverage and not unseen:
        lines.append("Described but never seen in any cassette: none")
    if unseen:
        shown = unseen if unseen_limit is None else unseen[:unseen_limit]
        lines.append(f"Described but never seen in any cassette ({len(unseen)}):")
        lines += [f"  {line}" for line in shown]
        if len(unseen) > len(shown):
            lines.append(f"  … and {len(unseen) - len(shown)} more")
    for line in result.drift:
        lines.append(f"note: {line}")
    return "\n".join(lines)


# -- enum findings, whole -----------------------------------------------------------------------


def enum_line(finding: Finding) -> str | None:
    """`side location: value is not one of [allowed…]` for an enum finding, else None.

    Built from the violation the finding carries: its message is cut to 300 characters,
    and the value and allowed values are whole there."""
    violation = finding.violation
    if violation is None or violation.type != "enum":
        return None
    if violation.allowed is None:
        return f"{finding.side} {finding.location}: {finding.message}"
    allowed = list(violation.allowed)
    return f"{finding.side} {finding.location}: {_json(violation.input)} is not one of {_json(allowed)}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
