"""Format 2: VLM Run interactions stored in a plain vcrpy cassette, readable in a diff.

A cassette the harness writes must stay a vcrpy cassette: plain vcrpy (no harness
installed) loads it and replays it with its default matching. So every interaction keeps
vcrpy's shape (`request: {method, uri, body, headers}`, `response: {status, headers, body:
{string}}`), and readability comes from how the strings are written, not from new shapes:

- a JSON body is stored indented (one field per line, a YAML literal block), and a
  `content-length` header is set to the stored length so any client reads it whole;
- an event stream is stored verbatim, one `data:` line per event;
- an inline skill bundle in a request (where `wire` says the request's operation has one: a
  chat completion's skills, a skill create or update's `source`) becomes `$blob:sha256:<hex>`,
  its zip stored once in `_blobs/` (a request body is never replayed, so plain vcrpy loses nothing);
- the response carries `vlmrun_harness: {request_body: json, response_body: json}`, which
  plain vcrpy ignores and the harness reads to restore the exact bytes: the compact JSON
  the client sent and the server answered (a response is stored indented only when its
  compact form is exactly the bytes received, so the restore is byte for byte).

Scrubbing of VLM Run secrets happens here too, as the last step before the bytes leave.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from harness.header_names import VOLATILE_HEADERS
from harness.recording.blobs import stash_bundles
from harness.recording.cassette_file import compact_json, json_with_bundles, parse_json
from harness.recording.cassette_yaml import Flow
from harness.recording.interaction import decoded_response, request_bytes
from harness.secrets import REDACTED, scrub_body, scrub_headers, scrub_uri

FORMAT = 2
KEY = "vlmrun_harness"  # the per-interaction mark in a response, and the cassette's top-level stamp
JSON = "json"
EVENT_STREAM = "text/event-stream"
# Where recordings of the embedded reference server say they went: a reserved, never-routable name.
EMBEDDED_ORIGIN = "http://vlmrun-reference.invalid"
VOLATILE_RESPONSE_HEADERS = frozenset({"date"})  # the server's clock, meaningless on replay
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8")
    except (TypeError, UnicodeDecodeError):
        return None


def _indented(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            values = value if isinstance(value, list | tuple) else [value]
            return str(values[0]) if values else None
    return None


def _set_length(headers: dict[str, Any], length: int, *, as_list: bool) -> None:
    for key in list(headers):
        if key.lower() == "content-length":
            headers[key] = Flow([str(length)]) if as_list else str(length)


# -- writing -----------------------------------------------------------------------------------


def encode_request(request: Any, stash: dict[str, bytes]) -> tuple[dict[str, Any], str | None]:
    """vcrpy's request mapping, scrubbed, with a JSON body indented and its bundles stashed."""
    headers = {k: Flow([v]) for k, v in scrub_headers(dict(request.headers)).items()}
    raw = request_bytes(request)
    scrubbed = scrub_body(raw)
    raw = scrubbed if isinstance(scrubbed, bytes) else raw
    body: Any = raw or None
    kind = None
    text = _text(raw) if raw else None
    if text is not None:
        body = text
        value = parse_json(text)
        if isinstance(value, dict | list):
            stash_bundles(value, stash, str(request.uri))
            body, kind = _indented(value), JSON
            _set_length(headers, len(body.encode()), as_list=True)
    return {"method": request.method, "uri": scrub_uri(request.uri), "body": body, "headers": headers}, kind


