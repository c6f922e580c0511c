"""In-process capture from the real SDKs."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest

from harness.snapshots import Capture, openai_client, vlmrun_completions
from harness.snapshots.capture import from_httpx, openai_transport_module

MODEL = "vlmrun-orion-1:auto"
HI = [{"role": "user", "content": "hi"}]


def test_the_transport_is_the_one_the_installed_openai_sends_with() -> None:
    expected = "httpx2" if int(openai.__version__.split(".")[0]) >= 3 else "httpx"
    assert openai_transport_module().__name__ == expected


def test_vlmrun_builds_its_client_with_ours_and_the_constructor_is_restored() -> None:
    before = openai.OpenAI
    capture = Capture()
    completions = vlmrun_completions(capture)
    assert openai.OpenAI is before
    answer = completions.create(model=MODEL, messages=HI, skills=[{"skill_id": "x"}])
    assert answer.choices[0].message.content == "captured"
    assert capture.last.path == "/v1/openai/chat/completions"
    assert capture.last.json()["skills"] == [{"skill_id": "x"}]


def test_async_clients_capture_too() -> None:
    capture = Capture()

    async def send() -> None:
        await openai_client(capture, asynchronous=True).chat.completions.create(model=MODEL, messages=HI)
        await vlmrun_completions(capture, asynchronous=True).create(
            model=MODEL, messages=HI, skills=[{"skill_id": "y"}]
        )

    asyncio.run(send())
    assert [dict(r.headers)["x-stainless-async"] for r in capture.requests] == ["async:asyncio"] * 2
    assert capture.last.json()["skills"] == [{"skill_id": "y"}]


def test_a_streamed_call_gets_an_event_stream() -> None:
    capture = Capture()
    chunks = openai_client(capture).chat.completions.create(model=MODEL, messages=HI, stream=True)
    assert [c.choices[0].delta.content for c in chunks] == ["captured"]


def test_no_request_is_an_assertion_not_an_index_error() -> None:
    with pytest.raises(AssertionError, match="sent no request"):
        _ = Capture().last


def test_from_httpx_keeps_query_and_lowercases_headers() -> None:
    captured = from_httpx(httpx.Request("POST", "http://h/v1/x?a=1&b=2", headers={"X-Y": "z"}, content=b"{}"))
    assert captured.query == (("a", "1"), ("b", "2"))
    assert ("x-y", "z") in captured.headers
    assert captured.json() == {}
