"""The cassette file format ↔ normalised `Interaction`s: bodies as structured, reviewable YAML.

vcrpy's default format stores each body as one escaped string, so a change to one field of a
request rewrites a whole line and a 1 MiB bundle lands in every cassette. Here JSON bodies
are YAML mappings (a diff reads field by field), event streams are lists of events, and inline
skill bundles are replaced by `$blob:sha256:<hex>` references into a shared blob store.
Everything that is not exactly reproducible from its structured form is stored verbatim
(`text` or `base64`), so response bytes replay unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.recording.blobs import BLOB_PREFIX, placeholders, restore_bundles, stash_bundles
from harness.recording.cassette_yaml import HEADER as HEADER  # re-exported, as before the split
from harness.recording.cassette_yaml import Flow
from harness.recording.cassette_yaml import dump_document as dump_document
from harness.recording.cassette_yaml import load_yaml as load_yaml
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse
from harness.recording.scrub import scrub_body, scrub_headers, scrub_uri

VCR_VERSION = 1  # vcrpy's cassette format number, so vcrpy tooling recognises the file
HARNESS_FORMAT = 1
BODY_KINDS = ("json", "text", "base64", "events")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"[0-9]+")
_MAX_DEPTH = 200  # deeper JSON is stored as text: the YAML representer recurses per level
_NOT_JSON = object()


class Malformed(ValueError):
    """A cassette node is not in the format; the caller adds the file and interaction."""


@dataclass(frozen=True)
class CassetteFile:
    """A loaded cassette: the `harness` metadata, vcrpy `get_metadata` values, and the interactions."""

    path: Path
    metadata: dict[str, Any]
    interactions: list[Interaction]
    user_metadata: dict[str, Any] = field(default_factory=dict)


# -- JSON ------------------------------------------------------------------------------------


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
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
    """The JSON value of `text`, or `_NOT_JSON` when it cannot be stored as a YAML structure."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_pairs)
    except (ValueError, RecursionError):
        return _NOT_JSON
    return value if _yaml_safe(value) else _NOT_JSON


def _exact_json(text: str) -> Any:
    """The JSON value of `text` only if re-serialising it compactly gives `text` back byte for byte."""
    value = parse_json(text)
    return value if value is not _NOT_JSON and compact_json(value) == text else _NOT_JSON


# -- server-sent events ------------------------------------------------------------------------


def _event(fields: dict[str, str], data: list[str] | None) -> dict[str, Any]:
    event: dict[str, Any] = {k: fields[k] for k in ("event", "id") if k in fields}
    if data is not None:
        text = "\n".join(data)
        scrubbed = scrub_body(text)
        text = scrubbed if isinstance(scrubbed, str) else text
        value = _exact_json(text)
        event.update({"data": text} if value is _NOT_JSON else {"json": value})
    if "retry" in fields:
        event["retry"] = int(fields["retry"])
    return event


def parse_sse(text: str) -> list[dict[str, Any]] | None:
    """Events of a well-formed stream; None when any line would be lost (unknown field, unterminated event)."""
    lines = _LINE_BREAK.split(text)
    if lines.pop() != "":
        return None
    events: list[dict[str, Any]] = []
    fields: dict[str, str] = {}
    data: list[str] | None = None
    for line in lines:
        if not line:
            if fields or data is not None:
                events.append(_event(fields, data))
            fields, data = {}, None
            continue
        if line.startswith(":"):
            continue  # a comment (keep-alive ping): not an event
        name, colon, value = line.partition(":")
        value = value.removeprefix(" ")
        if not colon or name not in ("event", "id", "data", "retry"):
            return None
        if name == "data":
            data = [*(data or []), value]
        elif name != "retry" or _DIGITS.fullmatch(value):
            fields[name] = value
        else:
            return None
    return None if fields or data is not None else events


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


def encode_body(raw: bytes, *, event_stream: bool, loose_json: bool, stash: dict[str, bytes] | None) -> Any:
    """The YAML node for a body, None when empty. `loose_json`: keep JSON structured even if not compact."""
    if not raw:
        return None
    scrubbed = scrub_body(raw)
    raw = scrubbed if isinstance(scrubbed, bytes) else raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}
    if event_stream and (events := parse_sse(text)) is not None:
        return {"events": events}
    value = parse_json(text)
    if value is not _NOT_JSON and (loose_json or compact_json(value) == text):
        if stash is not None:
            stash_bundles(value, stash)
        return {"json": value}
    return {"text": text}


