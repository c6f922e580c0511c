"""Snapshots of what clients send: capture in-process, render for review, store with syrupy.

Capturing and rendering need only the core package; `RequestSnapshotExtension` (syrupy's
JSON extension, and the plugin's `vlmrun_snapshot` fixture) needs the `snapshots` extra and
is imported on first use, so `import harness.snapshots` works without syrupy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.snapshots.capture import Capture, openai_client, vlmrun_completions
from harness.snapshots.captured import CapturedRequest
from harness.snapshots.render import bundle_fingerprint, bundle_manifest, canonical_view, reviewable, snapshot_data

if TYPE_CHECKING:
    from harness.snapshots.extension import RequestSnapshotExtension

__all__ = [
    "Capture",
    "CapturedRequest",
    "RequestSnapshotExtension",
    "bundle_fingerprint",
    "bundle_manifest",
    "canonical_view",
    "openai_client",
    "reviewable",
    "snapshot_data",
    "vlmrun_completions",
]


def __getattr__(name: str) -> Any:
    if name == "RequestSnapshotExtension":
        from harness.snapshots.extension import RequestSnapshotExtension

        return RequestSnapshotExtension
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
