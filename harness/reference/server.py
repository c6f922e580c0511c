"""Serving the reference app with uvicorn, in the foreground or on a background thread.

The background form is what `harness check` and test fixtures use: it binds 127.0.0.1 on
a free port chosen by the OS (so parallel pytest-xdist workers never collide) and stops
when the context exits.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from harness.errors import UsageError


@dataclass(frozen=True)
class Running:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _bind(host: str, port: int) -> socket.socket:
    # The protocol must be named: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says IPPROTO_TCP. With 0, uvicorn's separate header and body writes
    # wait ~40 ms for the client's delayed ACK on every kept-alive request (benchmarks P5/P6).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror}; pick another --port") from exc
    sock.listen(128)
    return sock


def _config(app: Starlette, host: str, port: int, *, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off")


def serve_forever(app: Starlette, *, host: str, port: int, on_ready: object = None) -> None:
    """Run until interrupted (Ctrl-C). The socket is bound first so the printed URL is real."""
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    if callable(on_ready):
        on_ready(Running(host, bound_port))
    uvicorn.Server(_config(app, host, bound_port)).run(sockets=[sock])


@contextlib.contextmanager
def serve_in_thread(
    app: Starlette, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 10.0
) -> Iterator[Running]:
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    # "error": fuzzers send malformed HTTP on purpose; uvicorn's warnings about it are noise here.
    server = uvicorn.Server(_config(app, host, bound_port, log_level="error"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="harness-reference", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise UsageError(f"The reference server did not start on {host}:{bound_port} within {timeout:.0f}s")
        time.sleep(0.01)
    try:
        yield Running(host, bound_port)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
