"""What a cassette says about its recording: description, harness, origin, server, clients, time.

Stamped as the top-level `vlmrun_harness:` mapping when a cassette with VLM Run traffic is saved, so
replay can report cassettes recorded against another description and a reader can tell a
recording of the real API from one of the embedded reference server.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from harness.contract import load_contract
from harness.errors import DescriptionError
from harness.header_names import REFERENCE_HEADER
from harness.recording.vcr_format import FORMAT
from harness.settings import harness_version

CLIENT_PACKAGES = ("vlmrun", "openai", "httpx", "httpx2")
# Facts about the recording itself: kept when a save adds nothing new (e.g. drop_unused_requests).
RECORDING_KEYS = ("description_sha256", "harness_version", "recorded_against", "server", "client_stack", "recorded_at")


@functools.cache
def _client_stack() -> tuple[tuple[str, str], ...]:
    found = []
    for name in CLIENT_PACKAGES:
        try:
            found.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            continue
    return tuple(found)


def _origin(uri: str) -> str | None:
    """scheme://host[:port], never userinfo, path or query."""
    parts = urlsplit(uri)
    host = parts.hostname
    if not parts.scheme or not host:
        return None
    try:
        port = parts.port
    except ValueError:
        port = None
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _server(responses: Sequence[Mapping[str, Any]]) -> str | None:
    """What answered: the embedded reference server names itself in a response header."""
    for response in responses:
        for name, values in (response.get("headers") or {}).items():
            if name.lower() == REFERENCE_HEADER and values:
                return str(values[0] if isinstance(values, list | tuple) else values)
    return None


def recording_metadata(
    uris: Sequence[str], responses: Sequence[Mapping[str, Any]], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The harness's stamp for a save; `previous` recording facts win when nothing new was recorded."""
    try:
        description: str | None = load_contract().sha256
    except DescriptionError:
        description = None
    fresh: dict[str, Any] = {
        "format": FORMAT,
        "description_sha256": description,
        "harness_version": harness_version(),
        "recorded_against": _origin(uris[0]) if uris else None,
        "server": _server(responses),
        "client_stack": dict(_client_stack()),
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if previous:
        fresh.update({key: previous[key] for key in RECORDING_KEYS if key in previous})
    return {key: value for key, value in fresh.items() if value is not None}
