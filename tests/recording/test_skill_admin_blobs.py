"""Bundles in a skill's create and update bodies (top-level `source.data`) go to `_blobs/` like inline skills'."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml

from harness.bundles import build_bundle, digest_b64, encode_bundle
from harness.recording.blobs import blob_filename
from harness.recording.cassette_io import read_cassette, save_interactions
from harness.recording.configure import configure_vcr
from harness.recording.scope import Scope
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread
from tests.recording._cassettes import compact, interaction

ORIGIN = "http://127.0.0.1:43125"
SKILL_MD = "---\nname: receipts\ndescription: {description}\n---\nRead receipts.\n"
FIRST = build_bundle({"SKILL.md": SKILL_MD.format(description="Reads receipts")})
SECOND = build_bundle({"SKILL.md": SKILL_MD.format(description="Reads receipts, v2")})
KEY = "admin-blobs-key"


def _source(zip_bytes: bytes, **fields: Any) -> dict[str, Any]:
    return {**fields, "source": {"type": "base64", "media_type": "application/zip", "data": encode_bundle(zip_bytes)}}


def _stored_bodies(path: Path) -> list[Any]:
    return [json.loads(node["request"]["body"]) for node in yaml.safe_load(path.read_text())["interactions"]]


def test_create_and_update_bundles_are_stored_once_as_blobs_and_restored_byte_for_byte(tmp_path: Path) -> None:
    create, update = _source(FIRST, name="receipts"), _source(SECOND, description="v2")
    again = _source(FIRST)  # the first zip sent again: the same blob
    path = save_interactions(
        tmp_path / "cassettes" / "c.yaml",
        [
            interaction(create, uri=f"{ORIGIN}/v1/skills/create"),
            interaction(update, uri=f"{ORIGIN}/v1/skills/receipts/update"),
            interaction(again, uri=f"{ORIGIN}/v1/skills/receipts/update"),
        ],
    )
    text = path.read_text()
    assert encode_bundle(FIRST) not in text
    assert encode_bundle(SECOND) not in text
    first, second = digest_b64(encode_bundle(FIRST)), digest_b64(encode_bundle(SECOND))
    assert [body["source"]["data"] for body in _stored_bodies(path)] == [
        f"$blob:{first}",
        f"$blob:{second}",
        f"$blob:{first}",
    ]
    blobs = tmp_path / "cassettes" / "_blobs"
    assert sorted(p.name for p in blobs.iterdir()) == sorted([blob_filename(first), blob_filename(second)])
    assert (blobs / blob_filename(first)).read_bytes() == FIRST
    loaded = read_cassette(path).interactions
    assert [item.request.body for item in loaded] == [compact(b).encode() for b in (create, update, again)]


def test_a_source_elsewhere_stays_inline(tmp_path: Path) -> None:
    """The operation decides: a top-level `source` in a lookup or a chat completion is no bundle slot."""
    body = _source(FIRST)
    path = save_interactions(
        tmp_path / "cassettes" / "c.yaml",
        [
            interaction(body, uri=f"{ORIGIN}/v1/skills/lookup"),
            interaction(body, uri=f"{ORIGIN}/v1/openai/chat/completions"),
        ],
    )
    assert _stored_bodies(path) == [body, body]
    assert not (tmp_path / "cassettes" / "_blobs").exists()


@pytest.fixture
def server() -> Iterator[str]:
    with serve_in_thread(create_app(config=ServerConfig(api_key=KEY))) as running:
        yield running.url


def _create_then_update(client: httpx.Client, base: str) -> list[httpx.Response]:
    created = client.post(f"{base}/v1/skills/create", json=_source(FIRST))
    assert created.status_code == 200, created.text
    updated = client.post(f"{base}/v1/skills/{created.json()['id']}/update", json=_source(SECOND))
    assert updated.status_code == 200, updated.text
    return [created, updated]


def _offline(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"replay must not reach the transport: {request.url}")


def test_vcrpy_records_create_and_update_with_blobs_and_replays_them(tmp_path: Path, server: str) -> None:
    cassette = tmp_path / "cassettes" / "test_admin.yaml"
    configured = vcr.VCR(record_mode="once")
    configure_vcr(configured, Scope.build(base_urls=[server]))
    auth = {"Authorization": f"Bearer {KEY}"}
    with configured.use_cassette(str(cassette)), httpx.Client(headers=auth) as client:
        live = _create_then_update(client, server)
        sent = [r.request.content for r in live]
    text = cassette.read_text()
    assert encode_bundle(FIRST) not in text
    assert encode_bundle(SECOND) not in text
    digests = [digest_b64(encode_bundle(FIRST)), digest_b64(encode_bundle(SECOND))]
    assert [body["source"]["data"] for body in _stored_bodies(cassette)] == [f"$blob:{d}" for d in digests]

    replayer = vcr.VCR(record_mode="none")
    configure_vcr(replayer, Scope.build(base_urls=[server]))
    with (
        replayer.use_cassette(str(cassette)) as tape,
        httpx.Client(transport=httpx.MockTransport(_offline), headers=auth) as client,
    ):
        replayed = _create_then_update(client, server)
        assert tape.play_count == 2
    assert [r.content for r in replayed] == [r.content for r in live]
    assert [r.request.content for r in replayed] == sent
    assert [i.request.body for i in read_cassette(cassette).interactions] == sent  # the exact bytes, restored
