"""Format 2 on disk: a plain vcrpy cassette, JSON bodies indented for review, bytes restored exactly."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request
from vcr.serialize import deserialize, serialize

from harness.bundles import build_bundle, canonical_digest, digest_b64, encode_bundle, read_zip_entries
from harness.recording.blobs import blob_filename
from harness.recording.cassette_io import load_file, read_cassette, save_interactions, to_vcr, write_pairs
from harness.recording.interaction import Interaction
from harness.recording.vcr_format import KEY
from tests.recording._cassettes import (
    BUNDLE,
    BUNDLE_B64,
    SSE,
    URL,
    compact,
    completion_request,
    indented,
    inline_skill,
    interaction,
    other_api_pair,
    stream,
)

CHUNKS = [
    {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Grüße\n"}}]},
    {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
]
COMPLETION = {"id": "r1", "object": "chat.completion", "choices": [{"message": {"content": "Grüße\nzwei"}}]}


def roundtrip(tmp_path: Path, *interactions: Interaction) -> tuple[dict[str, Any], list[Interaction]]:
    path = save_interactions(tmp_path / "cassettes" / "c.yaml", interactions)
    document = yaml.safe_load(path.read_text())
    return document, read_cassette(path).interactions


def length(headers: dict[str, list[str]]) -> list[str]:
    return next(v for k, v in headers.items() if k.lower() == "content-length")


# -- exactness -----------------------------------------------------------------------------------


def test_compact_json_is_stored_indented_and_replays_byte_for_byte(tmp_path: Path) -> None:
    body = completion_request(content="Line one.\nLine two.")
    raw = compact(COMPLETION).encode()
    item = interaction(
        body,
        raw,
        request_headers={"content-type": ["application/json"], "content-length": [str(len(compact(body).encode()))]},
        response_headers={"content-type": ["application/json"], "content-length": [str(len(raw))]},
    )
    doc, (loaded,) = roundtrip(tmp_path, item)
    node = doc["interactions"][0]
    assert list(node["request"]) == ["method", "uri", "body", "headers"]  # vcrpy's Request._to_dict() order
    assert node["request"]["body"] == indented(body)
    assert "content-length" not in node["request"]["headers"]  # varies by client, never replayed: left out
    assert node["response"]["body"] == {"string": indented(COMPLETION)}
    assert node["response"]["headers"]["content-length"] == [str(len(indented(COMPLETION).encode()))]
    assert node["response"][KEY] == {"request_body": "json", "response_body": "json"}

    text = (tmp_path / "cassettes" / "c.yaml").read_text()
    assert '    body: |-\n      {\n        "model": "vlmrun-orion-1:auto",\n' in text  # one field per line
    assert '"content": "Grüße\\nzwei"' in text  # non-ASCII as written, not \u-escaped
    assert "content-type: [application/json]" in text

    assert loaded.request.body == compact(body).encode()
    assert loaded.response.body == raw
    assert loaded.response.headers == item.response.headers  # content-length back to the bytes received


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1, "b": [1, 2]}',  # spaces
        b'{"a":1}\n',  # a trailing newline
        json.dumps({"t": "Grüße"}).encode(),  # ensure_ascii escapes
        b'{"x":1.50}',  # a number that would re-serialise differently
        b'{"a":1,"a":2}',  # duplicate keys
        b'{"x":"\\ud800"}',  # a lone surrogate: YAML could not hold it indented
        b'"just a string"',  # JSON, but not an object or array
        b"null",
    ],
)
def test_json_that_is_not_compact_is_stored_verbatim_without_a_mark(tmp_path: Path, raw: bytes) -> None:
    headers = {"content-type": ["application/json"], "content-length": [str(len(raw))]}
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, raw, response_headers=headers))
    response = doc["interactions"][0]["response"]
    assert response["body"] == {"string": raw.decode()}
    assert "response_body" not in response[KEY]
    assert response["headers"]["content-length"] == [str(len(raw))]
    assert loaded.response.body == raw
    assert loaded.response.headers == headers


def test_event_streams_are_stored_verbatim_one_data_line_per_event(tmp_path: Path) -> None:
    raw = stream(CHUNKS)
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, raw, response_headers=SSE))
    response = doc["interactions"][0]["response"]
    assert response["body"] == {"string": raw.decode()}
    assert response[KEY] == {"request_body": "json"}
    text = (tmp_path / "cassettes" / "c.yaml").read_text()
    assert "      string: |" in text  # a literal block, not an escaped string
    for chunk in CHUNKS:
        assert f"\n        data: {compact(chunk)}\n\n" in text
    assert "\n        data: [DONE]\n" in text
    assert loaded.response.body == raw


def test_a_json_body_of_an_event_stream_is_not_indented(tmp_path: Path) -> None:
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, b'{"a":1}', response_headers=SSE))
    assert doc["interactions"][0]["response"]["body"] == {"string": '{"a":1}'}
    assert loaded.response.body == b'{"a":1}'


@pytest.mark.parametrize(
    "raw",
    [
        stream(CHUNKS, ensure_ascii=True),
        b'event: delta\r\nid: 7\r\ndata: {"a":1}\r\nretry: 3000\r\n\r\n',
        b": keep-alive\n\ndata:no-space\n\ndata: line one\ndata: line two\n\n",
        b'id: 1\nevent: x\ndata: {"b": 2}\n\nid: 2\n\ndata:\n\n',
        b"data: [DONE]\r\rdata: tail\r\r",
        b"data: cut short",
        b"data: trailing spaces   \n\n   \n",
        b"foo: bar\n\n",
    ],
    ids=[
        "ascii-escaped",
        "crlf-fields",
        "comment-multiline",
        "id-only",
        "cr-only",
        "unterminated",
        "spaces",
        "unknown",
    ],
)
def test_any_event_stream_keeps_its_bytes(tmp_path: Path, raw: bytes) -> None:
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, raw, response_headers=SSE))
    assert doc["interactions"][0]["response"]["body"] == {"string": raw.decode()}
    assert loaded.response.body == raw


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\xff", "image/png"),
        (bytes(range(256)), "application/octet-stream"),
        (b"plain words\nand a second line", "text/plain"),
        ("Grüße".encode("latin-1"), "text/plain; charset=latin-1"),
    ],
)
def test_binary_and_text_responses_keep_their_bytes(tmp_path: Path, raw: bytes, content_type: str) -> None:
    headers = {"content-type": [content_type], "content-length": [str(len(raw))]}
    doc, (loaded,) = roundtrip(tmp_path, interaction({}, raw, response_headers=headers))
    stored = doc["interactions"][0]["response"]["body"]["string"]
    assert stored == (raw if isinstance(stored, bytes) else raw.decode())  # !!binary unless it is UTF-8 text
    assert loaded.response.body == raw
    assert loaded.response.headers == headers


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"a=1&b=2", "application/x-www-form-urlencoded"),
        (b"123 ", "application/json"),
        (b"\xff\x00", "application/octet-stream"),
        (b"--b\r\ncontent-disposition: form-data\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b"),
    ],
)
def test_non_json_request_bodies_keep_their_bytes(tmp_path: Path, raw: bytes, content_type: str) -> None:
    doc, (loaded,) = roundtrip(tmp_path, interaction(raw, request_headers={"content-type": [content_type]}))
    assert "request_body" not in doc["interactions"][0]["response"][KEY]
    assert loaded.request.body == raw


def test_empty_bodies_are_stored_as_vcrpy_stores_them(tmp_path: Path) -> None:
    doc, (loaded,) = roundtrip(tmp_path, interaction(None, b"", method="GET"))
    node = doc["interactions"][0]
    assert node["request"]["body"] is None
    assert node["response"]["body"] == {"string": ""}
    assert node["response"][KEY] == {}
    assert (loaded.request.body, loaded.response.body) == (b"", b"")


def test_pretty_request_json_is_indented_and_replays_compact(tmp_path: Path) -> None:
    body = completion_request(inline_skill())
    doc, (loaded,) = roundtrip(tmp_path, interaction(json.dumps(body, indent=4).encode()))
    assert json.loads(doc["interactions"][0]["request"]["body"])["skills"][0]["source"]["data"].startswith("$blob:")
    assert loaded.request.body == compact(body).encode()


# -- bundles -------------------------------------------------------------------------------------


def test_bundles_are_stored_once_as_blobs(tmp_path: Path) -> None:
    digest = digest_b64(BUNDLE_B64)
    body = completion_request(inline_skill(), {"skill_name": "legacy", "bundle": BUNDLE_B64})
    headers = {"content-type": ["application/json"], "content-length": [str(len(compact(body).encode()))]}
    doc, loaded = roundtrip(tmp_path, interaction(body, request_headers=headers), interaction(body))
    placeholder = "$blob:" + digest
    for node in doc["interactions"]:
        skills = json.loads(node["request"]["body"])["skills"]
        assert skills[0]["source"]["data"] == placeholder
        assert skills[1]["bundle"] == placeholder
    assert BUNDLE_B64 not in (tmp_path / "cassettes" / "c.yaml").read_text()
    assert doc["interactions"][0]["request"]["headers"] == {"content-type": ["application/json"]}
    blob_dir = tmp_path / "cassettes" / "_blobs"
    assert [p.name for p in blob_dir.iterdir()] == [blob_filename(digest)]
    assert (blob_dir / blob_filename(digest)).read_bytes() == BUNDLE
    for item in loaded:
        assert item.request.body == compact(body).encode()
    assert loaded[0].request.headers == {"content-type": ["application/json"]}  # volatile headers left out


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
    assert json.loads(doc["interactions"][0]["request"]["body"]) == body
    assert not (tmp_path / "cassettes" / "_blobs").exists()
    assert loaded.request.body == compact(body).encode()


# -- plain vcrpy reads what the harness writes ---------------------------------------------------


def _offline(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"replay must not reach the transport: {request.url}")


def test_plain_vcrpy_loads_and_replays_a_harness_cassette(tmp_path: Path) -> None:
    body = completion_request(inline_skill(), content="hi")
    raw = compact(COMPLETION).encode()
    items = [
        interaction(
            body, raw, response_headers={**{"content-type": ["application/json"]}, "content-length": [str(len(raw))]}
        ),
        interaction(body, stream(CHUNKS), response_headers=SSE, uri=URL + "?stream=1"),
        interaction(None, b'{"status":"ok"}', method="GET", uri=URL.replace("chat/completions", "models")),
    ]
    path = save_interactions(tmp_path / "cassettes" / "plain.yaml", items)
    text = path.read_text()

    requests, responses = deserialize(text, vcr.serializers.yamlserializer)  # no vcrpy `metadata`: nothing to unpack
    assert yaml.safe_load(text)[KEY]["format"] == 2
    assert [r.uri for r in requests] == [i.request.uri for i in items]
    assert json.loads(requests[0].body)["skills"][0]["source"]["data"].startswith("$blob:sha256:")
    first = responses[0]
    assert first["body"]["string"] == indented(COMPLETION).encode()
    assert first["headers"]["content-length"] == [str(len(first["body"]["string"]))]
    assert responses[1]["body"]["string"] == stream(CHUNKS)
    assert len(FilesystemPersister.load_cassette(path, vcr.serializers.yamlserializer)[0]) == 3

    player = vcr.VCR(record_mode="none")  # vcrpy's default match_on, no harness anywhere
    with player.use_cassette(str(path)), httpx.Client(transport=httpx.MockTransport(_offline)) as client:
        completion = client.post(URL, json=body)
        streamed = client.post(URL + "?stream=1", json=body)
        models = client.get(URL.replace("chat/completions", "models"))
    assert completion.json() == COMPLETION
    assert completion.headers["content-length"] == str(len(completion.content))
    assert streamed.content == stream(CHUNKS)
    assert models.json() == {"status": "ok"}


def test_other_apis_interactions_are_stored_exactly_as_vcrpy_stores_them(tmp_path: Path) -> None:
    ours = to_vcr(interaction(completion_request(), compact(COMPLETION).encode()))
    theirs = other_api_pair()
    path = write_pairs(tmp_path / "cassettes" / "mixed.yaml", [ours, theirs, ours], [True, False, True])
    document = yaml.safe_load(path.read_text())
    assert theirs[1]["body"]["string"] == b'{"id":1,"name":"widgets"}'  # the caller's response is left as it was

    (vcrpy_node,) = yaml.safe_load(  # (vcrpy's serialize converts the body it is given to text)
        serialize({"requests": [theirs[0]], "responses": [theirs[1]]}, vcr.serializers.yamlserializer)
    )["interactions"]
    assert document["interactions"][1] == vcrpy_node
    assert vcrpy_node["request"]["headers"]["Authorization"] == ["token ghp_not_ours"]  # the user's filters decide
    assert vcrpy_node["response"]["body"] == {"string": '{"id":1,"name":"widgets"}'}  # not indented
    assert KEY not in document["interactions"][1]["response"]
    assert KEY in document["interactions"][0]["response"]

    loaded = load_file(path)
    assert loaded.owned == [True, False, True]
    assert [getattr(r, "_vlmrun_harness_owned", None) for r in loaded.requests] == [True, False, True]
    assert loaded.responses[1]["body"]["string"] == b'{"id":1,"name":"widgets"}'
    assert loaded.responses[1]["headers"] == theirs[1]["headers"]
    assert [i.vlmrun for i in loaded.interactions()] == [True, False, True]


def test_save_interactions_stores_non_vlmrun_interactions_as_vcrpy_does(tmp_path: Path) -> None:
    other = interaction(None, b'{"id":1}', method="GET", uri="https://api.github.com/x", vlmrun=False)
    doc, loaded = roundtrip(tmp_path, interaction({"a": 1}), other)
    assert doc["interactions"][1]["response"]["body"] == {"string": '{"id":1}'}
    assert KEY not in doc["interactions"][1]["response"]
    assert [i.vlmrun for i in loaded] == [True, False]
    assert loaded[1].response.body == b'{"id":1}'


def test_the_json_serializer_writes_json(tmp_path: Path) -> None:
    raw = compact(COMPLETION).encode()
    pairs = [to_vcr(interaction(completion_request(inline_skill()), raw)), other_api_pair()]
    path = write_pairs(
        tmp_path / "cassettes" / "c.json", pairs, [True, False], serializer=vcr.serializers.jsonserializer
    )
    text = path.read_text()
    document = json.loads(text)  # JSON, not YAML with a comment header
    assert document[KEY]["format"] == 2
    assert document["interactions"][0]["response"]["body"]["string"] == indented(COMPLETION)
    assert BUNDLE_B64 not in text
    requests, _responses = deserialize(text, vcr.serializers.jsonserializer)  # plain vcrpy reads it
    assert len(requests) == 2
    loaded = load_file(path)
    assert loaded.owned == [True, False]
    assert loaded.responses[0]["body"]["string"] == raw
    assert json.loads(loaded.requests[0].body)["skills"][0]["source"]["data"] == BUNDLE_B64


# -- round-trip properties -----------------------------------------------------------------------

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
        body = (compact(value) if kind == "json" else json.dumps(value, indent=1)).encode()
        return {**json_type, "content-length": [str(len(body))]}, body
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
        loaded = read_cassette(path).interactions
        plain = deserialize(path.read_text(), vcr.serializers.yamlserializer)  # and vcrpy alone reads it
    assert len(loaded) == len(originals) == len(plain[0])
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
        loaded = read_cassette(path).interactions
    assert [i.response.body for i in loaded] == [i.response.body for i in items]
    assert all(i.request.body == body for i in loaded)


def test_vcrpy_requests_with_string_bodies_are_written_too(tmp_path: Path) -> None:
    request = Request("POST", URL, compact({"a": [1, 2]}), {"Content-Type": "application/json"})
    response = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": b'{"ok":true}'}}
    path = write_pairs(tmp_path / "cassettes" / "s.yaml", [(request, response)], [True])
    loaded = load_file(path)
    assert loaded.requests[0].body == b'{"a":[1,2]}'
    assert loaded.responses[0]["body"]["string"] == b'{"ok":true}'
