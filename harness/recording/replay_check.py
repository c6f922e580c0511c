"""Replay-time conformance for one cassette, as the pytest plugin needs it.

Every interaction the cassette holds after a test (replayed and newly recorded) goes
through the same check as `harness verify` (`cassette_check.check_interactions`), built
from the same bytes the persister stores (`Interaction.from_vcr`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.contract import load_contract
from harness.errors import ConformanceFailure
from harness.files import display_path
from harness.recording.cassette_check import check_interactions
from harness.recording.interaction import Interaction
from harness.recording.scope import Scope
from harness.recording.vcr_format import KEY

if TYPE_CHECKING:
    from harness.recording.load_cache import LoadCache


@dataclass(frozen=True)
class ReplayCheck:
    failure: ConformanceFailure | None
    drift: str | None


def check_played(cassette: Any, scope: Scope, cache: LoadCache | None = None) -> ReplayCheck:
    """`cache`: where the plugin keeps cassettes' loads; a clean verdict on a cassette's exact bytes,
    under the same description, harness and validator, is kept there and not judged again."""
    where = getattr(cassette, "_path", None)
    path = display_path(where or "<cassette>")
    count = len(cassette.data)
    # Only for what was loaded and not recorded into: the verdict is on the bytes loaded.
    keeper = cache if where is not None and not getattr(cassette, "dirty", True) else None
    loaded = Path(where or "")
    kept = keeper.verdict(loaded, count) if keeper is not None else None
    if kept is not None:
        return ReplayCheck(failure=None, drift=f"{path}: {kept.drift}" if kept.drift else None)
    interactions = [
        Interaction.from_vcr(request, response, index, vlmrun=scope.owns(request))
        for index, (request, response) in enumerate(cassette.data)
    ]
    metadata = getattr(cassette, "_metadata", None) or {}
    stamp = metadata.get(KEY) if isinstance(metadata, dict) else None
    checked = check_interactions(
        path, interactions, load_contract(), stamp=stamp if isinstance(stamp, dict) else None, scope=scope
    )
    report = checked.report
    failure = None
    if report.findings:
        failure = ConformanceFailure(report.format(cassette=path), location=report.findings[0].location)
    elif keeper is not None:
        keeper.keep_verdict(loaded, count, checked.drift)
    return ReplayCheck(failure=failure, drift=f"{path}: {checked.drift}" if checked.drift else None)
