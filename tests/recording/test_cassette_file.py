"""Format 1, read only: cassettes written before format 2 still load byte for byte, and migrate."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.bundles import digest_b64
from harness.errors import CassetteError
from harness.header_names import VOLATILE_HEADERS
from harness.recording import cassette_yaml
from harness.recording.blobs import blob_dir_for, blob_filename
from harness.recording.cassette_file import decode_body, render_sse
from harness.recording.cassette_io import load_file, read_cassette, write_pairs
from harness.recording.interaction import Interaction
from harness.recording.vcr_format import KEY, VOLATILE_RESPONSE_HEADERS
from tests.recording._cassettes import (
    BUNDLE,
    BUNDLE_B64,
    FORMAT_1,
    FORMAT_1_ORIGIN,
    URL,
    compact,
    copy_format_1,
    edited,
    read_sse,
    write_yaml,
)

BLOB = "sha256:ad1a36e12496c8ca0d4bf9b32202035febde184eae985472349a58aad58a3210"


def test_libyaml_is_used() -> None:
    assert "CSafeLoader" in [cls.__name__ for cls in cassette_yaml._Loader.__mro__]
    assert "CSafeDumper" in [cls.__name__ for cls in cassette_yaml._Dumper.__mro__]


def test_the_committed_fixture_is_still_format_1() -> None:
    document = yaml.safe_load(FORMAT_1.read_text())
    assert document["harness"]["format"] == 1, (
        f"{FORMAT_1} must stay a format 1 cassette (`harness cassettes migrate` run over the repository "
        "rewrote it?): restore it from version control"
    )
    assert (FORMAT_1.parent / "_blobs" / blob_filename(BLOB)).is_file()


# -- the committed format 1 cassette -------------------------------------------------------------


def test_a_format_1_cassette_loads_with_its_exact_bytes() -> None:
    document = yaml.safe_load(FORMAT_1.read_text())
    loaded = load_file(FORMAT_1)
    assert (loaded.harness, loaded.owned) == (True, [True, True])
    assert loaded.recording == {**document["harness"], "format": 1}
    assert loaded.recording["recorded_against"] == FORMAT_1_ORIGIN
    assert [getattr(r, "_vlmrun_harness_owned", None) for r in loaded.requests] == [True, True]

    health, completion = loaded.interactions()
    assert health.label == "GET /v1/health -> 200"
    assert health.request.body == b""
    assert health.response.body == b'{"status":"ok"}'
    assert completion.label == "POST /v1/openai/chat/completions -> 200"

    sent = document["interactions"][1]["request"]["body"]["json"]
    sent["skills"][0]["source"]["data"] = base64.b64encode(
        (FORMAT_1.parent / "_blobs" / blob_filename(BLOB)).read_bytes()
    ).decode()
    assert completion.request.body == compact(sent).encode()  # the bundle back in place of its placeholder
    assert completion.response.body == compact(document["interactions"][1]["response"]["body"]["json"]).encode()
    for item in (health, completion):  # what the server said it sent is what replays
        assert item.response.headers["content-length"] == [str(len(item.response.body))]
    assert completion.request.headers["content-length"] == [str(len(completion.request.body))]
    assert completion.request.headers["authorization"] == ["<redacted>"]

    cassette = read_cassette(FORMAT_1)
    assert cassette.metadata["format"] == 1
    assert cassette.metadata["description_sha256"] == document["harness"]["description_sha256"]
    assert [i.vlmrun for i in cassette.interactions] == [True, True]


def test_migrating_with_write_pairs_gives_format_2_with_the_same_bytes(tmp_path: Path) -> None:
    old = load_file(FORMAT_1)
    target = tmp_path / "cassettes" / "migrated.yaml"
    write_pairs(target, list(zip(old.requests, old.responses, strict=True)), old.owned, metadata=old.metadata)

    document = yaml.safe_load(target.read_text())
    assert "harness" not in document
    assert list(document) == ["version", KEY, "interactions"]
    stamp = document[KEY]
    assert stamp["format"] == 2
    facts = ("description_sha256", "harness_version", "recorded_against", "server", "client_stack", "recorded_at")
    assert {k: stamp[k] for k in facts} == {k: old.recording[k] for k in facts}  # the recording's facts, not today's
    assert all(KEY in node["response"] for node in document["interactions"])
    assert f"$blob:{BLOB}" in document["interactions"][1]["request"]["body"]
    assert (blob_dir_for(target) / blob_filename(BLOB)).read_bytes() == (
        FORMAT_1.parent / "_blobs" / blob_filename(BLOB)
    ).read_bytes()

    again = load_file(target)
    assert again.owned == old.owned

    def kept(headers: dict[str, list[str]], dropped: frozenset[str]) -> dict[str, list[str]]:
        return {k: v for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower()) if k.lower() not in dropped}

    def meaning(i: Interaction) -> tuple[object, ...]:
        return (
            i.request.method,
            i.request.uri,
            kept(i.request.headers, VOLATILE_HEADERS),
            i.request.body,
            i.response.status,
            kept(i.response.headers, VOLATILE_RESPONSE_HEADERS),
            i.response.body,
        )

    # Methods, URIs, statuses and bytes; headers less those that vary by machine, client or clock.
    assert [meaning(i) for i in again.interactions()] == [meaning(i) for i in old.interactions()]
    assert again.recording == {**old.recording, "format": 2}


def test_a_format_1_cassette_whose_blob_is_missing_names_it(tmp_path: Path) -> None:
    path = copy_format_1(tmp_path)
    blob = blob_dir_for(path) / blob_filename(BLOB)
    blob.unlink()
    with pytest.raises(CassetteError) as info:
        read_cassette(path)
    assert all(part in str(info.value) for part in (str(path), "interaction 1", str(blob), "missing"))


# -- format 1 bodies -----------------------------------------------------------------------------

EVENTS: list[dict[str, Any]] = [
    {"event": "e", "id": "1", "json": {"a": [1]}, "retry": 5},
    {"data": "x\ny"},
    {"id": "2"},
]


def test_render_writes_event_id_data_retry_in_order() -> None:
    rendered = render_sse(EVENTS)
    assert rendered == 'event: e\nid: 1\ndata: {"a":[1]}\nretry: 5\n\ndata: x\ndata: y\n\nid: 2\n\n'
    assert read_sse(rendered.encode()) == [
        {"type": "e", "data": '{"a":[1]}', "id": "1", "retry": 5},
        {"type": "message", "data": "x\ny", "id": "1", "retry": 5},
    ]


@pytest.mark.parametrize(
    ("node", "raw"),
    [
        (None, b""),
        ({"json": {"id": "r", "t": "Grüße"}}, compact({"id": "r", "t": "Grüße"}).encode()),
        ({"json": "just a string"}, b'"just a string"'),
        ({"json": None}, b"null"),
        ({"events": EVENTS}, render_sse(EVENTS).encode()),
        ({"text": '{"a": 1}\n'}, b'{"a": 1}\n'),
        ({"base64": base64.b64encode(b"\x89PNG\x00\xff").decode()}, b"\x89PNG\x00\xff"),
        ({"string": "vcrpy's own"}, b"vcrpy's own"),
        ("a plain string", b"a plain string"),
        (b"\xff\x00", b"\xff\x00"),
    ],
)
def test_format_1_bodies_decode_to_their_bytes(node: Any, raw: bytes) -> None:
    assert decode_body(node) == raw


def test_placeholders_outside_bundle_slots_are_left_alone() -> None:
    placeholder = f"$blob:{BLOB}"
    body = {"skills": [{"bundle": placeholder}], "messages": [{"content": placeholder}]}
    fetched = BUNDLE_B64.encode("ascii")
    out = json.loads(decode_body({"json": body}, fetch=lambda digest: fetched if digest == BLOB else b"?"))
    assert out == {"skills": [{"bundle": BUNDLE_B64}], "messages": [{"content": placeholder}]}


def test_a_hand_written_format_1_cassette_loads(tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "old.yaml"
    (path.parent / "_blobs").mkdir(parents=True)
    digest = digest_b64(BUNDLE_B64)
    (path.parent / "_blobs" / blob_filename(digest)).write_bytes(BUNDLE)
    request = {"model": "m", "skills": [{"bundle": f"$blob:{digest}"}]}
    write_yaml(
        path,
        {
            "version": 1,
            "harness": {"format": 1, "recorded_at": "2020-01-01T00:00:00Z"},
            "metadata": {"suite": "old"},
            "interactions": [
                {
                    "request": {"method": "post", "uri": URL, "headers": {"a": "1"}, "body": {"json": request}},
                    "response": {
                        "status": {"code": 200, "message": "OK"},
                        "headers": {"content-type": ["text/event-stream"]},
                        "body": {"events": EVENTS},
                    },
                }
            ],
        },
    )
    loaded = load_file(path)
    assert loaded.metadata == {"suite": "old", KEY: {"format": 1, "recorded_at": "2020-01-01T00:00:00Z"}}
    (item,) = loaded.interactions()
    assert (item.request.method, item.request.headers) == ("POST", {"a": ["1"]})
    assert json.loads(item.request.body) == {"model": "m", "skills": [{"bundle": BUNDLE_B64}]}
    assert item.response.body == render_sse(EVENTS).encode()
    assert read_cassette(path).user_metadata == {"suite": "old"}


# -- malformed format 1 documents ----------------------------------------------------------------

VALID: dict[str, Any] = {
    "version": 1,
    "harness": {"format": 1},
    "interactions": [
        {
            "request": {"method": "GET", "uri": URL, "headers": {}},
            "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"json": {}}},
        }
    ],
}


def _broken(**paths: Any) -> dict[str, Any]:
    return edited(VALID, **paths)


def test_the_valid_format_1_document_loads(tmp_path: Path) -> None:
    (item,) = read_cassette(write_yaml(tmp_path / "c.yaml", VALID)).interactions
    assert (item.request.method, item.response.status, item.response.body) == ("GET", 200, b"{}")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (_broken(harness="x"), "'harness' must be a mapping"),
        (_broken(harness__format=2), "written by a newer harness (harness.format 2"),
        (_broken(harness__format=None), "written by a newer harness"),
        (_broken(harness__format=0), "unknown harness.format 0"),
        (_broken(harness__format="1"), "unknown harness.format '1'"),
        (_broken(version=2), "unsupported vcrpy cassette version 2"),
        (_broken(metadata=[1]), "'metadata' must be a mapping"),
        (_broken(interactions=None), "no 'interactions'"),
        (_broken(interactions__0="just text"), "interaction 0: interaction must be a mapping"),
        (_broken(interactions__0__request=None), "interaction 0: interaction has no 'request'"),
        (_broken(interactions__0__response=None), "interaction 0: interaction has no 'response'"),
        (_broken(interactions__0__request__method=None), "interaction 0: request has no 'method'"),
        (_broken(interactions__0__request__uri=None), "interaction 0: request has no 'uri'"),
        (_broken(interactions__0__response__status=None), "interaction 0: response has no 'status'"),
        (_broken(interactions__0__response__status={"code": "two hundred"}), "status code must be an integer"),
        (_broken(interactions__0__response__body={"yaml": "x"}), "interaction 0: unknown body kind 'yaml'"),
        (_broken(interactions__0__response__body={"json": 1, "text": "x"}), "unknown body kind"),
        (_broken(interactions__0__response__body={"base64": "%%%"}), "not valid base64"),
        (_broken(interactions__0__response__body={"text": 5}), "'text' must be a string"),
        (_broken(interactions__0__response__body={"events": [{"data": "x", "json": 1}]}), "events[0]"),
        (_broken(interactions__0__response__body={"events": [{"retry": "x"}]}), "events[0].retry must be a int"),
        (_broken(interactions__0__response__body={"events": ["x"]}), "events[0] must be a mapping"),
        (_broken(interactions__0__response__body={"events": {}}), "'events' must be a list"),
        (_broken(interactions__0__response__headers=["x"]), "'headers' must be a mapping"),
        (_broken(interactions__0__request__headers={"a": [{"b": 1}]}), "header 'a' must be a string"),
    ],
)
def test_malformed_format_1_cassettes_raise_naming_the_file(tmp_path: Path, document: Any, expected: str) -> None:
    path = write_yaml(tmp_path / "cassettes" / "old.yaml", document)
    with pytest.raises(CassetteError) as info:
        read_cassette(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