def encode_response(response: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """vcrpy's response mapping, decompressed and scrubbed, with an exact JSON body indented."""
    if not isinstance(response.get("headers"), Mapping):
        raise KeyError("headers")  # not vcrpy's response shape (a hook returned something else)
    out = dict(decoded_response(response))  # gzip/deflate: store what the client read (and conformance judges)
    headers = {
        k: Flow([REDACTED] if v == REDACTED else (v if isinstance(v, list | tuple) else [v]))
        for k, v in scrub_headers(out.get("headers") or {}).items()
    }
    stored = out.get("body")
    body: dict[str, Any] = stored if isinstance(stored, dict) else {"string": stored}
    raw = body.get("string")
    kind = None
    text = _text(raw)
    if text:
        media = (_header(headers, "content-type") or "").split(";")[0].strip().lower()
        scrubbed = _scrub_events(text) if media == EVENT_STREAM else scrub_body(text)
        text = scrubbed if isinstance(scrubbed, str) else text
        value = parse_json(text) if media != EVENT_STREAM else None
        if isinstance(value, dict | list) and compact_json(value) == text:
            text, kind = _indented(value), JSON
            _set_length(headers, len(text.encode()), as_list=True)
        raw = text
    elif text is not None:
        raw = ""
    out["headers"] = headers
    out["body"] = {**body, "string": raw}
    return out, kind


def _scrub_events(text: str) -> str:
    """Secret fields in each event's JSON `data`; every other line as it was."""
    lines = _LINE_BREAK.split(text)
    for i, line in enumerate(lines):
        if line.startswith("data:"):
            value = line[5:].removeprefix(" ")
            scrubbed = scrub_body(value)
            if isinstance(scrubbed, str) and scrubbed != value:
                lines[i] = "data: " + scrubbed
    separators = _LINE_BREAK.findall(text)
    return "".join(line + sep for line, sep in zip(lines, [*separators, ""], strict=True))


def _stable(headers: dict[str, Any], drop: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Headers sorted by name, volatile ones dropped: re-recording the same calls gives the same file."""
    return {k: headers[k] for k in sorted(headers, key=str.lower) if k.lower() not in drop}


def encode_pair(
    request: Any, response: Mapping[str, Any], stash: dict[str, bytes], *, embedded: str | None = None
) -> dict[str, Any]:
    """The stored form of one VLM Run interaction (the mark says how to restore its bytes).

    `embedded`: the origin (`http://127.0.0.1:PORT`) of the session's embedded reference server,
    stored as `EMBEDDED_ORIGIN`, since its port is new every session.
    """
    req, req_kind = encode_request(request, stash)
    res, res_kind = encode_response(response)
    if embedded and (req["uri"] == embedded or req["uri"].startswith(embedded + "/")):
        req["uri"] = EMBEDDED_ORIGIN + req["uri"][len(embedded) :]
    req["headers"] = _stable(req["headers"], VOLATILE_HEADERS)
    res["headers"] = _stable(res["headers"], VOLATILE_RESPONSE_HEADERS)
    res.pop(KEY, None)
    res[KEY] = {k: v for k, v in (("request_body", req_kind), ("response_body", res_kind)) if v}
    return {"request": req, "response": res}


# -- reading -----------------------------------------------------------------------------------


def is_stored_pair(response: Any) -> bool:
    """Whether a loaded response carries the harness's mark (its interaction is VLM Run's)."""
    return isinstance(response, dict) and isinstance(response.get(KEY), dict)


def _compacted(text: str, fetch: Callable[[str], bytes] | None, path: str | None) -> bytes:
    value = json.loads(text)
    if fetch is not None:
        return json_with_bundles(value, fetch, path)  # the base64 spliced into the small body's text
    return compact_json(value).encode("utf-8", "surrogatepass")


def decode_body(
    body: Any, kind: Any, what: str, fetch: Callable[[str], bytes] | None = None, path: str | None = None
) -> Any:
    """The exact bytes of a stored body (`kind` from the mark); ValueError names what is wrong.

    `fetch` and `path` (the request's path or URL: where its bundles sit) restore a request's bundles."""
    if kind is None or body is None:
        return body
    if kind != JSON:
        raise ValueError(f"{what} has an unknown body kind {kind!r} (this harness writes {JSON!r})")
    text = _text(body)
    if text is None:
        raise ValueError(f"{what} is marked {JSON!r} but is not text")
    try:
        return _compacted(text, fetch, path)
    except ValueError as exc:
        raise ValueError(f"{what} is marked {JSON!r} but is not JSON: {exc}") from None


def decode_pair(request: Any, response: dict[str, Any], fetch: Callable[[str], bytes]) -> dict[str, Any]:
    """Restore, in place, the bytes the client sent and received; the mark is removed."""
    mark = response.pop(KEY)
    raw = decode_body(request.body, mark.get("request_body"), "request body", fetch, str(request.uri))
    if raw is not request.body:
        request.body = raw
        if _header(request.headers, "content-length") is not None:
            _set_length(request.headers, len(raw), as_list=False)
    body = response.get("body")
    if mark.get("response_body"):
        if not isinstance(body, dict) or body.get("string") is None:
            raise ValueError(f"response body is marked {mark['response_body']!r} but has no 'string'")
        raw = decode_body(body["string"], mark["response_body"], "response body")
        body["string"] = raw
        _set_length(response.get("headers") or {}, len(raw), as_list=True)
    return response
