"""Snapshots of what clients send: capture in-process, render for review, store with syrupy."""

from __future__ import annotations

from harness.snapshots.capture import Capture, CapturedRequest, openai_client, vlmrun_completions
from harness.snapshots.extension import RequestSnapshotExtension, snapshot_data
from harness.snapshots.render import bundle_fingerprint, bundle_manifest, canonical_view, reviewable

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
