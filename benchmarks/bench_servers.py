"""P6: our reference server against Stoplight Prism's mock, both serving the description on loopback.

Same bounded client (httpx, a fixed pool of threads, a fixed number of requests cycling the
seed examples), JSON bodies only for the comparison because Prism cannot stream; ours with
`stream: true` is measured separately. Each server runs in its own process, so the client
and the server do not share a GIL; the machine's two cores are shared by client, server
and whoever else is using the machine, so the ratio is the figure, not requests/s.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import httpx

from benchmarks.common import Headline, log, rotated, spread, verdict, version
from benchmarks.peer_envs import node_version, prism_bin, prism_version
from benchmarks.servers import ours, prism
from harness.docs_examples import MODEL, dict_form, seed_examples

OURS = "ours, JSON"
PRISM = "Prism mock, JSON"
STREAM = "ours, stream: true (SSE)"
VARIANTS = (OURS, PRISM, STREAM)
CHAT = "/v1/openai/chat/completions"
REQUEST_TIMEOUT = 10.0


def bodies(*, stream: bool) -> list[dict[str, Any]]:
    """One request body per seed example (the vlmrun SDK's dict form), inline bundles included."""
    out = []
    for example in seed_examples():
        body: dict[str, Any] = {
            "model": MODEL,
            "messages": example.messages,
            "skills": [dict_form(s) for s in example.skills],
        }
        if stream:
            body["stream"] = True
        out.append(body)
    return out


@dataclass
class Sample:
    seconds: float
    requests: int
    non_2xx: int
    errors: int
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def load(
    base_url: str, key: str, payloads: list[dict[str, Any]], *, total: int, concurrency: int, stream: bool
) -> Sample:
    """`total` POSTs, `concurrency` at a time, payloads in a fixed cycle; every response read to the end."""
    statuses: dict[int, int] = {}
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT) as client:

        def one(i: int) -> int:
            payload = payloads[i % len(payloads)]
            if stream:
                with client.stream("POST", CHAT, json=payload) as response:
                    for _ in response.iter_bytes():
                        pass
                    return response.status_code
            return client.post(CHAT, json=payload).status_code

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [pool.submit(one, i) for i in range(total)]
            for future in futures:
                try:
                    code = future.result(timeout=REQUEST_TIMEOUT * 2)
                    statuses[code] = statuses.get(code, 0) + 1
                except Exception:
                    errors += 1
        seconds = time.perf_counter() - start
    non_2xx = sum(n for code, n in statuses.items() if not 200 <= code < 300)
    return Sample(seconds, total, non_2xx, errors, statuses)


@dataclass
class ServerResults:
    requests: int
    concurrency: int
    repeats: int
    payloads: int
    prism_version: str
    node_version: str
    samples: dict[str, list[Sample]]

    def rps(self, name: str) -> float:
        return median(s.rps for s in self.samples[name])

    def non_2xx(self, name: str) -> int:
        return sum(s.non_2xx for s in self.samples[name])

    def errors(self, name: str) -> int:
        return sum(s.errors for s in self.samples[name])


def run(*, requests: int = 700, concurrency: int = 8, repeats: int = 3) -> ServerResults:
    """Both servers up for the whole measurement, samples interleaved; both stopped at the end."""
    binary = prism_bin()
    key = secrets.token_urlsafe(16)
    plain, streamed = bodies(stream=False), bodies(stream=True)
    samples: dict[str, list[Sample]] = {name: [] for name in VARIANTS}
    with ours(key) as ours_url, prism(binary) as prism_url:
        targets = {
            OURS: (ours_url, plain),
            PRISM: (prism_url, plain),
            STREAM: (ours_url, streamed),
        }

        def runner(url: str, payloads: list[dict[str, Any]]) -> Callable[[int], Sample]:
            stream = payloads is streamed
            return lambda n: load(url, key, payloads, total=n, concurrency=concurrency, stream=stream)

        runs = {name: runner(url, payloads) for name, (url, payloads) in targets.items()}
        for go in runs.values():  # warm-up: JIT, imports, connection pools
            go(2 * concurrency)
        for rep in range(repeats):
            for name in rotated(list(VARIANTS), rep):
                log(f"  P6: {name}, {requests} requests, sample {rep + 1}/{repeats}")
                samples[name].append(runs[name](requests))
    return ServerResults(requests, concurrency, repeats, len(plain), prism_version(binary), node_version(), samples)


