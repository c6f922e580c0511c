"""Hostile request bodies at the reference server: a 4xx whose `loc` names the field, never a 5xx.

Already covered in tests/reference/test_app.py (not repeated): not-JSON, a non-object body,
missing/empty `messages`, wrong `stream` type, an unknown toolset, `[` * 100,000 and 500-deep
`metadata`, and bad bundles (not base64, URL-safe, not a zip, no SKILL.md, zip-slip,
absolute path, broken YAML, no description, a ratio bomb, the empty string). This module
adds the bundle variants below, numbers and text JSON allows but the API cannot take,
huge-but-valid bodies, unknown fields, and the 100 MB bundle in-process and over loopback.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from starlette.testclient import TestClient

from harness.contract import load_contract
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread
from tests.hardening._zips import (
    SKILL,
    alias_bomb_skill_md,
    b64,
    many_mib_entries,
    overlapping_entries,
    patch_sizes,
    raw_zip,
    symlink,
)

KEY = "hostile-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
COMPLETIONS = "/v1/openai/chat/completions"
MESSAGES = [{"role": "user", "content": "Extract."}]
DATA_LOC = ["body", "skills", 0, "source", "data"]
Response = httpx.Response | httpx2.Response  # TestClient speaks httpx2 here, the loopback test httpx


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # A crash must show up as the 500 a client would get, not as an exception in the test.
    with TestClient(create_app(config=ServerConfig(api_key=KEY)), raise_server_exceptions=False) as c:
        yield c


def post(client: TestClient, body: Any) -> Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(COMPLETIONS, headers={**AUTH, "content-type": "application/json"}, content=content)


def rejected(response: Response, loc: list[Any], kind: str | None = None) -> dict[str, Any]:
    """The 422 names `loc` (with `kind` when given) and has the API's error shape."""
    assert response.status_code == 422, response.text[:500]
    payload = response.json()
    assert load_contract().violations("HTTPValidationError", payload) == []
    matches = [d for d in payload["detail"] if d["loc"] == loc]
    assert matches, f"no detail at {loc}: {payload['detail']}"
    if kind is not None:
        assert matches[0]["type"] == kind, matches[0]
    found: dict[str, Any] = matches[0]
    return found


def inline(data: str) -> dict[str, Any]:
    return {"messages": MESSAGES, "skills": [{"type": "inline", "source": {"data": data}}]}


BUNDLES = {
    "symlink": (b64(raw_zip([SKILL, symlink("assets/link", b"../../etc/shadow")])), "bundle.symlink"),
    "many_small_entries_bomb": (b64(many_mib_entries(101)), "bundle.too_large_uncompressed"),
    "declared_1GiB": (
        b64(patch_sizes(raw_zip([SKILL, ("big.bin", b"x" * 10)]), "big.bin", usize=1 << 30)),
        "bundle.too_large_uncompressed",
    ),
    "overlapping_entries": (b64(overlapping_entries(20)), "bundle.corrupt"),
    "empty_zip": (b64(raw_zip([])), "bundle.missing_skill_md"),
    "yaml_alias_bomb": (b64(raw_zip([("SKILL.md", alias_bomb_skill_md())])), "bundle.missing_name"),
    # These two fail `format: byte` first; the 422 words them as the bundle errors they are.
    "mime_wrapped_base64": (base64.encodebytes(raw_zip([SKILL])).decode(), "bundle.invalid_base64"),
    "data_url": ("data:application/zip;base64," + b64(raw_zip([SKILL])), "bundle.invalid_base64"),
    "bad_padding_bits": ("UEr=", "bundle.invalid_base64"),  # valid to `format: byte`, not canonical
}


@pytest.mark.parametrize("case", sorted(BUNDLES))
def test_hostile_bundles_are_422_naming_source_data(client: TestClient, case: str) -> None:
    data, kind = BUNDLES[case]
    detail = rejected(post(client, inline(data)), DATA_LOC, kind)
    assert len(detail["msg"]) < 1000


def test_a_100_mb_bundle_is_422_in_process(client: TestClient) -> None:
    detail = rejected(post(client, inline("A" * 100_000_000)), DATA_LOC, "bundle.too_large")
    assert "over the limit of 70254592" in detail["msg"]


def test_a_100_mb_bundle_is_422_over_loopback() -> None:
    """The same through uvicorn and a real socket: the body streams in, the answer is a 422."""
    body = json.dumps(inline("A" * 100_000_000)).encode()
    with serve_in_thread(create_app(config=ServerConfig(api_key=KEY))) as running:
        response = httpx.post(
            running.url + COMPLETIONS, content=body, headers={**AUTH, "content-type": "application/json"}, timeout=60
        )
    rejected(response, DATA_LOC, "bundle.too_large")


def test_a_body_over_the_byte_cap_is_422_naming_the_body() -> None:
    app = create_app(config=ServerConfig(api_key=KEY, max_body_bytes=1_000_000))
    with TestClient(app, raise_server_exceptions=False) as small:
        rejected(post(small, {"messages": [{"role": "user", "content": "x" * 2_000_000}]}), ["body"], "too_large")


