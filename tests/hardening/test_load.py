"""A bounded loopback load on `harness serve`: concurrent clients, every answer valid, nothing lost.

What is asserted is correctness under concurrency (no error, every JSON answer and every
stream chunk valid against the description, every stream ends with [DONE]). Latency and the
server's peak memory are measured and reported (`record_property`, printed summary), never
asserted: speed targets belong in benchmarks/. Nor is there a budget for the whole load: each
request has its own timeout, so a hung server is a timeout error (and every client stops at
the first one) rather than a stalled run, however slow the machine.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.contract import load_contract
from harness.docs_examples import MODEL, WIRE_FORMS, seed_examples
from tests.serving import harness_serve

KEY = "load-test-key"
CLIENTS = 8
REQUESTS_PER_CLIENT = 50  # 400 in all: half JSON, half streamed
# Per request (connect, each read, each write), not for the load: answers take milliseconds, so
# only a server that stopped answering reaches it, and then the test fails on that timeout.
TIMEOUT = httpx.Timeout(30.0)
# An answer here is a few kB; one past this is a stream that never ends, a hang the timeout misses.
MAX_ANSWER = 4 * 1024 * 1024


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hung: threading.Event = field(default_factory=threading.Event)
    """Set at the first timeout or runaway answer: no client sends more to a hung server."""


class RunawayAnswer(Exception):
    """The server kept sending past `MAX_ANSWER`."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`harness serve --port 0` as a user starts it; yields (url, pid) and stops it afterwards."""
    with harness_serve(KEY, tmp_path) as served:
        yield served.url, served.pid


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM, the most resident memory the server ever had; None where there is no procfs."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return round(int(match.group(1)) * 1024 / 1e6, 1) if match else None


def bodies() -> list[dict[str, Any]]:
    """Every seed example (inline bundles included) in every wire form."""
    return [
        {"model": MODEL, "messages": e.messages, "skills": [form(s) for s in e.skills]}
        for e, form in itertools.product(seed_examples(), WIRE_FORMS.values())
    ]


def fetch(http: httpx.Client, body: dict[str, Any], stream: bool, cap: int = MAX_ANSWER) -> tuple[int, str]:
    """Status and whole text of one answer, read with a size cap."""
    with http.stream("POST", "/v1/openai/chat/completions", json={**body, "stream": stream}) as response:
        data = bytearray()
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > cap:
                raise RunawayAnswer(f"answer passed {cap} bytes and was still coming")
        return response.status_code, data.decode("utf-8", "replace")


def check_answer(status: int, text: str, stream: bool) -> str | None:
    """None if the answer is what a client relies on, else what is wrong with it."""
    contract = load_contract()
    if status != 200:
        return f"status {status}: {text[:200]}"
    if not stream:
        problems = contract.violations("ChatCompletion", json.loads(text))
        return f"invalid completion: {problems[:2]}" if problems else None
    events = [line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data: ")]
    if not events or events[-1] != "[DONE]":
        return f"stream did not end with [DONE]: {events[-1:]}"
    for event in events[:-1]:
        problems = contract.violations("ChatCompletionChunk", json.loads(event))
        if problems:
            return f"invalid chunk: {problems[:2]}"
    return None


def client(url: str, worker: int, tally: Tally, timeout: httpx.Timeout = TIMEOUT, cap: int = MAX_ANSWER) -> None:
    cases = bodies()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=timeout) as http:
        for n in range(REQUESTS_PER_CLIENT):
            if tally.hung.is_set():
                return
            body = cases[(worker * REQUESTS_PER_CLIENT + n) % len(cases)]
            stream = n % 2 == 1
            started = time.perf_counter()
            try:
                status, text = fetch(http, body, stream, cap)
                elapsed = time.perf_counter() - started
                problem = check_answer(status, text, stream)
            except (httpx.HTTPError, RunawayAnswer) as exc:
                elapsed, problem = time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
                if isinstance(exc, httpx.TimeoutException | RunawayAnswer):
                    tally.hung.set()
            with tally.lock:
                tally.latencies.append(elapsed)
                if problem:
                    tally.errors.append(problem)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_concurrent_clients_get_only_valid_answers(server: tuple[str, int], record_property: Any) -> None:
    url, pid = server
    httpx.get(f"{url}/v1/health", headers={"Authorization": f"Bearer {KEY}"}, timeout=TIMEOUT).raise_for_status()
    tally = Tally()
    threads = [threading.Thread(target=client, args=(url, w, tally)) for w in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # bounded: each request times out, and a timeout stops every client
    wall = time.perf_counter() - started

    assert tally.errors == []
    assert len(tally.latencies) == CLIENTS * REQUESTS_PER_CLIENT

    summary = {
        "requests": len(tally.latencies),
        "p50_ms": round(percentile(tally.latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(tally.latencies, 0.99) * 1000, 1),
        "throughput_rps": round(len(tally.latencies) / wall, 1),
        "server_peak_rss_mb": peak_rss_mb(pid),
    }
    for name, value in summary.items():
        record_property(name, value)
    print(f"harness serve under {CLIENTS} concurrent clients:", summary)


# --- a hung server fails the load, it does not stall it -------------------------------


class _Endless(BaseHTTPRequestHandler):
    """Answers 200 and then streams forever."""

    def do_POST(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        with contextlib.suppress(OSError):  # the client hangs up
            while True:
                self.wfile.write(b"data: {}\n\n")

    def log_message(self, *args: object) -> None:
        pass


def test_a_silent_server_is_a_timeout_that_stops_every_client() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nothing ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        tally = Tally()
        client(url, 0, tally, timeout=httpx.Timeout(0.2))
    assert (tally.errors, len(tally.latencies), tally.hung.is_set()) == (["ReadTimeout: timed out"], 1, True)


def test_an_endless_answer_is_refused_and_stops_every_client() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tally = Tally()
        client(f"http://127.0.0.1:{server.server_address[1]}", 0, tally, cap=1024)
    finally:
        server.shutdown()
        server.server_close()
    expected = ["RunawayAnswer: answer passed 1024 bytes and was still coming"]
    assert (tally.errors, len(tally.latencies), tally.hung.is_set()) == (expected, 1, True)
