"""Replay-time conformance for one cassette, as the pytest plugin needs it.

Every interaction the cassette holds after a test (replayed and newly recorded) is checked
against today's description. One policy is applied on top of `conformance`: a request the
API rejected (a 4xx answer) may itself be invalid, since tests send bad input on purpose to
see the rejection; its response must still conform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.contract import load_contract
from harness.errors import ConformanceFailure
from harness.recording.conformance import Report, check_interaction, description_drift
from harness.recording.interaction import Interaction


@dataclass(frozen=True)
class ReplayCheck:
    failure: ConformanceFailure | None
    drift: str | None


def _expected_rejection(interaction: Interaction) -> bool:
    return 400 <= interaction.response.status < 500


def check_played(cassette: Any) -> ReplayCheck:
    contract = load_contract()
    path = str(getattr(cassette, "_path", "<cassette>"))
    findings = []
    labels = {}
    for index, (request, response) in enumerate(cassette.data):
        interaction = Interaction.from_vcr(request, response, index)
        labels[index] = f"{interaction.request.method} {interaction.request.path} -> {interaction.response.status}"
        for finding in check_interaction(interaction, contract):
            if finding.side == "request" and _expected_rejection(interaction):
                continue
            findings.append(finding)
    metadata = getattr(cassette, "_metadata", None) or {}
    harness_meta = metadata.get("harness", metadata) if isinstance(metadata, dict) else {}
    recorded = harness_meta.get("description_sha256") if isinstance(harness_meta, dict) else None
    drift = description_drift(recorded, contract) if cassette.data else None
    failure = None
    if findings:
        report = Report(source=path, findings=tuple(findings), labels=labels)
        failure = ConformanceFailure(report.format(cassette=path), location=findings[0].location)
    return ReplayCheck(failure=failure, drift=f"{path}: {drift}" if drift else None)
