"""One way recorded traffic is checked: which interactions are judged, by which rules, reported how.

Replay conformance (the pytest plugin, `replay_check`), `harness verify` and the gate's
cassette step (`verify`), and `check_cassette` all come through `check_interactions`: the
VLM Run interactions (marked by the harness when it wrote them, or sent to a host the
scope names; other APIs' are not ours to judge) are checked with `check_recorded`, and
the cassette's recording stamp is compared with today's description. Files are read with
`cassette_io.read_cassette`, the reader that knows every format the harness writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.contract import Contract
from harness.errors import ConformanceFailure
from harness.recording.cassette_io import read_cassette
from harness.recording.conformance import Finding, check_recorded
from harness.recording.interaction import Interaction
from harness.recording.scope import Scope

DEFAULT_SCOPE = Scope.build()  # VLM Run's own hosts
_MAX_PER_INTERACTION = 10


@dataclass(frozen=True)
class ConformanceReport:
    """Conformance findings of a cassette (or any interactions), with each interaction's `METHOD path -> status`."""

    source: str
    findings: tuple[Finding, ...]
    labels: Mapping[int, str]

    @property
    def ok(self) -> bool:
        return not self.findings

    def by_interaction(self) -> dict[int, list[Finding]]:
        out: dict[int, list[Finding]] = {}
        for finding in self.findings:
            out.setdefault(finding.interaction, []).append(finding)
        return out

    def format(self, *, cassette: str | None = None) -> str:
        """Cassette, then per interaction `METHOD path -> status` and its findings (at most 10 each)."""
        groups, head = self.by_interaction(), f"{cassette or self.source}: {len(self.labels)} interaction(s)"
        if not groups:
            return f"{head} conform to the API description"
        lines = [f"{head}, {len(groups)} with {len(self.findings)} conformance finding(s):"]
        for index, found in groups.items():
            lines.append(f"  interaction {index}: {self.labels.get(index, '?')}")
            lines += [f"    {f}" for f in found[:_MAX_PER_INTERACTION]]
            if len(found) > _MAX_PER_INTERACTION:
                lines.append(f"    … and {len(found) - _MAX_PER_INTERACTION} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class CassetteCheck:
    """What checking one cassette found: the report, the interactions judged, and whether the
    description changed since the recording (`drift`, a message, or None)."""

    report: ConformanceReport
    judged: list[Interaction]
    drift: str | None


def is_vlmrun(interaction: Interaction, scope: Scope = DEFAULT_SCOPE) -> bool:
    return interaction.vlmrun or scope.owns_url(interaction.request.uri)


def description_drift(recorded_sha256: str | None, contract: Contract) -> str | None:
    """A message when a cassette was recorded against another version of the description."""
    recorded = (recorded_sha256 or "").strip().lower().removeprefix("sha256:")
    if not recorded or recorded == contract.sha256.lower():
        return None
    return (
        f"Cassette was recorded against API description {recorded[:12]}, today's is {contract.sha256[:12]} "
        f"({contract.source}): recorded traffic may no longer match; re-record or run `harness verify`"
    )


def check_interactions(
    source: str,
    interactions: Iterable[Interaction],
    contract: Contract,
    *,
    stamp: Mapping[str, Any] | None = None,
    scope: Scope = DEFAULT_SCOPE,
) -> CassetteCheck:
    """Judge the VLM Run interactions among `interactions`; `stamp`: the cassette's recording stamp."""
    judged = [i for i in interactions if is_vlmrun(i, scope)]
    findings = tuple(f for i in judged for f in check_recorded(i, contract))
    report = ConformanceReport(source, findings, {i.index: i.label for i in judged})
    recorded = (stamp or {}).get("description_sha256")
    drift = description_drift(recorded if isinstance(recorded, str) else None, contract) if judged else None
    return CassetteCheck(report, judged, drift)


def check_file(path: Path, contract: Contract, *, scope: Scope = DEFAULT_SCOPE) -> CassetteCheck:
    """A cassette file in any format the harness reads; `CassetteError` when it cannot be read."""
    cassette = read_cassette(path)
    return check_interactions(str(path), cassette.interactions, contract, stamp=cassette.metadata, scope=scope)


def check_cassette(cassette: str | os.PathLike[str] | Sequence[Interaction], contract: Contract) -> ConformanceReport:
    """The conformance report of a cassette file, or of interactions already in memory."""
    if isinstance(cassette, str | os.PathLike):
        return check_file(Path(cassette), contract).report
    return check_interactions("<interactions>", cassette, contract).report


def raise_for(report: ConformanceReport, *, cassette: str) -> None:
    """Raise `ConformanceFailure` naming the cassette and every finding, when there are any."""
    if report.findings:
        raise ConformanceFailure(report.format(cassette=cassette), location=report.findings[0].location)
