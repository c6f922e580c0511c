"""Serving the reference app with uvicorn, in the foreground or on a background thread.

The background form is what `harness check` and test fixtures use: it binds 127.0.0.1 on
a free port chosen by the OS (so parallel pytest-xdist workers never collide) and stops
when the context exits. The foreground form (`harness serve`) logs one line per request.

`bind` turns every way a listening socket can fail (a host that is not an address of this
machine, a busy port, a port out of range) into a `UsageError` that says what to change.
IPv4 and IPv6 both work: the address family is the host's (`::1`, `0.0.0.0`, `localhost`).
"""

from __future__ import annotations

import contextlib
import errno
import queue
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, TextIO

import uvicorn
from starlette.applications import Starlette

from harness.errors import UsageError

_EXAMPLES = "e.g. 127.0.0.1, ::1, or 0.0.0.0 for every interface"
_FREE = "pick another --port (0 picks a free one)"
_NUMERIC = re.compile(r"[0-9.]+")  # looks like IPv4: never sent to DNS when it is not one

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Running:
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal is bracketed in a URL
        return f"http://{host}:{self.port}"


def _address(host: str, port: int) -> tuple[socket.AddressFamily, Any]:
    """The family and socket address to bind for `host`, or a UsageError saying why there is none."""
    if not 0 <= port <= 65535:  # getaddrinfo would wrap it round silently
        raise UsageError(f"{port} is not a port number: use 0 to 65535 (0 picks a free port)")
    flags = socket.AI_PASSIVE | (socket.AI_NUMERICHOST if _NUMERIC.fullmatch(host) else 0)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=flags)
    except (socket.gaierror, UnicodeError):
        why = "is not a valid address or a known host name"
        raise UsageError(f"--host {host} {why}: use an address of this machine, {_EXAMPLES}") from None
    family, _type, _proto, _name, address = infos[0]
    return family, address


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (port 0: a free one)."""
    family, address = _address(host, port)
    where = Running(host, port).url.removeprefix("http://")
    # The protocol must be named: asyncio sets TCP_NODELAY on accepted connections only when
    # the listening socket says IPPROTO_TCP. With 0, uvicorn's separate header and body writes
    # wait ~40 ms for the client's delayed ACK on every kept-alive request (benchmarks P5/P6).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(_bind_error(host, where, exc)) from None
    sock.listen(128)
    return sock


_bind = bind  # the name tests and benchmarks knew


def _bind_error(host: str, where: str, exc: OSError) -> str:
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine: use one of its addresses, {_EXAMPLES}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the port is in use; {_FREE}"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges); {_FREE}"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def _config(app: ASGIApp, host: str, port: int, *, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off")


class LogLines:
    """Lines written to a stream by a thread of their own, so a slow or unread stream never
    stalls the server: past `limit` waiting lines, lines are counted and dropped, and where
    they were missed a line says how many."""

    def __init__(self, stream: TextIO, *, limit: int = 10_000) -> None:
        self._stream, self._limit, self._dropped = stream, limit, 0
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._write, name="harness-serve-log", daemon=True)
        self._thread.start()

    def __call__(self, line: str) -> None:
        """Queue a line (one caller: the server's event loop)."""
        pending = [*self._missed(), line]
        if self._queue.qsize() + len(pending) > self._limit:
            self._dropped += 1
            return
        self._dropped = 0
        for item in pending:
            self._queue.put_nowait(item)

    def _missed(self) -> list[str]:
        if not self._dropped:
            return []
        lines = "1 request line" if self._dropped == 1 else f"{self._dropped} request lines"
        return [f"({lines} not logged: stderr was not read)"]

    def _write(self) -> None:
        while (line := self._queue.get()) is not None:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # the stream is closed: nobody reads the log any more
                return

    def close(self, timeout: float = 2.0) -> None:
        """Write what is waiting (for up to `timeout` seconds), then stop."""
        for item in [*self._missed(), None]:
            self._queue.put_nowait(item)
        self._thread.join(timeout)


def _shown_path(scope: Scope) -> str:
    """The path as sent (percent-encoded), without the query string (it may carry a key)."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope.get("path", ""))
    return "".join(c if c.isprintable() and c != " " else f"%{ord(c):02X}" for c in path)


class RequestLog:
    """ASGI middleware: one line per HTTP request when its response ends, `METHOD path status
    duration`. Headers, the query string and bodies are never read, so keys never appear."""

    def __init__(self, app: ASGIApp, write: Callable[[str], None], clock: Callable[[], float] = time.perf_counter):
        self.app, self.write, self.clock = app, write, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = self.clock(), "no response"

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            took = (self.clock() - start) * 1000
            self.write(f"{scope['method']} {_shown_path(scope)} {status} {took:.1f} ms")


def serve_forever(
    app: Starlette,
    listener: socket.socket,
    *,
    on_ready: Callable[[str], None] | None = None,
    log: TextIO | None = None,
) -> None:
    """Serve on a socket from `bind` until interrupted (Ctrl-C re-raises KeyboardInterrupt once
    uvicorn has shut down). `on_ready` gets the URL once the socket listens; with `log`, one
    line per request goes there."""
    host, port = listener.getsockname()[:2]
    if on_ready is not None:
        on_ready(Running(host, port).url)
    lines = LogLines(log) if log is not None else None
    served: ASGIApp = RequestLog(app, lines) if lines is not None else app
    try:
        uvicorn.Server(_config(served, host, port)).run(sockets=[listener])
    finally:
        if lines is not None:
            lines.close()
        listener.close()


@contextlib.contextmanager
def serve_in_thread(
    app: Starlette, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 10.0
) -> Iterator[Running]:
    sock = bind(host, port)
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
