"""The on-disk format: structured bodies, event streams, blobs, and exact round trips."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.bundles import build_bundle, canonical_digest, digest_b64, encode_bundle, read_zip_entries
from harness.recording import cassette_yaml
from harness.recording.blobs import blob_filename
from harness.recording.cassette_file import parse_sse, render_sse
from harness.recording.interaction import Interaction
from harness.recording.persister import load_interactions, save_interactions
from tests.recording._cassettes import (
    BUNDLE,
    BUNDLE_B64,
    SSE,
    compact,
    completion_request,
    inline_skill,
    interaction,
    read_sse,
    stream,
)

CHUNKS = [
    {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Grüße\n"}}]},
    {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
]


def roundtrip(tmp_path: Path, *interactions: Interaction) -> tuple[dict[str, Any], list[Interaction]]:
    path = save_interactions(tmp_path / "cassettes" / "c.yaml", interactions)
    document = yaml.safe_load(path.read_text())
    return document, load_interactions(path).interactions


def test_libyaml_is_used() -> None:
    assert "CSafeLoader" in [cls.__name__ for cls in cassette_yaml._Loader.__mro__]
    assert "CSafeDumper" in [cls.__name__ for cls in cassette_yaml._Dumper.__mro__]


def test_json_bodies_are_yaml_mappings(tmp_path: Path) -> None:
    body = completion_request(content="Line one.\nLine two.")
    doc, (loaded,) = roundtrip(tmp_path, interaction(body, b'{"id":"r1","choices":[]}'))
    node = doc["interactions"][0]
    assert node["request"]["body"] == {"json": body}
    assert node["response"]["body"] == {"json": {"id": "r1", "choices": []}}
    assert list(node["request"]) == ["method", "uri", "headers", "body"]
    assert json.loads(loaded.request.body) == body
    assert loaded.response.body == b'{"id":"r1","choices":[]}'
    text = (tmp_path / "cassettes" / "c.yaml").read_text()
    assert "content: |-\n" in text  # multi-line text reads as a block, not an escaped string
    assert "content-type: [application/json]" in text


def test_canonical_event_stream_is_stored_as_events_and_replays_byte_identical(tmp_path: Path) -> None:
    body = stream(CHUNKS)
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, body, response_headers=SSE))
    assert doc["interactions"][0]["response"]["body"] == {
        "events": [{"json": c} for c in CHUNKS] + [{"data": "[DONE]"}]
    }
    assert loaded.response.body == body


def test_ascii_escaped_chunks_keep_their_bytes_as_raw_data(tmp_path: Path) -> None:
    body = stream(CHUNKS, ensure_ascii=True)  # json.dumps's default, as the reference server writes
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, body, response_headers=SSE))
    events = doc["interactions"][0]["response"]["body"]["events"]
    assert "data" in events[0]
    assert events[1] == {"json": CHUNKS[1]}
    assert loaded.response.body == body


@pytest.mark.parametrize(
    "body",
    [
        b'event: delta\r\nid: 7\r\ndata: {"a":1}\r\nretry: 3000\r\n\r\n',
        b": keep-alive\n\ndata:no-space\n\ndata: line one\ndata: line two\n\n",
        b'id: 1\nevent: x\ndata: {"b": 2}\n\nid: 2\n\ndata:\n\n',
        b"data: [DONE]\r\rdata: tail\r\r",
    ],
    ids=["crlf-fields", "comment-multiline", "id-only-and-empty-data", "cr-only"],
)
def test_other_event_streams_replay_as_the_same_events(tmp_path: Path, body: bytes) -> None:
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, body, response_headers=SSE))
    assert "events" in doc["interactions"][0]["response"]["body"]
    assert read_sse(loaded.response.body) == read_sse(body)


@pytest.mark.parametrize(
    "body",
    [b"data: cut short", b"data: unterminated\n", b"foo: bar\n\n", b"retry: soon\n\n", b"data\n\n"],
    ids=["no-line-break", "no-blank-line", "unknown-field", "bad-retry", "no-colon"],
)
def test_streams_that_would_lose_a_line_are_kept_as_text(tmp_path: Path, body: bytes) -> None:
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, body, response_headers=SSE))
    assert doc["interactions"][0]["response"]["body"] == {"text": body.decode()}
    assert loaded.response.body == body


def test_render_writes_event_id_data_retry_in_order() -> None:
    events: list[dict[str, Any]] = [
        {"event": "e", "id": "1", "json": {"a": [1]}, "retry": 5},
        {"data": "x\ny"},
        {"id": "2"},
    ]
    assert render_sse(events) == 'event: e\nid: 1\ndata: {"a":[1]}\nretry: 5\n\ndata: x\ndata: y\n\nid: 2\n\n'
    assert parse_sse(render_sse(events)) == events


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b'{"a": 1, "b": [1, 2]}\n', "text"),  # pretty JSON: kept verbatim so the bytes replay
        (b'{"a":1,"a":2}', "text"),  # duplicate keys cannot be a mapping
        (b'{"x":1.50}', "text"),
        (b'{"x":"\\ud800"}', "text"),  # lone surrogate: YAML cannot hold it
        (b"plain words", "text"),
        (b"\x89PNG\r\n\x1a\n\x00\xff", "base64"),
        (b'"just a string"', "json"),
        (b"null", "json"),
    ],
)
def test_response_bodies_keep_their_bytes(tmp_path: Path, raw: bytes, kind: str) -> None:
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, raw))
    assert list(doc["interactions"][0]["response"]["body"]) == [kind]
    assert loaded.response.body == raw


def test_empty_bodies_are_omitted(tmp_path: Path) -> None:
    doc, (loaded,) = roundtrip(tmp_path, interaction(None, b"", method="GET"))
    node = doc["interactions"][0]
    assert "body" not in node["request"]
    assert "body" not in node["response"]
    assert loaded.request.body == b""
    assert loaded.response.body == b""


def test_pretty_request_json_is_structured_and_reparses_equal(tmp_path: Path) -> None:
    body = completion_request(inline_skill())
    raw = json.dumps(body, indent=2).encode()
    doc, (loaded,) = roundtrip(tmp_path, interaction(raw))
    assert "json" in doc["interactions"][0]["request"]["body"]
    assert json.loads(loaded.request.body) == body


def test_non_json_request_bodies_keep_their_bytes(tmp_path: Path) -> None:
    form = {"content-type": ["application/x-www-form-urlencoded"]}
    for raw in (b"a=1&b=2", b"123 ", b"\xff\x00"):
        _, (loaded,) = roundtrip(tmp_path, interaction(raw, request_headers=form))
        assert loaded.request.body == raw


def test_bundles_are_stored_once_as_blobs(tmp_path: Path) -> None:
    digest = digest_b64(BUNDLE_B64)
    body = completion_request(inline_skill(), {"skill_name": "legacy", "bundle": BUNDLE_B64})
    doc, loaded = roundtrip(tmp_path, interaction(body), interaction(body))
    placeholder = "$blob:" + digest
    for node in doc["interactions"]:
        skills = node["request"]["body"]["json"]["skills"]
        assert skills[0]["source"]["data"] == placeholder
        assert skills[1]["bundle"] == placeholder
    blob_dir = tmp_path / "cassettes" / "_blobs"
    assert [p.name for p in blob_dir.iterdir()] == [blob_filename(digest)]
    assert (blob_dir / blob_filename(digest)).read_bytes() == BUNDLE
    for item in loaded:
        assert json.loads(item.request.body) == body


def test_differently_zipped_bundles_share_one_blob_and_restore_to_the_same_content(tmp_path: Path) -> None:
    files = read_zip_entries(BUNDLE)
    deflated = encode_bundle(build_bundle(files, compression="deflated"))
    _, loaded = roundtrip(
        tmp_path,
        interaction(completion_request(inline_skill())),
        interaction(completion_request(inline_skill(deflated))),
    )
    assert len(list((tmp_path / "cassettes" / "_blobs").iterdir())) == 1
    for item in loaded:
        data = json.loads(item.request.body)["skills"][0]["source"]["data"]
        assert canonical_digest(read_zip_entries(base64.b64decode(data))) == canonical_digest(files)


def test_undecodable_bundles_stay_inline(tmp_path: Path) -> None:
    body = completion_request(inline_skill("bm90IGEgemlw"), inline_skill("@@not base64@@"))
    doc, (loaded,) = roundtrip(tmp_path, interaction(body))
    assert doc["interactions"][0]["request"]["body"]["json"] == body
    assert not (tmp_path / "cassettes" / "_blobs").exists()
    assert json.loads(loaded.request.body) == body


# -- round-trip property -------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
_bundles = st.sampled_from(
    [
        BUNDLE_B64,
        encode_bundle(build_bundle(read_zip_entries(BUNDLE), compression="deflated")),
        encode_bundle(build_bundle({"SKILL.md": "---\nname: b\ndescription: B\n---\n", "x.bin": bytes(range(256))})),
        "not-a-bundle",
    ]
)


@st.composite
def _requests(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["completion", "json", "pretty"]))
    if kind == "completion":
        skills = draw(st.lists(_bundles.map(lambda b: inline_skill(b) if len(b) % 2 else {"bundle": b}), max_size=3))
        body: Any = {**completion_request(*skills, content=draw(st.text(max_size=40))), "extra": draw(_json)}
        return json.dumps(body, ensure_ascii=draw(st.booleans())).encode()
    value = draw(_json)
    return (compact(value) if kind == "json" else json.dumps(value, indent=2)).encode()


@st.composite
def _responses(draw: st.DrawFn) -> tuple[dict[str, list[str]], bytes]:
    kind = draw(st.sampled_from(["json", "pretty", "sse", "text", "binary", "empty"]))
    json_type = {"content-type": ["application/json"]}
    if kind == "sse":
        return SSE, stream(draw(st.lists(_json, max_size=4)), ensure_ascii=draw(st.booleans()))
    if kind in ("json", "pretty"):
        value = draw(_json)
        return json_type, (compact(value) if kind == "json" else json.dumps(value, indent=1)).encode()
    if kind == "text":
        return {"content-type": ["text/plain"]}, draw(st.text()).encode()
    return {"content-type": ["application/octet-stream"]}, draw(st.binary()) if kind == "binary" else b""


def _normalised(body: bytes) -> Any:
    """A request body with each bundle replaced by its content digest."""
    value = json.loads(body)
    for skill in value.get("skills", []) if isinstance(value, dict) else []:
        for holder, key in ((skill.get("source", {}), "data"), (skill, "bundle")):
            if key in holder and holder[key] != "not-a-bundle":
                holder[key] = canonical_digest(read_zip_entries(base64.b64decode(holder[key])))
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_requests(), _responses(), st.integers(100, 599)), min_size=1, max_size=4))
def test_save_then_load_gives_back_the_same_interactions(cases: list[tuple[bytes, Any, int]]) -> None:
    originals = [
        interaction(req, body, response_headers=headers, status=status) for req, (headers, body), status in cases
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = save_interactions(Path(tmp) / "cassettes" / "prop.yaml", originals)
        loaded = load_interactions(path).interactions
    assert len(loaded) == len(originals)
    for before, after in zip(originals, loaded, strict=True):
        assert after.response == before.response
        assert (after.request.method, after.request.uri, after.request.headers) == (
            before.request.method,
            before.request.uri,
            before.request.headers,
        )
        assert _normalised(after.request.body) == _normalised(before.request.body)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_any_text_survives_yaml(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        body = compact({"s": text, text: [text]}).encode()
        chunks = stream([{"content": text}], ensure_ascii=False)
        items = [
            interaction(body, text.encode(), response_headers={"content-type": ["text/plain"]}),
            interaction(body, chunks, response_headers=SSE),
            interaction(body, body),
        ]
        path = save_interactions(Path(tmp) / "t.yaml", items)
        loaded = load_interactions(path).interactions
    assert [i.response.body for i in loaded] == [i.response.body for i in items]
    assert all(json.loads(i.request.body) == json.loads(body) for i in loaded)
