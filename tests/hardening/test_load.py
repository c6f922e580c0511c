"""A bounded loopback load on `harness serve`: concurrent clients, every answer valid, nothing lost.

What is asserted is correctness under concurrency (no error, every JSON answer and every
stream chunk valid against the description, every stream ends with [DONE]). Latency and the
server's peak memory are measured and reported (`record_property`, printed summary), never
asserted: speed targets belong in benchmarks/.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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
BUDGET = 12.0  # seconds for the whole load (about 2.5 s here): a hung server fails, it does not stall CI


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


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


def check_answer(response: httpx.Response, stream: bool) -> str | None:
    """None if the answer is what a client relies on, else what is wrong with it."""
    contract = load_contract()
    if response.status_code != 200:
        return f"status {response.status_code}: {response.text[:200]}"
    if not stream:
        problems = contract.violations("ChatCompletion", response.json())
        return f"invalid completion: {problems[:2]}" if problems else None
    events = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    if not events or events[-1] != "[DONE]":
        return f"stream did not end with [DONE]: {events[-1:]}"
    for event in events[:-1]:
        problems = contract.violations("ChatCompletionChunk", json.loads(event))
        if problems:
            return f"invalid chunk: {problems[:2]}"
    return None


def client(url: str, worker: int, tally: Tally, deadline: float) -> None:
    cases = bodies()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5) as http:
        for n in range(REQUESTS_PER_CLIENT):
            if time.monotonic() > deadline:
                with tally.lock:
                    tally.errors.append(f"client {worker} had {REQUESTS_PER_CLIENT - n} requests left at the deadline")
                return
            body = cases[(worker * REQUESTS_PER_CLIENT + n) % len(cases)]
            stream = n % 2 == 1
            started = time.perf_counter()
            try:
                response = http.post("/v1/openai/chat/completions", json={**body, "stream": stream})
                elapsed = time.perf_counter() - started
                problem = check_answer(response, stream)
            except httpx.HTTPError as exc:
                elapsed, problem = time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
            with tally.lock:
                tally.latencies.append(elapsed)
                if problem:
                    tally.errors.append(problem)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_concurrent_clients_get_only_valid_answers(server: tuple[str, int], record_property: Any) -> None:
    url, pid = server
    httpx.get(f"{url}/v1/health", headers={"Authorization": f"Bearer {KEY}"}).raise_for_status()
    tally = Tally()
    deadline = time.monotonic() + BUDGET
    threads = [threading.Thread(target=client, args=(url, w, tally, deadline)) for w in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BUDGET + 10)  # a request in flight at the deadline ends within its 5 s timeout
    wall = time.perf_counter() - started

    assert not any(t.is_alive() for t in threads)
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
