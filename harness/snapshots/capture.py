"""Requests captured in-process from the real SDKs, with no server and no network.

A snapshot must show what a client really puts on the wire, so the clients here are the
real vlmrun and openai-python objects; only their HTTP transport is swapped for a
`MockTransport` that records the request and answers like the API. openai-python 3.x
sends through `httpx2`, 1.x/2.x through `httpx`: the transport is taken from whichever
the installed openai uses.

Each request is checked against the description in use (`contract.load_contract()`, the
project's own with its overlays) as it is captured. The SDKs turn any exception raised in
a transport into their own connection error, so an invalid request is answered as usual
and its `ConformanceFailure`, naming each field, is raised where the test reads the
capture (`last`, `requests`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from harness.contract import Contract, load_contract
from harness.errors import ConformanceFailure
from harness.extras import missing_extra
from harness.snapshots.captured import CapturedRequest as CapturedRequest  # re-exported: its home before
from harness.snapshots.captured import from_httpx as from_httpx
from harness.snapshots.request_check import invalid_request, request_violations

BASE_URL = "http://vlmrun.capture/v1"
CAPTURE_KEY = "capture-key"


def _answer(stream: bool) -> tuple[str, bytes]:
    message = {"role": "assistant", "content": "captured"}
    base = {"id": "chatcmpl-capture", "created": 0, "model": "vlmrun-orion-1:auto", "session_id": "capture"}
    if not stream:
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return "application/json", json.dumps({**base, "object": "chat.completion", "choices": [choice]}).encode()
    delta = {"index": 0, "delta": message, "finish_reason": None}
    chunk = {**base, "object": "chat.completion.chunk", "choices": [delta]}
    return "text/event-stream", f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()


class Capture:
    """A transport handler: records each request, checks it, answers 200 like the API would.

    `allow_invalid=True` keeps requests the description does not allow (a test of what a
    client sends when misused); `contract` checks against another description than the one
    in use.
    """

    def __init__(self, *, allow_invalid: bool = False, contract: Contract | None = None) -> None:
        self.allow_invalid = allow_invalid
        self.contract = contract
        self._requests: list[CapturedRequest] = []
        self._failures: list[ConformanceFailure] = []

    def record(self, request: Any) -> CapturedRequest:
        captured = from_httpx(request)
        self._requests.append(captured)
        if not self.allow_invalid:
            contract = self.contract or load_contract()
            violations = request_violations(captured, contract)
            if violations:
                self._failures.append(invalid_request(captured, violations, contract))
        return captured

    def handler(self, hx: ModuleType) -> Any:
        """A `MockTransport` handler for the `httpx`-like module `hx`."""

        def handle(request: Any) -> Any:
            captured = self.record(request)
            if captured.path.endswith("/health"):
                return hx.Response(200, json={"status": "ok"})
            try:
                parsed = captured.json()
            except ValueError:  # not JSON: answered like any other body, judged by `record`
                parsed = None
            media_type, content = _answer(isinstance(parsed, dict) and parsed.get("stream") is True)
            return hx.Response(200, content=content, headers={"content-type": media_type})

        return handle

    def _raise_failure(self) -> None:
        if self._failures:
            raise self._failures[0]

    @property
    def requests(self) -> list[CapturedRequest]:
        """Every request captured, in order; raises the first invalid one's `ConformanceFailure`."""
        self._raise_failure()
        return self._requests

    @property
    def last(self) -> CapturedRequest:
        """The request captured last; raises the first invalid one's `ConformanceFailure`."""
        self._raise_failure()
        if not self._requests:
            raise AssertionError("the client sent no request")
        return self._requests[-1]


def _openai() -> ModuleType:
    try:
        return importlib.import_module("openai")
    except ImportError as exc:
        raise missing_extra("vlmrun", "capturing SDK requests", modules=["openai"]) from exc


def openai_transport_module() -> ModuleType:
    """`httpx2` for openai>=3, else `httpx`: the module the installed openai sends with."""
    major = int(_openai().__version__.split(".", 1)[0])
    return importlib.import_module("httpx2" if major >= 3 else "httpx")


def _http_client(capture: Capture, *, asynchronous: bool) -> Any:
    hx = openai_transport_module()
    transport = hx.MockTransport(capture.handler(hx))
    return hx.AsyncClient(transport=transport) if asynchronous else hx.Client(transport=transport)


def openai_client(capture: Capture, *, asynchronous: bool = False, base_url: str = BASE_URL) -> Any:
    """A real `openai.OpenAI` (or `AsyncOpenAI`) on `<base_url>/openai` whose requests land in `capture`."""
    openai = _openai()
    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    http_client = _http_client(capture, asynchronous=asynchronous)
    return cls(api_key=CAPTURE_KEY, base_url=f"{base_url}/openai", max_retries=0, http_client=http_client)


@contextlib.contextmanager
def _openai_constructors(capture: Capture) -> Iterator[None]:
    """vlmrun builds its own openai client; hand it ours through the public constructor.

    vlmrun resolves `openai.OpenAI` at call time, so replacing the module attribute for the
    duration of the build is enough, and nothing private of vlmrun's is touched.
    """
    openai: Any = _openai()
    originals = openai.OpenAI, openai.AsyncOpenAI

    def build(cls: Any, asynchronous: bool) -> Any:
        def make(*args: Any, **kwargs: Any) -> Any:
            kwargs["http_client"] = _http_client(capture, asynchronous=asynchronous)
            return cls(*args, **kwargs)

        return make

    openai.OpenAI, openai.AsyncOpenAI = build(originals[0], False), build(originals[1], True)
    try:
        yield
    finally:
        openai.OpenAI, openai.AsyncOpenAI = originals


def vlmrun_completions(capture: Capture, *, asynchronous: bool = False, base_url: str = BASE_URL) -> Any:
    """The real `VLMRun(...).agent.completions` (or `async_completions`) sending into `capture`.

    Built with `require_api_key=False`, which skips the constructor's `GET /health` (sent
    with `requests`, outside any httpx transport); the completions call itself is the SDK's own.
    """
    try:
        from vlmrun.client import VLMRun
    except ImportError as exc:
        raise missing_extra("vlmrun", "capturing vlmrun requests", modules=["vlmrun"]) from exc
    client = VLMRun(api_key=CAPTURE_KEY, base_url=base_url, max_retries=0, require_api_key=False)
    with _openai_constructors(capture):
        return client.agent.async_completions if asynchronous else client.agent.completions
