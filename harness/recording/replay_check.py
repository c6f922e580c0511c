"""Replay-time conformance for one cassette, as the pytest plugin needs it.

Every VLM Run interaction the cassette holds after a test (replayed and newly recorded) is
checked against today's description (`conformance.check_recorded`); other APIs' are not
ours to judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.contract import load_contract
from harness.errors import ConformanceFailure
from harness.files import display_path
from harness.recording.conformance import Finding, Report, check_recorded, description_drift
from harness.recording.interaction import Interaction
from harness.recording.scope import Scope
from harness.recording.vcr_format import KEY


@dataclass(frozen=True)
class ReplayCheck:
    failure: ConformanceFailure | None
    drift: str | None


def check_played(cassette: Any, scope: Scope) -> ReplayCheck:
    contract = load_contract()
    path = display_path(getattr(cassette, "_path", "<cassette>"))
    findings: list[Finding] = []
    labels = {}
    for index, (request, response) in enumerate(cassette.data):
        if not scope.owns(request):
            continue
        interaction = Interaction.from_vcr(request, response, index)
        labels[index] = interaction.label
        findings += check_recorded(interaction, contract)
    metadata = getattr(cassette, "_metadata", None) or {}
    stamp = metadata.get(KEY, {}) if isinstance(metadata, dict) else {}
    recorded = stamp.get("description_sha256") if isinstance(stamp, dict) else None
    drift = description_drift(recorded, contract) if labels else None
    failure = None
    if findings:
        report = Report(source=path, findings=tuple(findings), labels=labels)
        failure = ConformanceFailure(report.format(cassette=path), location=findings[0].location)
    return ReplayCheck(failure=failure, drift=f"{path}: {drift}" if drift else None)
