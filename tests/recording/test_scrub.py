from __future__ import annotations

import json

from vcr.request import Request

from harness.recording.scrub import REDACTED, scrub_body, scrub_uri, scrub_vcr_request
from harness.recording.vcr_format import encode_response

KEY = "sk-live-0123456789abcdefghij"


def test_request_headers_query_and_body_are_scrubbed() -> None:
    body = json.dumps({"messages": [], "api_key": KEY, "metadata": {"token": KEY, "note": "keep"}}).encode()
    request = Request(
        "POST",
        f"https://user:pw@api.vlm.run/v1/openai/chat/completions?key={KEY}&limit=3",
        body,
        {"Authorization": f"Bearer {KEY}", "X-Api-Key": KEY, "Cookie": "s=1", "content-type": "application/json"},
    )
    out = scrub_vcr_request(request)
    text = f"{out.uri} {out.headers} {out.body!r}"
    assert KEY not in text
    assert "pw" not in out.uri
    assert "limit=3" in out.uri
    assert json.loads(out.body)["metadata"] == {"token": REDACTED, "note": "keep"}
    assert out.headers["content-type"] == "application/json"


def test_values_that_look_like_keys_are_scrubbed_under_any_name() -> None:
    assert json.loads(scrub_body(json.dumps({"note": f"Bearer {KEY}", "x": KEY}).encode()) or b"") == {
        "note": REDACTED,
        "x": REDACTED,
    }


def test_usage_token_counts_are_not_secrets() -> None:
    body = json.dumps({"usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}, "max_tokens": 9})
    assert scrub_body(body) == body


def test_response_set_cookie_is_scrubbed() -> None:
    response = {"status": {"code": 200}, "headers": {"Set-Cookie": ["sid=abc"]}, "body": {"string": b"{}"}}
    stored, _ = encode_response(response)  # VLM Run responses are scrubbed as they are written
    assert stored["headers"]["Set-Cookie"] == [REDACTED]


def test_uris_without_secrets_are_untouched() -> None:
    uri = "http://127.0.0.1:8000/v1/skills?limit=5&order_by=name"
    assert scrub_uri(uri) == uri


def test_non_json_bodies_pass_through() -> None:
    assert scrub_body(b"\x00\x01") == b"\x00\x01"
    assert scrub_body(None) is None
