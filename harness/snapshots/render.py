"""A captured request as a reviewer wants to read it in a snapshot diff.

What stays: the method and path, the headers a client chose (secrets shown only as
redacted, so their presence is still reviewed), and the body exactly as sent apart from
key order. What goes: values that change with every machine or SDK patch release
(user agent, OS, runtime versions, content length), and kilobytes of base64: an inline
bundle is shown as its manifest, so a changed file reads as a changed line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

from harness.bundles import decode_bundle
from harness.canonical import canonicalize
from harness.contract import Contract
from harness.errors import BundleError
from harness.header_names import VOLATILE_HEADERS
from harness.secrets import REDACTED, SECRET_HEADERS, SECRET_QUERY, scrub_json
from harness.snapshots.captured import CapturedRequest, from_httpx
from harness.wire import map_bundles


def bundle_fingerprint(zip_bytes: bytes) -> dict[str, Any]:
    """Size and hash of the exact bytes: equal only for a byte-identical bundle."""
    return {"size": len(zip_bytes), "sha256": hashlib.sha256(zip_bytes).hexdigest()}


def bundle_manifest(data: str) -> dict[str, Any]:
    """A base64 bundle as what a reviewer judges: skill identity, files, content digest.

    A bundle that does not decode is shown as the reason, not as an error: the snapshot of a
    request that sends a broken bundle on purpose must still render.
    """
    try:
        bundle = decode_bundle(data)
    except BundleError as exc:
        return {"undecodable": f"{exc.code}: {exc}", "base64_chars": len(data)}
    return {
        "skill": {"name": bundle.skill.name, "description": bundle.skill.description},
        "entries": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in bundle.manifest()],
        "digest": bundle.digest,
    }


def review_body(body: Any, path: str | None = None) -> Any:
    """The JSON body (sent to `path`; none: a chat completion) with inline bundles as manifests
    and secret-looking fields redacted."""
    return scrub_json(map_bundles(body, lambda data: {"manifest": bundle_manifest(data)}, path))


def review_headers(
    headers: Collection[tuple[str, str]], *, volatile: Collection[str] = VOLATILE_HEADERS
) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in volatile:
            continue
        out[key] = REDACTED if key in SECRET_HEADERS else value
    return out


def reviewable(request: CapturedRequest, *, volatile: Collection[str] = VOLATILE_HEADERS) -> dict[str, Any]:
    """The snapshot form of a captured request (see the module docstring)."""
    out: dict[str, Any] = {"request": f"{request.method} {request.path}"}
    if request.query:
        out["query"] = {k: (REDACTED if k.lower() in SECRET_QUERY else v) for k, v in request.query}
    out["headers"] = review_headers(request.headers, volatile=volatile)
    try:
        body = request.json()
    except ValueError:
        out["body_text"] = request.body.decode("utf-8", errors="replace")
    else:
        out["body"] = review_body(body, request.path)
    return out


def snapshot_data(data: Any) -> Any:
    """What a value looks like in a snapshot file: requests and request bodies made reviewable."""
    if isinstance(data, CapturedRequest):
        return reviewable(data)
    if hasattr(data, "url") and hasattr(data, "read") and hasattr(data, "method"):
        return reviewable(from_httpx(data))  # an httpx / httpx2 Request
    if isinstance(data, Mapping):
        return review_body(data)
    return data


def canonical_view(body: Any, contract: Contract | None = None) -> dict[str, Any]:
    """What a body means under `contract` (default: the packaged description): the canonical form matching uses."""
    return scrub_json(canonicalize(body, contract).body)  # type: ignore[no-any-return]
