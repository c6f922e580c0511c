"""Builders shared by the persister tests: interactions, bundles, and an independent SSE reader."""

from __future__ import annotations

import json
import re
from typing import Any

from harness.bundles import build_bundle, encode_bundle
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse

URL = "http://127.0.0.1:43125/v1/openai/chat/completions"
JSON = {"content-type": ["application/json"]}
SSE = {"content-type": ["text/event-stream; charset=utf-8"]}
SKILL_MD = "---\nname: demo\ndescription: Demo skill\n---\n# Demo\nExtract things.\n"
BUNDLE = build_bundle({"SKILL.md": SKILL_MD, "schema.json": '{"type": "object"}'})
BUNDLE_B64 = encode_bundle(BUNDLE)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def completion_request(*skills: Any, content: str = "Extract the invoice.") -> dict[str, Any]:
    return {
        "model": "vlmrun-orion-1:auto",
        "messages": [{"role": "user", "content": content}],
        "skills": list(skills),
    }


def inline_skill(data: str = BUNDLE_B64) -> dict[str, Any]:
    return {"type": "inline", "source": {"type": "base64", "media_type": "application/zip", "data": data}}


def stream(chunks: list[Any], *, ensure_ascii: bool = False) -> bytes:
    """What the reference server writes: `data: <compact json>\\n\\n` per chunk, then [DONE]."""
    lines = [f"data: {json.dumps(c, separators=(',', ':'), ensure_ascii=ensure_ascii)}\n\n" for c in chunks]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def interaction(
    request_body: Any = None,
    response_body: bytes = b'{"ok":true}',
    *,
    response_headers: dict[str, list[str]] | None = None,
    request_headers: dict[str, list[str]] | None = None,
    uri: str = URL,
    method: str = "POST",
    status: int = 200,
) -> Interaction:
    if isinstance(request_body, bytes):
        raw = request_body
    else:
        raw = b"" if request_body is None else compact(request_body).encode()
    request = RecordedRequest(method, uri, dict(JSON if request_headers is None else request_headers), raw)
    response = RecordedResponse(
        status, "OK", dict(JSON if response_headers is None else response_headers), response_body
    )
    return Interaction(request, response)


def read_sse(body: bytes) -> list[dict[str, Any]]:
    """Dispatched events as an EventSource sees them (WHATWG HTML §9.2.6), written independently of the code."""
    events: list[dict[str, Any]] = []
    data: list[str] = []
    event_type, last_id, retry = "", "", None
    for line in re.split(r"\r\n|\r|\n", body.decode("utf-8")):
        if line == "":
            if data:
                events.append({"type": event_type or "message", "data": "\n".join(data), "id": last_id, "retry": retry})
            data, event_type = [], ""
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id":
            last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    return events
