"""Format 1, read only: the harness's cassettes written before format 2 (`vcr_format`).

Format 1 stored bodies as YAML structures (`json`, `events`, `text`, `base64`) inside a
top-level `harness:` mapping. The harness no longer writes it; `cassette_io` reads it through
`decode_interaction` so old cassettes still replay, and `harness cassettes migrate` rewrites
them as format 2. The JSON helpers (`compact_json`, `parse_json`) are shared with format 2.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from harness.recording.blobs import BLOB_PREFIX, placeholders, restore_bundles
from harness.recording.cassette_yaml import load_yaml as load_yaml  # re-exported for benchmarks/bench_bundle.py
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse

HARNESS_FORMAT = 1
BODY_KINDS = ("json", "text", "base64", "events")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MAX_DEPTH = 200  # deeper JSON is stored as it came: indenting recurses once per level
_NOT_JSON = object()


class Malformed(ValueError):
    """A cassette node is not in the format; the caller adds the file and interaction."""


# -- JSON ------------------------------------------------------------------------------------


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")  # a mapping would keep only one of them
        out[key] = value
    return out


def _yaml_safe(value: Any, depth: int = 0) -> bool:
    """Whether YAML holds `value` exactly: libyaml cannot write lone surrogates; deep nesting overflows."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(value, str):
        return not _SURROGATE.search(value)
    if isinstance(value, list):
        return all(_yaml_safe(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_yaml_safe(k, depth + 1) and _yaml_safe(v, depth + 1) for k, v in value.items())
    return True


def parse_json(text: str) -> Any:
    """The JSON value of `text`, or `_NOT_JSON` when it is not JSON or YAML could not hold it exactly."""
    try:
        value = json.loads(text, object_pairs_hook=unique_pairs)
    except (ValueError, RecursionError):
        return _NOT_JSON
    return value if _yaml_safe(value) else _NOT_JSON


# -- server-sent events ------------------------------------------------------------------------


def render_sse(events: list[dict[str, Any]]) -> str:
    """`event:`, `id:`, `data:` lines then `retry:` and a blank line per event, as servers write them."""
    out: list[str] = []
    for event in events:
        out.extend(f"{name}: {event[name]}\n" for name in ("event", "id") if name in event)
        data = compact_json(event["json"]) if "json" in event else event.get("data")
        if data is not None:
            out.extend(f"data: {line}\n" for line in _LINE_BREAK.split(data))
        if "retry" in event:
            out.append(f"retry: {event['retry']}\n")
        out.append("\n")
    return "".join(out)


def _check_events(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise Malformed("body 'events' must be a list")
    for n, event in enumerate(value):
        if not isinstance(event, dict):
            raise Malformed(f"events[{n}] must be a mapping")
        unknown = set(event) - {"event", "id", "json", "data", "retry"}
        if unknown or ("json" in event and "data" in event):
            raise Malformed(f"events[{n}] has unknown keys {sorted(map(str, unknown))} or both 'json' and 'data'")
        for key, kind in (("event", str), ("id", str), ("data", str), ("retry", int)):
            if key in event and not isinstance(event[key], kind):
                raise Malformed(f"events[{n}].{key} must be a {kind.__name__}")
    return value


# -- bodies ------------------------------------------------------------------------------------


def json_with_bundles(value: Any, fetch: Callable[[str], bytes], path: str | None = None) -> bytes:
    """Compact JSON with bundles restored, the base64 spliced between the small body's pieces.

    Serialising the body with a 1.4 MB string inside was most of a bundle cassette's load;
    base64 and placeholders need no JSON escaping, so the swap is exact, and joining bytes
    copies the base64 once. When a placeholder also appears outside a bundle slot, the slow,
    structural path is taken. `path`: the request's path or URL (which slots it has).
    """
    digests = placeholders(value, path)
    text = compact_json(value)
    quoted = {json.dumps(BLOB_PREFIX + d): d for d in set(digests)}
    if not quoted:
        return text.encode("utf-8", "surrogatepass")
    if any(text.count(q) != digests.count(d) for q, d in quoted.items()):
        restore_bundles(value, lambda digest: fetch(digest).decode("ascii"), path)
        return compact_json(value).encode("utf-8", "surrogatepass")
    pieces = re.split("(" + "|".join(map(re.escape, quoted)) + ")", text)
    out: list[bytes] = []
    for piece in pieces:
        out += [b'"', fetch(quoted[piece]), b'"'] if piece in quoted else [piece.encode("utf-8", "surrogatepass")]
    return b"".join(out)


def decode_body(node: Any, *, fetch: Callable[[str], bytes] | None = None, path: str | None = None) -> bytes:
    """Bytes of a body node; plain vcrpy bodies (a string, `!!binary`, `{string: …}`) are read too.

    `fetch` and `path` (the request's path or URL) restore a request body's bundles."""
    if node is None:
        return b""
    if isinstance(node, str | bytes):
        return node.encode() if isinstance(node, str) else node
    if not isinstance(node, dict) or len(node) != 1:
        keys = sorted(map(str, node)) if isinstance(node, dict) else type(node).__name__
        raise Malformed(f"unknown body kind {keys}: expected one of {', '.join(BODY_KINDS)}")
    ((kind, value),) = node.items()
    if kind == "json":
        if fetch is not None:
            return json_with_bundles(value, fetch, path)
        return compact_json(value).encode("utf-8", "surrogatepass")
    if kind == "events":
        return render_sse(_check_events(value)).encode()
    if kind in ("text", "string") and isinstance(value, str | bytes | None):
        return decode_body(value)
    if kind == "base64" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Malformed(f"body 'base64' is not valid base64: {exc}") from None
    if kind in ("text", "base64"):
        raise Malformed(f"body {kind!r} must be a string, not {type(value).__name__}")
    raise Malformed(f"unknown body kind {kind!r}: expected one of {', '.join(BODY_KINDS)}")


# -- interactions ------------------------------------------------------------------------------


def mapping(node: Any, what: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise Malformed(f"{what} must be a mapping, not {type(node).__name__}")
    return node


def require(node: dict[str, Any], key: str, what: str) -> Any:
    if key not in node or node[key] is None:
        raise Malformed(f"{what} has no {key!r}")
    return node[key]


def decode_headers(node: Any, what: str) -> dict[str, list[str]]:
    headers = mapping({} if node is None else node, f"{what} 'headers'")
    out: dict[str, list[str]] = {}
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, dict | list) for v in values):
            raise Malformed(f"{what} header {name!r} must be a string or a list of strings")
        out[str(name)] = [str(v) for v in values]
    return out


def interaction_parts(node: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], int]:
    """A stored interaction's request and response mappings, its status mapping and code, checked.

    The same in every format the harness reads (format 1 here, format 2 and plain vcrpy in
    `cassette_parse`)."""
    node = mapping(node, "interaction")
    req = mapping(require(node, "request", "interaction"), "request")
    res = mapping(require(node, "response", "interaction"), "response")
    status = require(res, "status", "response")
    status = status if isinstance(status, dict) else {"code": status}
    code = require(status, "code", "response 'status'")
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
        raise Malformed(f"response status code must be an integer from 100 to 599, not {code!r}")
    return req, res, status, code


def decode_interaction(node: Any, index: int, fetch: Callable[[str], bytes]) -> Interaction:
    req, res, status, code = interaction_parts(node)
    uri = str(require(req, "uri", "request"))
    request = RecordedRequest(
        method=str(require(req, "method", "request")).upper(),
        uri=uri,
        headers=decode_headers(req.get("headers"), "request"),
        body=decode_body(req.get("body"), fetch=fetch, path=uri),
    )
    response = RecordedResponse(
        status=code,
        reason=str(status.get("message") or ""),
        headers=decode_headers(res.get("headers"), "response"),
        body=decode_body(res.get("body")),
    )
    return Interaction(request, response, index)
