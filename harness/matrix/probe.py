"""Send the seed examples through every client path a stack has; print what went on the wire.

Runs inside a client stack's own environment, by file path, so it must not import the
harness (installing the harness there would change the very pins under test): standard
library only. It reads one JSON document on stdin:

    {"base_path": "/v1", "model": "...", "helper": "/path/to/harness/wire.py",
     "examples": [{"name": "...", "messages": [...], "skills": [<AgentSkill kwargs>, ...]}],
     "long_request": {"base_url": "http://127.0.0.1:PORT/v1", "example": "single"}}

starts a capture server on 127.0.0.1 (GET */health -> 200, POST */chat/completions -> a
minimal `chat.completion`), calls each path with retries off, and prints one JSON document:
the stack's versions and features, and per example and path the raw bodies the server
received or the client's exception (`Type: message`) when it failed before sending.

With `long_request` (optional), it also makes one call through the stack's normal path
against that server (the reference server answering `303 See Other`, then polls), and
reports what `create()` returned or raised; the server, not the probe, says what was sent.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import platform
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATHS = (
    "vlmrun-dict",
    "vlmrun-objects",
    "vlmrun-objects-helper",
    "vlmrun-dict-extra-body",
    "vlmrun-helper-extra-body",
    "openai-dict",
)
PACKAGES = ("vlmrun", "openai", "httpx", "httpx2", "pydantic")
API_KEY = "probe-key"
TIMEOUT = 30.0
COMPLETION = {
    "id": "chatcmpl-probe",
    "object": "chat.completion",
    "created": 0,
    "model": "probe",
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "{}"}, "logprobs": None}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    "session_id": "00000000-0000-4000-8000-000000000000",
}


class Capture:
    """What the server received, one list per call (the probe calls one path at a time)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: list[dict[str, str]] = []

    def take(self) -> list[dict[str, str]]:
        with self.lock:
            posts, self.posts = self.posts, []
        return posts


def _handler(capture: Capture) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: stdout carries the JSON report, stderr stays readable."""

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def do_GET(self) -> None:
            if self.path.split("?")[0].rstrip("/").endswith("/health"):
                self._reply(200, {"status": "ok"})
            else:
                self._reply(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            raw = self._body()
            if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
                self._reply(404, {"detail": "Not Found"})
                return
            with capture.lock:
                capture.posts.append({"path": self.path, "body": raw.decode("utf-8", "replace")})
            self._reply(200, COMPLETION)

    return Handler


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 600 else text[:600] + "…"


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class Stack:
    """The clients this environment has, built against the capture server."""

    def __init__(self, base_url: str, helper_path: str) -> None:
        self.base_url = base_url
        self.types = _import("vlmrun.client.types")
        self.agent_module = _import("vlmrun.client.agent")
        self.openai = _import("openai")
        self.helper = self._load_helper(helper_path)
        self._vlmrun: Any = None

    @staticmethod
    def _load_helper(path: str) -> Any:
        spec = importlib.util.spec_from_file_location("probe_wire", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the helper from {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    @property
    def has_agent_skill(self) -> bool:
        return self.types is not None and hasattr(self.types, "AgentSkill")

    def features(self) -> dict[str, bool]:
        return {
            "vlmrun": self.types is not None,
            "agent_skill": self.has_agent_skill,
            # vlmrun >= 0.5.12 wraps openai's create to accept skills=/toolsets=/models=.
            "skills_kwarg": self.agent_module is not None and hasattr(self.agent_module, "_patch_create"),
            # vlmrun < 0.5.11: `version` is a plain field (default "latest"), so every dump carries it.
            "dump_has_version": self.has_agent_skill
            and "version" in self.types.AgentSkill().model_dump(exclude_none=True),
            "openai": self.openai is not None,
        }

    def normal_path(self) -> str | None:
        """The call this stack's users make: vlmrun's `skills=`, else vlmrun with `extra_body`, else plain openai."""
        features = self.features()
        for path, has in (
            ("vlmrun-dict", features["skills_kwarg"] and features["agent_skill"]),
            ("vlmrun-dict-extra-body", features["agent_skill"]),
            ("openai-dict", features["openai"]),
        ):
            if has:
                return path
        return None

    def vlmrun_completions(self) -> Any:
        if self._vlmrun is None:
            from vlmrun.client import VLMRun

            accepted = inspect.signature(VLMRun).parameters
            options = {"max_retries": 0, "timeout": TIMEOUT}
            kwargs = {k: v for k, v in options.items() if k in accepted}
            self._vlmrun = VLMRun(api_key=API_KEY, base_url=self.base_url, **kwargs)
        return self._vlmrun.agent.completions

    def agent_skill(self, kwargs: dict[str, Any]) -> Any:
        kwargs = dict(kwargs)
        if isinstance(kwargs.get("source"), dict):
            kwargs["source"] = self.types.InlineSkillSource(**kwargs["source"])
        return self.types.AgentSkill(**kwargs)

    def call(self, path: str, model: str, example: dict[str, Any]) -> Callable[[], Any] | None:
        """The call for one path, or None when this stack lacks the client (reported n/a)."""
        messages, specs = example["messages"], example["skills"]
        if path == "openai-dict":
            if self.openai is None:
                return None
            return lambda: self.openai.OpenAI(
                api_key=API_KEY, base_url=f"{self.base_url}/openai", max_retries=0, timeout=TIMEOUT
            ).chat.completions.create(model=model, messages=messages, extra_body={"skills": example["dict_form"]})
        if not self.has_agent_skill:
            return None

        def objects() -> list[Any]:
            return [self.agent_skill(s) for s in specs]

        def dicts() -> list[Any]:
            return [s.model_dump(exclude_none=True) for s in objects()]

        skills: Callable[[], list[Any]] = {
            "vlmrun-dict": dicts,
            "vlmrun-objects": objects,
            "vlmrun-objects-helper": lambda: self.helper.to_wire_dicts(objects()),
            "vlmrun-dict-extra-body": dicts,
            "vlmrun-helper-extra-body": lambda: self.helper.to_wire_dicts(objects()),
        }[path]
        if path.endswith("-extra-body"):
            return lambda: self.vlmrun_completions().create(
                model=model, messages=messages, extra_body={"skills": skills()}
            )
        return lambda: self.vlmrun_completions().create(model=model, messages=messages, skills=skills())


def _content(value: Any) -> str | None:
    """The first message's content when `value` is a parsed completion, else None."""
    try:
        content = value.choices[0].message.content
    except (AttributeError, LookupError, TypeError):
        return None
    return content if isinstance(content, str) else None