def headlines(r: ServerResults) -> list[Headline]:
    ratio = r.rps(OURS) / r.rps(PRISM)
    clean = r.non_2xx(OURS) + r.errors(OURS) == 0
    return [
        Headline(
            "P6",
            "reference server vs Prism mock, JSON, loopback",
            "≥ 1x Prism's requests/s, no errors",
            f"{r.rps(OURS):.0f} req/s (Prism {r.rps(PRISM):.0f}); streaming {r.rps(STREAM):.0f} req/s",
            f"{ratio:.2f}x Prism",
            ratio >= 1 and clean,
        )
    ]


def to_markdown(r: ServerResults) -> str:
    ratio = r.rps(OURS) / r.rps(PRISM)
    lines = [
        "## P6. Reference server against Prism's mock",
        "",
        f"Reproduce: `uv run --frozen python -m benchmarks P6`. Peer: `@stoplight/prism-cli` {r.prism_version} "
        f"on node {r.node_version}, installed with npm from `benchmarks/peers/prism/package.json` into "
        "`.bench-peers/`, run as `prism mock openapi/vlmrun-agent.yaml --port <free> --host 127.0.0.1` (its "
        f"defaults: info-level log, here discarded). Ours: `python -m harness serve --port 0` (uvicorn, one "
        f"process). Client: httpx {version('httpx')}, {r.concurrency} threads sharing one keep-alive pool, "
        f"{r.requests} POSTs to `{CHAT}` per sample cycling the {r.payloads} seed examples (vlmrun SDK dict "
        "form; two carry the docs' inline bundle), every response read to the end, 10 s timeout per request. "
        f"{r.repeats} interleaved samples per variant after a warm-up, both servers up throughout; "
        "requests/s is the median, spread in brackets.",
        "",
        "What each answers per request. *Ours*: checks the key, validates the body with the description's "
        "schemas, decodes and checks every inline bundle (base64, zip safety, SKILL.md, digest), resolves each "
        "skill and version in its registry (404 for an unknown one), and builds an answer naming what it "
        "resolved; `stream: true` gives the same answer as server-sent events. *Prism*: checks that a bearer "
        "header is present, validates the body against the schema, and returns the description's example "
        "(static) for the 200 response: bundles are not decoded, versions not resolved, and `stream: true` "
        "still gets the JSON example.",
        "",
        "| variant | requests/s, median (min–max) | ms / request (8 in flight) | non-2xx | errors "
        "| statuses seen | ours / this |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name in VARIANTS:
        statuses: dict[int, int] = {}
        for s in r.samples[name]:
            for code, n in s.statuses.items():
                statuses[code] = statuses.get(code, 0) + n
        seen = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        per = r.concurrency / r.rps(name) * 1e3
        lines.append(
            f"| {name} | {spread([s.rps for s in r.samples[name]], digits=0)} | {per:.1f} | {r.non_2xx(name)} "
            f"| {r.errors(name)} | {seen} | {r.rps(OURS) / r.rps(name):.2f}x |"
        )
    clean = r.non_2xx(OURS) + r.errors(OURS) + r.non_2xx(STREAM) + r.errors(STREAM) == 0
    lines += [
        "",
        f"**Goal: at least Prism's requests/s with no errors: {verdict(ratio >= 1 and clean)}** ({ratio:.2f}x "
        f"Prism; ours {r.non_2xx(OURS)} non-2xx and {r.errors(OURS)} errors, Prism {r.non_2xx(PRISM)} and "
        f"{r.errors(PRISM)}).",
        "",
        "**What limits it: the shared 2 cores.** One goes to the GIL-bound Python client (8 threads building "
        "and parsing JSON), one to the server; Prism spends its share in its validator and negotiator and in "
        "building an info-level log line per step (discarded here, still formatted). At 8 in flight ours takes "
        f"{r.concurrency / r.rps(OURS) * 1e3:.1f} ms per request while doing more work per request than Prism "
        "(above). This benchmark found each of our responses waiting ~40 ms for the client's delayed ACK: the "
        "listening socket was created without `IPPROTO_TCP`, so asyncio never set `TCP_NODELAY` and uvicorn's "
        "separate header and body writes stalled under Nagle's algorithm; fixed in "
        "`harness/reference/server.py` `_bind` (before the fix: 180 requests/s, 0.23x Prism).",
    ]
    return "\n".join(lines) + "\n"
