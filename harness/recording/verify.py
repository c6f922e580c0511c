"""`harness verify`: every cassette against today's description (`conformance.check_recorded`), and drift both ways.

Conformance findings and fields, statuses or enum values seen in traffic but not described
are failures (the API and the description disagree); described response fields that no
cassette ever shows are reported for information (coverage of the recordings).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.contract import Contract
from harness.errors import CassetteError
from harness.recording.cassette_io import read_cassette
from harness.recording.conformance import Finding, Report, check_recorded, description_drift
from harness.recording.drift import FieldUse, record_response
from harness.recording.scope import Scope

CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")
_VLMRUN = Scope.build()  # VLM Run's own hosts, for plain vcrpy cassettes recorded without the harness
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


@dataclass
class VerifyResult:
    files: int = 0
    interactions: int = 0
    reports: list[Report] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    uses: dict[str, FieldUse] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.reports for f in r.findings]

    @property
    def undescribed(self) -> list[str]:
        return [
            f"{kind}: {path} (e.g. {where})"
            for kind, use in sorted(self.uses.items())
            for path, where in use.undeclared.items()
        ]

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
        mine = [i for i in cassette.interactions if i.vlmrun or _VLMRUN.owns_url(i.request.uri)]
        if not mine:
            continue  # another API's cassette: not ours to judge
        result.files += 1
        drift = description_drift(cassette.metadata.get("description_sha256"), contract)
        if drift:
            result.drift.append(f"{path}: {drift}")
        findings: list[Finding] = []
        labels = {}
        for interaction in mine:
            result.interactions += 1
            labels[interaction.index] = interaction.label
            findings += check_recorded(interaction, contract)
            record_response(contract, interaction, f"{path.name}#{interaction.index}", result.uses)
        if findings:
            result.reports.append(Report(source=str(path), findings=tuple(findings), labels=labels))
    return result


def format_result(result: VerifyResult, *, unseen_limit: int = 40) -> str:
    lines = [f"{result.files} cassette(s), {result.interactions} interaction(s) checked against the description"]
    for error in result.errors:
        lines.append(f"error: {error}")
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
    enums = sorted(
        {f"{f.location}: {f.message}" for f in result.findings if f.kind == "schema" and "enum" in f.message.lower()}
    )
    if enums:
        lines.append("Enum values seen but not described:")
        lines += [f"  {line}" for line in enums]
    unseen = result.unseen
    if unseen:
        lines.append(f"Described but never seen in any cassette ({len(unseen)}):")
        lines += [f"  {line}" for line in unseen[:unseen_limit]]
        if len(unseen) > unseen_limit:
            lines.append(f"  … and {len(unseen) - unseen_limit} more")
    for line in result.drift:
        lines.append(f"note: {line}")
    return "\n".join(lines)