def _nest(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        # Found by this module: int() refuses 4,300+ digits inside json.loads (was a 500).
        (b'{"messages":[{"role":"user","content":"x"}],"max_tokens":' + b"9" * 5000 + b"}", ["body"], "json_invalid"),
        (b'{"messages":[{"role":"user","content":"x"}],"temperature":NaN}', ["body", "temperature"], None),
        (b'{"messages":[{"role":"user","content":"x"}],"temperature":-Infinity}', ["body", "temperature"], None),
        (b'{"messages":[{"role":"user","content":"caf\xe9"}]}', ["body"], "json_invalid"),  # Latin-1
        (b"messages=hi&model=x", ["body"], "json_invalid"),  # a form post
    ],
    ids=["5000-digit-int", "nan", "infinity", "latin-1", "form"],
)
def test_numbers_and_bytes_json_allows_but_the_api_cannot_take(
    client: TestClient, body: bytes, loc: list[Any], kind: str | None
) -> None:
    rejected(post(client, body), loc, kind)


LONE = '"\\ud800"'  # JSON's escape for a lone surrogate: valid JSON, not valid Unicode


@pytest.mark.parametrize(
    ("template", "loc"),
    [
        ('{"messages":[{"role":"user","content":%s}]}', ["body", "messages", 0, "content"]),
        ('{"model":%s,"messages":[{"role":"user","content":"x"}]}', ["body", "model"]),
        ('{"session_id":%s,"messages":[{"role":"user","content":"x"}]}', ["body", "session_id"]),
        (
            '{"messages":[{"role":"user","content":"x"}],"skills":[{"skill_name":%s}]}',
            ["body", "skills", 0, "skill_name"],
        ),
        ('{"messages":[{"role":"user","content":"x"}],"skills":[{"type":"inline","source":{"data":%s}}]}', DATA_LOC),
        ('{"messages":[{"role":"user","content":"x"}],"metadata":{%s:"v"}}', ["body", "metadata", "\\ud800"]),
    ],
    ids=["content", "model", "session_id", "skill_name", "bundle", "key"],
)
def test_lone_surrogates_are_422_naming_the_field(client: TestClient, template: str, loc: list[Any]) -> None:
    # Found by this module: jsonschema-rs and the answer's encoder raised on them (500s).
    rejected(post(client, (template % LONE).encode()), loc, "string_unicode")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32-le"])
def test_lone_surrogates_in_utf16_and_utf32_bodies_too(client: TestClient, encoding: str) -> None:
    # json.loads detects UTF-16/32, where the escape's bytes are spread over NULs.
    body = '{"session_id":' + LONE + ',"messages":[{"role":"user","content":"x"}]}'
    rejected(post(client, body.encode(encoding)), ["body", "session_id"], "string_unicode")


def test_an_escaped_emoji_is_fine(client: TestClient) -> None:
    body = b'{"messages":[{"role":"user","content":"\\ud83d\\ude00 \\\\ud800"}]}'  # a pair, and a literal backslash
    assert post(client, body).status_code == 200


def test_a_hundred_thousand_messages_are_answered_and_one_bad_one_is_named(client: TestClient) -> None:
    messages = [{"role": "user", "content": f"m{i}"} for i in range(100_000)]
    ok = post(client, {"messages": messages})
    assert ok.status_code == 200
    assert load_contract().violations("ChatCompletion", ok.json()) == []
    messages[99_999] = {"role": "robot", "content": "x"}
    rejected(post(client, {"messages": messages}), ["body", "messages", 99_999, "role"], "enum")


def test_a_50_mb_message_is_answered(client: TestClient) -> None:
    response = post(client, {"messages": [{"role": "user", "content": "x" * 50_000_000}]})
    assert response.status_code == 200
    assert response.json()["usage"]["prompt_tokens"] == 12_500_001


def test_a_50_mb_message_streams(client: TestClient) -> None:
    response = post(client, {"messages": [{"role": "user", "content": "x" * 50_000_000}], "stream": True})
    assert response.status_code == 200
    assert response.text.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"messages": MESSAGES, "skills": [{"skill_name": _nest(60)}]}, ["body", "skills", 0, "skill_name"], None),
        ({"messages": [{"role": "user", "content": [_nest(60)]}]}, ["body", "messages", 0, "content"], None),
        ({"messages": MESSAGES, "metadata": _nest(64)}, ["body"], "too_deep"),
    ],
    ids=["deep-skill-name", "deep-content", "over-the-depth-limit"],
)
def test_deep_json_is_named_where_it_is(client: TestClient, body: Any, loc: list[Any], kind: str | None) -> None:
    detail = rejected(post(client, body), loc, kind)
    assert len(detail["msg"]) < 1000


@pytest.mark.parametrize(
    ("skill", "loc"),
    [
        ({"skill_name": "invoice-extraction", "skil_version": "latest"}, ["body", "skills", 0, "skil_version"]),
        (
            {"type": "inline", "source": {"data": b64(raw_zip([SKILL])), "sha": "x"}},
            ["body", "skills", 0, "source", "sha"],
        ),
        ({"type": "inline", "source": {"data": b64(raw_zip([SKILL]))}, "files": []}, ["body", "skills", 0, "files"]),
    ],
    ids=["reference", "source", "inline"],
)
def test_unknown_fields_inside_skills_are_422_naming_them(client: TestClient, skill: Any, loc: list[Any]) -> None:
    rejected(post(client, {"messages": MESSAGES, "skills": [skill]}), loc, "extra_forbidden")


def test_unknown_fields_at_the_top_level_and_in_messages_are_ignored(client: TestClient) -> None:
    # README assumption 3: the top level stays open, like OpenAI's; skills are closed.
    body = {"messages": [{"role": "user", "content": "x", "x_trace": 1}], "x_new_openai_field": {"a": [1]}}
    assert post(client, body).status_code == 200
