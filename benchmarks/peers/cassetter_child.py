"""cassetter's side of P1 and P3, run by the cassetter environment's python (stdlib + cassetter only).

It cannot import harness or benchmarks: that environment holds cassetter and nothing of
ours, so its pytest plugin never meets pytest-recording. It reads one JSON request per
line on stdin and answers one JSON object per line on stdout. Everything goes through
cassetter's public Python API: `Cassette(...).record()`/`save()` to write a cassette as
cassetter records it, `load()` as `use_cassette` does on entry, and `match()`, the call its
httpx interceptor makes per request (body processing, scrubbing, the Rust matcher).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

cassetter = importlib.import_module("cassetter")
compare = importlib.import_module("cassetter.compare")


def _bytes(text: str) -> bytes:
    return text.encode("latin-1")


def _opened(path: str, match_on: list[str] | None = None) -> Any:
    config = cassetter.MatchConfig(match_on=match_on) if match_on else None
    cassette = cassetter.Cassette(path, record_mode=cassetter.RecordMode.NONE, match_config=config)
    cassette.load()
    return cassette


def prepare(path: str, interactions: list[dict[str, Any]]) -> dict[str, Any]:
    """Record the interactions as cassetter does (bodies parsed, secrets scrubbed) and save them."""
    if os.path.exists(path):
        os.remove(path)
    cassette = cassetter.Cassette(path, record_mode=cassetter.RecordMode.ALL)
    cassette.load()
    for item in interactions:
        cassette.record(
            item["method"],
            item["uri"],
            item["headers"],
            _bytes(item["body"]),
            item["status"],
            item["response_headers"],
            _bytes(item["response_body"]),
        )
    cassette.save()
    return {"bytes": os.path.getsize(path)}


def match(path: str, match_on: list[str], lookups: list[dict[str, Any]]) -> dict[str, Any]:
    """Load the cassette, then time `match()` for every lookup; a miss is `NoMatchError`."""
    start = time.perf_counter()
    cassette = _opened(path, match_on)
    load_s = time.perf_counter() - start
    seconds: list[float] = []
    verdicts: list[bool] = []
    for lookup in lookups:
        headers = {k: [v] for k, v in lookup["headers"].items()}
        body = _bytes(lookup["body"])
        start = time.perf_counter()
        try:
            cassette.match(lookup["method"], lookup["uri"], headers, body)
            hit = True
        except cassetter.NoMatchError:
            hit = False
        seconds.append(time.perf_counter() - start)
        verdicts.append(hit)
    miss_s: list[float] = []
    for lookup, hit in zip(lookups, verdicts, strict=True):
        if not hit and len(miss_s) < 2:  # what a failing test pays to build the error
            headers = {k: [v] for k, v in lookup["headers"].items()}
            start = time.perf_counter()
            try:
                cassette.play(lookup["method"], lookup["uri"], headers, _bytes(lookup["body"]))
            except cassetter.NoMatchError as exc:
                str(exc)
            miss_s.append(time.perf_counter() - start)
    return {"load_s": load_s, "seconds": seconds, "verdicts": verdicts, "miss_error_s": miss_s}


def load_batch(path: str, n: int, readback: bool) -> dict[str, Any]:
    """`n` loads as `use_cassette` does on entry; with `readback`, also the first request body as bytes."""
    start = time.perf_counter()
    for _ in range(n):
        cassette = _opened(path)
        if readback:
            compare.body_to_bytes(cassette.interactions[0].request.body)
    return {"seconds": time.perf_counter() - start}


def request_body(path: str, index: int) -> dict[str, Any]:
    body = compare.body_to_bytes(_opened(path).interactions[index].request.body)
    return {"body": body.decode("latin-1")}


OPS: dict[str, Callable[..., dict[str, Any]]] = {
    "prepare": prepare,
    "match": match,
    "load_batch": load_batch,
    "request_body": request_body,
}


def main() -> int:
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        try:
            if op == "version":
                answer: dict[str, Any] = {"version": importlib.metadata.version("cassetter")}
            else:
                answer = OPS[op](**request)
        except Exception as exc:  # reported to the parent, which raises
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
