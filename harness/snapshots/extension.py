"""A syrupy extension that stores requests in their reviewable form.

`assert request == snapshot(extension_class=RequestSnapshotExtension)` (or the plugin's
`vlmrun_snapshot` fixture) writes one sorted JSON file per assertion, like syrupy's own
JSON extension, but a captured request is first rendered by `render.reviewable`: no
secrets, no per-machine headers, bundles as manifests. Plain dicts are taken as request
bodies and get the same bundle and secret treatment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syrupy.extensions.json import JSONSnapshotExtension

from harness.snapshots.capture import CapturedRequest, from_httpx
from harness.snapshots.render import review_body, reviewable


def snapshot_data(data: Any) -> Any:
    """What a value looks like in a snapshot file."""
    if isinstance(data, CapturedRequest):
        return reviewable(data)
    if hasattr(data, "url") and hasattr(data, "read") and hasattr(data, "method"):
        return reviewable(from_httpx(data))  # an httpx / httpx2 Request
    if isinstance(data, Mapping):
        return review_body(data)
    return data


class RequestSnapshotExtension(JSONSnapshotExtension):
    """syrupy's JSON extension, fed the reviewable form of requests."""

    def serialize(self, data: Any, *, exclude: Any = None, include: Any = None, matcher: Any = None) -> Any:
        return super().serialize(snapshot_data(data), exclude=exclude, include=include, matcher=matcher)
