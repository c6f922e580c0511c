"""`harness serve` as a user starts it, for tests that need a real server process."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Served:
    url: str
    """Root URL; the API is under `/v1`."""
    pid: int


@contextlib.contextmanager
def harness_serve(key: str, cwd: Path | None = None, *options: str) -> Iterator[Served]:
    """A `python -m harness serve --port 0` subprocess (with `options`), ready (health answered) on entry,
    stopped on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--port", "0", "--api-key", key, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/v1", line)
        assert match, line
        # The request log keeps coming: drained, or a full pipe would block the server's own writes.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        url = match.group(1)
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{url}/v1/health", headers={"Authorization": f"Bearer {key}"}).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield Served(url, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


class _OtherApi(BaseHTTPRequestHandler):
    """Another team's API: echoes the path with a secret-looking field the harness must leave alone."""

    secret = "cs_live_123"

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "client_secret": self.secret}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def other_api(secret: str = _OtherApi.secret) -> Iterator[ThreadingHTTPServer]:
    """A loopback stand-in for a third-party API, stopped on exit (or earlier with `shutdown()`)."""
    handler = type("OtherApi", (_OtherApi,), {"secret": secret})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
