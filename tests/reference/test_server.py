"""`harness serve` and its socket: bad flags in one line before any work, IPv6, Ctrl-C, the request log."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from harness.cli import main
from harness.errors import UsageError
from harness.reference.server import LogLines, RequestLog, Running, bind

KEY = "sk-serve-log-never-printed-5d1e"
EXAMPLES = "e.g. 127.0.0.1, ::1, or 0.0.0.0 for every interface"


# -- flags that cannot work: one line on stderr, exit 2, nothing built -------------------------------


@pytest.fixture
def nothing_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the app is the work a bad flag must stop first."""
    import harness.reference.app

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the app was built before the flags were checked")

    monkeypatch.setattr(harness.reference.app, "create_app", refuse)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.usefixtures("nothing_is_built")
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--port", "99999"],
            "error: argument --port: 99999 is not a port number: use 0 to 65535 (0 picks a free port); "
            "see `harness serve --help`\n",
        ),
        (
            ["--port", "-1"],
            "error: argument --port: -1 is not a port number: use 0 to 65535 (0 picks a free port); "
            "see `harness serve --help`\n",
        ),
        (
            ["--port", "http"],
            "error: argument --port: http is not a port number: use 0 to 65535 (0 picks a free port); "
            "see `harness serve --help`\n",
        ),
        (
            ["--host", "999.1.1.1", "--port", "0"],
            f"error: --host 999.1.1.1 is not a valid address or a known host name: use an address of this "
            f"machine, {EXAMPLES}\n",
        ),
        (
            ["--host", "192.0.2.1", "--port", "0"],  # TEST-NET-1: a valid address, never one of this machine's
            f"error: --host 192.0.2.1 is not an address of this machine: use one of its addresses, {EXAMPLES}\n",
        ),
    ],
)
def test_a_bad_host_or_port_is_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", *argv]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", expected)


@pytest.mark.usefixtures("nothing_is_built")
def test_a_busy_port_says_to_pick_another(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert capsys.readouterr().err == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use; pick another --port (0 picks a free one)\n"
    )


def test_bind_refuses_a_port_out_of_range_for_other_callers_too() -> None:
    with pytest.raises(UsageError) as caught:
        bind("127.0.0.1", 70000)
    assert str(caught.value) == "70000 is not a port number: use 0 to 65535 (0 picks a free port)"


def test_an_ipv6_url_is_bracketed() -> None:
    assert Running("::1", 8765).url == "http://[::1]:8765"
    assert Running("127.0.0.1", 8765).url == "http://127.0.0.1:8765"


# -- the request log -----------------------------------------------------------------------------


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hi")


async def _stream(request: Request) -> StreamingResponse:
    async def chunks() -> Any:
        for part in ("a", "b"):
            yield part
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), media_type="text/plain")


APP = Starlette(routes=[Route("/v1/hello", _hello, methods=["GET", "POST"]), Route("/v1/stream", _stream)])


def _logged(*requests: tuple[str, str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    ticks = [0.0]

    def clock() -> float:  # 12.5 ms from each reading to the next: every request takes 12.5 ms
        ticks.append(ticks[-1] + 0.0125)
        return ticks[-1]

    with TestClient(RequestLog(APP, lines.append, clock)) as client:
        for method, url, kwargs in requests:
            client.request(method, url, **kwargs)
    return lines


def test_one_line_per_request_with_method_path_status_and_duration() -> None:
    lines = _logged(
        ("GET", f"/v1/hello?api_key={KEY}", {"headers": {"Authorization": f"Bearer {KEY}"}}),
        ("POST", "/v1/hello", {"json": {"api_key": KEY, "messages": []}}),
        ("GET", "/v1/stream", {}),
        ("GET", "/v1/no%20such%0Apage", {}),
    )
    assert lines == [
        "GET /v1/hello 200 12.5 ms",
        "POST /v1/hello 200 12.5 ms",
        "GET /v1/stream 200 12.5 ms",
        "GET /v1/no%20such%0Apage 404 12.5 ms",
    ]


class _Blocking(io.StringIO):
    """A stream whose first write waits until released, like a pipe nobody reads."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        self.release.wait(10)
        return super().write(text)


def test_an_unread_stream_never_stalls_the_server_and_the_loss_is_said() -> None:
    stream = _Blocking()
    log = LogLines(stream, limit=2)
    log("line 1")
    assert stream.entered.wait(10)  # the writer holds line 1, blocked
    for n in range(2, 6):
        log(f"line {n}")  # 2 and 3 wait; 4 and 5 are dropped, at once
    stream.release.set()
    deadline = time.monotonic() + 10
    while log._queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.01)
    log("line 6")
    log.close()
    assert stream.getvalue() == "line 1\nline 2\nline 3\n(2 request lines not logged: stderr was not read)\nline 6\n"


# -- `harness serve` as a user runs it --------------------------------------------------------------


@dataclass
class Served:
    proc: subprocess.Popen[str]
    first_line: str
    url: str


@contextlib.contextmanager
def serve(*args: str) -> Iterator[Served]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--port", "0", "--api-key", KEY, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"harness reference server on (http://\S+)/v1 \(Ctrl-C to stop\)\n", line)
        assert match, line
        yield Served(proc, line, match.group(1))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _health(url: str) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        try:
            return httpx.get(f"{url}/v1/health", params={"api_key": KEY}, headers={"Authorization": f"Bearer {KEY}"})
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _stop(served: Served) -> tuple[int, str, str]:
    served.proc.send_signal(signal.SIGINT)
    out, err = served.proc.communicate(timeout=20)
    return served.proc.returncode, out, err


def test_ctrl_c_is_a_normal_stop_and_every_request_is_logged_without_keys() -> None:
    with serve() as served:
        assert _health(served.url).status_code == 200
        body = {"model": "vlmrun-orion-1:auto", "messages": [{"role": "user", "content": KEY}]}
        httpx.post(f"{served.url}/v1/openai/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
        code, out, err = _stop(served)
    assert code == 0
    assert out == ""
    lines = err.splitlines()
    assert [re.sub(r" \d+\.\d ms$", " <t> ms", line) for line in lines] == [
        "GET /v1/health 200 <t> ms",
        "POST /v1/openai/chat/completions 200 <t> ms",
    ], err
    assert KEY not in served.first_line + out + err


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback_works_and_its_url_is_bracketed() -> None:
    with serve("--host", "::1") as served:
        assert re.fullmatch(r"http://\[::1\]:\d+", served.url), served.url
        assert _health(served.url).json()["status"] == "ok"
        code, _out, err = _stop(served)
    assert code == 0
    assert err.startswith("GET /v1/health 200 ")