def _json_with_bundles(value: Any, fetch: Callable[[str], str]) -> bytes:
    """Compact JSON with bundles restored, splicing the base64 into the small serialised body.

    Serialising the body with a 1.4 MB string inside was half of a bundle cassette's load;
    base64 and placeholders need no JSON escaping, so a textual swap is exact. When a
    placeholder also appears outside a bundle slot, the slow, structural path is taken.
    """
    digests = placeholders(value)
    text = compact_json(value)
    quoted = {d: json.dumps(BLOB_PREFIX + d) for d in set(digests)}
    if any(text.count(q) != digests.count(d) for d, q in quoted.items()):
        restore_bundles(value, fetch)
        return compact_json(value).encode("utf-8", "surrogatepass")
    for digest, token in quoted.items():
        text = text.replace(token, f'"{fetch(digest)}"')
    return text.encode("utf-8", "surrogatepass")


def decode_body(node: Any, *, fetch: Callable[[str], str] | None = None) -> bytes:
    """Bytes of a body node; plain vcrpy bodies (a string, `!!binary`, `{string: …}`) are read too."""
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
            return _json_with_bundles(value, fetch)
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


def _encode_headers(headers: Mapping[str, Any]) -> dict[str, Flow]:
    out: dict[str, Flow] = {}
    for name, value in scrub_headers(headers).items():
        values = value if isinstance(value, list | tuple) else [value]
        out[str(name)] = Flow(str(v) for v in values)
    return out


def _is_json_type(content_type: str | None) -> bool:
    return content_type is None or "json" in content_type.lower()


def encode_interaction(interaction: Interaction, stash: dict[str, bytes]) -> dict[str, Any]:
    """The YAML node of one interaction, scrubbed again (defence in depth) with bundles stashed."""
    req, res = interaction.request, interaction.response
    request: dict[str, Any] = {"method": req.method, "uri": scrub_uri(req.uri), "headers": _encode_headers(req.headers)}
    body = encode_body(req.body, event_stream=False, loose_json=_is_json_type(req.content_type), stash=stash)
    if body is not None:
        request["body"] = body
    response: dict[str, Any] = {
        "status": {"code": res.status, "message": res.reason},
        "headers": _encode_headers(res.headers),
    }
    body = encode_body(res.body, event_stream=res.is_event_stream, loose_json=False, stash=None)
    if body is not None:
        response["body"] = body
    return {"request": request, "response": response}


def _mapping(node: Any, what: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise Malformed(f"{what} must be a mapping, not {type(node).__name__}")
    return node


def _require(node: dict[str, Any], key: str, what: str) -> Any:
    if key not in node or node[key] is None:
        raise Malformed(f"{what} has no {key!r}")
    return node[key]


def _decode_headers(node: Any, what: str) -> dict[str, list[str]]:
    headers = _mapping({} if node is None else node, f"{what} 'headers'")
    out: dict[str, list[str]] = {}
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, dict | list) for v in values):
            raise Malformed(f"{what} header {name!r} must be a string or a list of strings")
        out[str(name)] = [str(v) for v in values]
    return out


def decode_interaction(node: Any, index: int, fetch: Callable[[str], str]) -> Interaction:
    node = _mapping(node, "interaction")
    req = _mapping(_require(node, "request", "interaction"), "request")
    res = _mapping(_require(node, "response", "interaction"), "response")
    status = _require(res, "status", "response")
    status = status if isinstance(status, dict) else {"code": status}
    code = _require(status, "code", "response 'status'")
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
        raise Malformed(f"response status code must be an integer from 100 to 599, not {code!r}")
    request = RecordedRequest(
        method=str(_require(req, "method", "request")).upper(),
        uri=str(_require(req, "uri", "request")),
        headers=_decode_headers(req.get("headers"), "request"),
        body=decode_body(req.get("body"), fetch=fetch),
    )
    response = RecordedResponse(
        status=code,
        reason=str(status.get("message") or ""),
        headers=_decode_headers(res.get("headers"), "response"),
        body=decode_body(res.get("body")),
    )
    return Interaction(request, response, index)
