"""Builders shared by the cassette tests: interactions, bundles, fixtures and an independent SSE reader."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from vcr.request import Request

from harness.bundles import build_bundle, encode_bundle
from harness.contract import DescriptionChoice, description_in_use, use_description
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse

URL = "http://127.0.0.1:43125/v1/openai/chat/completions"
OTHER_URL = "https://api.github.com/repos/acme/widgets"
JSON = {"content-type": ["application/json"]}
SSE = {"content-type": ["text/event-stream; charset=utf-8"]}
SKILL_MD = "---\nname: demo\ndescription: Demo skill\n---\n# Demo\nExtract things.\n"
BUNDLE = build_bundle({"SKILL.md": SKILL_MD, "schema.json": '{"type": "object"}'})
BUNDLE_B64 = encode_bundle(BUNDLE)
SECRET = "sk-live-0123456789abcdefghijkl"
# A whole ChatCompletion as the description requires it (every required field present).
COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1767225600,
    "model": "vlmrun-orion-1:auto",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Done."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    "session_id": "s-1",
}

# A cassette the harness wrote before format 2 (copied from tests/scenarios), with its blob.
FORMAT_1 = Path(__file__).parent / "fixtures" / "format1" / "cassettes" / "test_vlmrun_sdk_dict_form[mixed].yaml"
FORMAT_1_ORIGIN = "http://127.0.0.1:43193"


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def indented(value: Any) -> str:
    """How format 2 stores a JSON body."""
    return json.dumps(value, indent=2, ensure_ascii=False)


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
    vlmrun: bool = True,
) -> Interaction:
    if isinstance(request_body, bytes):
        raw = request_body
    else:
        raw = b"" if request_body is None else compact(request_body).encode()
    request = RecordedRequest(method, uri, dict(JSON if request_headers is None else request_headers), raw)
    response = RecordedResponse(
        status, "OK", dict(JSON if response_headers is None else response_headers), response_body
    )
    return Interaction(request, response, vlmrun=vlmrun)


def other_api_pair(name: str = "widgets") -> tuple[Request, dict[str, Any]]:
    """Another API's exchange as vcrpy hands it to a persister (its token is the user's business)."""
    request = Request(
        "GET", f"{OTHER_URL}?name={name}", None, {"Authorization": "token ghp_not_ours", "Accept": "application/json"}
    )
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "Set-Cookie": ["logged_in=yes"]},
        "body": {"string": compact({"id": 1, "name": name}).encode()},
    }
    return request, response


def write_yaml(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return path


def copy_format_1(tmp_path: Path) -> Path:
    """The committed format 1 cassette copied with its blob (`cassettes/_blobs` layout) under tmp_path."""
    shutil.copytree(FORMAT_1.parent, tmp_path / "cassettes")
    return tmp_path / "cassettes" / FORMAT_1.name


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


def edited(document: Any, **paths: Any) -> dict[str, Any]:
    """A copy of `document` with `a__b__0=value` set (`None` deletes the key; `KEY` stands for the harness's key)."""
    from harness.recording.vcr_format import KEY

    out: dict[str, Any] = json.loads(json.dumps(document))
    for path, value in paths.items():
        *parents, last = [KEY if part == "KEY" else part for part in path.split("__")]
        node: Any = out
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        key: Any = int(last) if last.isdigit() else last
        if value is None:
            del node[key]
        else:
            node[key] = value
    return out


@contextlib.contextmanager
def another_description(folder: Path) -> Iterator[None]:
    """The packaged description under an overlay that changes only its prose: another hash, the same rules."""
    overlay = folder / "overlay.yaml"
    overlay.write_text(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
        "  - target: $.info\n    update: {description: another description}\n"
    )
    previous = description_in_use()
    use_description(DescriptionChoice(None, (overlay,)))
    try:
        yield
    finally:
        use_description(previous)
