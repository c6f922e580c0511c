"""A syrupy extension that stores requests in their reviewable form (the `snapshots` extra).

`assert request == snapshot(extension_class=RequestSnapshotExtension)` (or the plugin's
`vlmrun_snapshot` fixture) writes one sorted JSON file per assertion, like syrupy's own
JSON extension, but a captured request is first rendered by `render.snapshot_data`: no
secrets, no per-machine headers, bundles as manifests. Plain dicts are taken as request
bodies and get the same bundle and secret treatment.
"""

from __future__ import annotations

from typing import Any

from harness.extras import missing_extra
from harness.snapshots.render import snapshot_data

try:
    from syrupy.extensions.json import JSONSnapshotExtension
except ImportError as exc:
    raise missing_extra("snapshots", "RequestSnapshotExtension", modules=["syrupy"]) from exc

__all__ = ["RequestSnapshotExtension", "snapshot_data"]


class RequestSnapshotExtension(JSONSnapshotExtension):
    """syrupy's JSON extension, fed the reviewable form of requests."""

    def serialize(self, data: Any, *, exclude: Any = None, include: Any = None, matcher: Any = None) -> Any:
        return super().serialize(snapshot_data(data), exclude=exclude, include=include, matcher=matcher)