def long_request(request: dict[str, Any]) -> dict[str, Any]:
    """One call through the stack's normal path to a server answering `303`: what the client made of it."""
    spec = request["long_request"]
    stack = Stack(spec["base_url"], request["helper"])
    path = stack.normal_path()
    out: dict[str, Any] = {"example": spec["example"], "path": path, "returned": None, "content": None, "error": None}
    if path is None:
        return out
    example = next(e for e in request["examples"] if e["name"] == spec["example"])
    call = stack.call(path, request["model"], example)
    assert call is not None  # normal_path names a client this stack has
    try:
        value = call()
    except Exception as exc:  # what the client raises is the finding
        out["error"] = _error(exc)
        return out
    text = repr(value)
    out["returned"] = f"{type(value).__name__} {text if len(text) <= 200 else text[:200] + '…'}"
    out["content"] = _content(value)
    return out


def run(request: dict[str, Any]) -> dict[str, Any]:
    capture = Capture()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(capture))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{server.server_address[1]}{request.get('base_path', '/v1')}"
        stack = Stack(base_url, request["helper"])
        cells = []
        for example in request["examples"]:
            for path in PATHS:
                cell: dict[str, Any] = {"example": example["name"], "path": path}
                call = stack.call(path, request["model"], example)
                if call is None:
                    cells.append({**cell, "outcome": "n/a", "posts": [], "error": None})
                    continue
                capture.take()
                try:
                    call()
                    error = None
                except Exception as exc:  # every client failure is a finding, never a crash
                    error = _error(exc)
                posts = capture.take()
                outcome = "sent" if posts else "error"
                cells.append({**cell, "outcome": outcome, "posts": posts, "error": error})
    finally:
        server.shutdown()
        server.server_close()
    versions = {"python": platform.python_version(), **{name: _version(name) for name in PACKAGES}}
    report = {"versions": versions, "features": stack.features(), "paths": list(PATHS), "cells": cells}
    if request.get("long_request"):
        report["long_request"] = long_request(request)
    return report


def main() -> int:
    report = run(json.load(sys.stdin))
    json.dump(report, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
