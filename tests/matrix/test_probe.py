"""The standalone probe: stdlib only, a loopback capture server, every path called once."""

from __future__ import annotations

import ast
import http.client
import json
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

import harness.wire
from harness.docs_examples import seed_examples
from harness.matrix import probe
from harness.matrix.evaluate import probe_payload
from harness.matrix.long_requests import Seen, long_request_server

PROBE = Path(probe.__file__)


def test_the_probe_imports_only_the_standard_library() -> None:
    roots = set()
    for node in ast.walk(ast.parse(PROBE.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    # vlmrun is imported lazily, inside the stack being probed
    assert roots - {"__future__", "vlmrun"} <= set(sys.stdlib_module_names)


@pytest.fixture
def capture() -> Iterator[tuple[probe.Capture, int]]:
    cap = probe.Capture()
    server = ThreadingHTTPServer(("127.0.0.1", 0), probe._handler(cap))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cap, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_capture_server_answers_health_and_records_raw_and_chunked_bodies(capture: tuple[probe.Capture, int]) -> None:
    cap, port = capture
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/v1/health")
    health = conn.getresponse()
    assert (health.status, json.loads(health.read())) == (200, {"status": "ok"})
    conn.request("POST", "/v1/openai/chat/completions", body=b'{"a": 1}', headers={"content-type": "application/json"})
    reply = conn.getresponse()
    assert reply.status == 200
    assert json.loads(reply.read())["object"] == "chat.completion"
    conn.request("POST", "/v1/openai/chat/completions", body=iter([b'{"b":', b"2}"]), encode_chunked=True)
    conn.getresponse().read()
    conn.request("POST", "/v1/other", body=b"{}")
    assert conn.getresponse().status == 404
    assert cap.take() == [
        {"path": "/v1/openai/chat/completions", "body": '{"a": 1}'},
        {"path": "/v1/openai/chat/completions", "body": '{"b":2}'},
    ]
    assert cap.take() == []


def test_run_in_this_environment_captures_every_path_and_shuts_the_server_down() -> None:
    """The project environment has vlmrun 0.9.2 on openai 3.x: every path sends exactly once."""
    request = {**probe_payload(seed_examples()), "helper": harness.wire.__file__}
    report = probe.run(request)
    assert report["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert report["features"] == {
        "vlmrun": True,
        "agent_skill": True,
        "skills_kwarg": True,
        "dump_has_version": False,
        "openai": True,
    }
    assert len(report["cells"]) == len(seed_examples()) * len(probe.PATHS)
    for cell in report["cells"]:
        assert (cell["outcome"], cell["error"], len(cell["posts"])) == ("sent", None, 1), cell
        assert cell["posts"][0]["path"] == "/v1/openai/chat/completions"
    assert not [t for t in threading.enumerate() if "serve_forever" in t.name]
    single = {c["path"]: json.loads(c["posts"][0]["body"]) for c in report["cells"] if c["example"] == "single"}
    assert single["vlmrun-objects"]["skills"] == [{"skill_name": "invoice-extraction"}]
    assert single["vlmrun-objects-helper"]["skills"] == single["vlmrun-dict"]["skills"]


def test_a_failing_client_is_recorded_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    request = {**probe_payload(seed_examples()[:1]), "helper": harness.wire.__file__}

    def broken(self: probe.Stack) -> object:
        raise ConnectionError("no route")

    monkeypatch.setattr(probe.Stack, "vlmrun_completions", broken)
    cells = {c["path"]: c for c in probe.run(request)["cells"]}
    assert cells["vlmrun-dict"] == {
        "example": "single",
        "path": "vlmrun-dict",
        "outcome": "error",
        "posts": [],
        "error": "ConnectionError: no route",
    }
    assert cells["openai-dict"]["outcome"] == "sent"


def test_the_long_request_call_follows_the_303_and_returns_the_empty_202() -> None:
    """vlmrun 0.9.2 on openai 3.x (this environment): one GET of `Location`, then `""` for the completion."""
    with long_request_server(probe.API_KEY) as server:
        request = {**probe_payload(seed_examples()[:1]), "helper": harness.wire.__file__}
        report = probe.run({**request, "long_request": server.request()})
        seen = server.take()
    assert report["long_request"] == {
        "example": "single",
        "path": "vlmrun-dict",
        "returned": "str ''",
        "content": None,
        "error": None,
    }
    assert seen == Seen(("POST 303", "GET 202"))
    assert "long_request" not in probe.run(request)


@pytest.mark.parametrize(
    ("features", "path"),
    [
        ({"skills_kwarg": True, "agent_skill": True, "openai": True}, "vlmrun-dict"),
        ({"skills_kwarg": False, "agent_skill": True, "openai": True}, "vlmrun-dict-extra-body"),
        ({"skills_kwarg": False, "agent_skill": False, "openai": True}, "openai-dict"),
        ({"skills_kwarg": False, "agent_skill": False, "openai": False}, None),
    ],
)
def test_the_normal_path_is_the_one_the_stack_has(
    features: dict[str, bool], path: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe.Stack, "features", lambda self: features)
    assert probe.Stack("http://127.0.0.1:9/v1", harness.wire.__file__).normal_path() == path


def test_a_long_request_that_raises_is_recorded_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: probe.Stack) -> object:
        raise ConnectionError("no route")

    monkeypatch.setattr(probe.Stack, "vlmrun_completions", broken)
    request = {**probe_payload(seed_examples()[:1]), "helper": harness.wire.__file__}
    out = probe.long_request({**request, "long_request": {"base_url": "http://127.0.0.1:9/v1", "example": "single"}})
    assert out == {
        "example": "single",
        "path": "vlmrun-dict",
        "returned": None,
        "content": None,
        "error": "ConnectionError: no route",
    }
