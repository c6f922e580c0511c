"""S1: replay and load at any size: ours beside vcrpy's body matcher and cassetter, in the same run.

Three questions, each measured side by side:

1. One cassette of N distinct chat completions (N = 10 … 10,000): how long it takes to load
   and what one replay lookup costs, replaying the N calls in recording order. *ours* is the
   plugin's path (`configure_vcr` with a `Scope` and a `LoadCache`, the `ScopedPersister` over
   vcrpy's filesystem persister, `lookup.install` on the loaded cassette, vcrpy's stub calls
   per request), with the load cache filled by one load before the passes, as a suite's
   second and later runs find it; *ours, first run* the same with the load cache emptied
   before each pass (PyYAML, the recorded requests' keys and the cache's write); *vcrpy
   body* the same cassette in vcrpy's own format with `match_on=(method, scheme, host, port,
   path, query, body)`; *cassetter json_body* its own format and matcher (as P1). vcrpy and
   cassetter scan, so their lookups are timed on a sample spread over the cassette, bounded
   in time (see `sample_positions`).
2. Suites of 1, 100 and 1,000 cassettes of 5 calls: loading all of them, as a suite's tests
   do; ours with each cassette's load cache filled beforehand, and once with it empty.
3. The issue's scenario end to end: one pytest test making N chat completions through
   openai-python, recorded against the embedded reference server, then replayed offline,
   with pytest's cache (so the load cache) on after one untimed warm-up run, and with
   `-p no:cacheprovider` (no load cache: a first run, or CI without a kept cache); each run
   a fresh pytest process timed as the user waits, minus a zero-call run.

`python -m benchmarks.bench_scale` runs it alone and prints the section; with matplotlib
importable (`uv run --frozen --with matplotlib python -m benchmarks.bench_scale`) it also
draws `benchmarks/scale.png`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean, median
from typing import Any

import vcr
from vcr.cassette import Cassette
from vcr.request import Request

from benchmarks.bench_matching import (
    CASSETTER_MATCH_ON,
    VCRPY_MATCH_ON,
    lookup,
    open_cassette,
    scope_for_bench,
)
from benchmarks.common import (
    COMPLETIONS_URI,
    ROOT,
    Headline,
    Traffic,
    body_bytes,
    clean_env,
    live_headers,
    live_request,
    log,
    make_interaction,
    peer_interaction,
    rotated,
    save_vcrpy,
    spread,
    verdict,
    version,
)
from benchmarks.peer_envs import PeerChild, cassetter_python
from harness.canonical import canonicalize
from harness.pytest_vcr import LOAD_CACHE_FOLDER
from harness.recording import lookup as key_lookup
from harness.recording import matcher
from harness.recording.cassette_io import save_interactions
from harness.recording.configure import configure_vcr
from harness.recording.interaction import Interaction
from harness.recording.load_cache import LoadCache, code_fingerprint
from harness.recording.scope import Scope

OURS = "ours"
COLD = "ours, first run (empty load cache)"
VCRPY = "vcrpy body"
CASSETTER = "cassetter json_body"
KINDS = (OURS, VCRPY, CASSETTER)
"""The recorders compared (one cassette file each)."""
TIMED = (OURS, COLD, VCRPY, CASSETTER)
"""What part 1 and 2 time: ours twice, on the same file, with its load cache filled and emptied."""
SIZES = (10, 100, 1_000, 10_000)
PASSES = {10: 5, 100: 5, 1_000: 3, 10_000: 1}
"""Load-and-replay passes per size (10,000: one, each load takes seconds)."""
OURS_PASSES = {10_000: 2}
"""Ours gets more where one pass is cheap enough (no scan): a second sample of its flat per-call figure."""
COLD_PASSES, COLD_PASSES_LARGE = 2, 1
"""First-run passes per size: 2 up to 1,000 calls, 1 above (each parses the YAML and writes the cache)."""
SUITES = (1, 100, 1_000)
SUITE_CALLS = 5
SUITE_REPEATS = {1: 9, 100: 3, 1_000: 2}
PEER_SAMPLE = 256
"""At most this many of a scanning peer's lookups are timed per pass (a power of two: see `sample_positions`)."""
PEER_BUDGET_S = 4.0
PEER_MIN_LOOKUPS = 8
E2E_SMALL, E2E_LARGE = 200, 2_000
E2E_RECORDS, E2E_RECORDS_LARGE = 5, 2
"""Recording runs per N: short ones repeated more, as their difference from the zero-call run is small."""
E2E_REPLAYS, E2E_REPLAYS_LARGE = 5, 3
"""Replay runs per variant: the zero-call and small ones are short, so more of them steady the differences."""
PYTEST_LOAD_CACHE = Path(".pytest_cache") / "d" / LOAD_CACHE_FOLDER
"""Where the plugin keeps the load cache, under the rootdir (the test's folder here)."""
E2E_GROWTH_GOAL = 1.3
E2E_REPLAY_GOAL = 0.5
PYTEST_TIMEOUT = 600.0
DUMMY_BASE_URL = "http://127.0.0.1:9/v1"
SCALE_PNG = ROOT / "benchmarks" / "scale.png"
SCALE_CHILD = Path(__file__).resolve().parent / "scale_child.py"
REPRODUCE_S1 = "uv run --frozen python -m benchmarks S1"
REPRODUCE_PLOT = "uv run --frozen --with matplotlib python -m benchmarks.bench_scale"
TEST_NAME = "test_scale"

E2E_TEST = '''"""S1's end-to-end scenario: one test making N distinct chat completions (generated by bench_scale)."""

import json
from typing import Any

import httpx
import openai
import pytest

from harness.docs_examples import MODEL, dict_form, seed_examples

N = {calls}
EXAMPLES = seed_examples()
CANNED = json.dumps(
    {{
        "id": "chatcmpl-floor",
        "object": "chat.completion",
        "created": 1767225600,
        "model": MODEL,
        "choices": [
            {{
                "index": 0,
                "message": {{"role": "assistant", "content": json.dumps({{"invoice_id": "INV-1"}})}},
                "finish_reason": "stop",
            }}
        ],
        "usage": {{"prompt_tokens": 512, "completion_tokens": 21, "total_tokens": 533}},
        "session_id": "00000000-6ddc-ed08-6c37-761556c76495",
    }}
).encode()


def call(client: Any, i: int) -> None:
    example = EXAMPLES[i % len(EXAMPLES)]
    user = example.messages[-1]
    content = [{{"type": "text", "text": f"Call {{i}}: " + user["content"][0]["text"]}}, *user["content"][1:]]
    messages = [
        {{"role": "system", "content": f"Case {{i}}. Follow the skill instructions and answer in JSON."}},
        *example.messages[:-1],
        {{**user, "content": content}},
    ]
    response = client.chat.completions.create(
        model=MODEL, messages=messages, extra_body={{"skills": [dict_form(s) for s in example.skills]}}
    )
    assert response.choices[0].message.content


@pytest.mark.vcr
def test_many_calls(openai_client: Any) -> None:
    for i in range(N):
        call(openai_client, i)


def test_floor() -> None:
    """The same calls answered by an httpx MockTransport: openai-python's own cost, no recorder, no server."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=CANNED, headers={{"content-type": "application/json"}})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = openai.OpenAI(api_key="floor", base_url="http://floor.invalid/v1/openai", max_retries=0, http_client=http)
    for i in range(N):
        call(client, i)
    client.close()
'''


# -- 1. one cassette of N calls -----------------------------------------------------------------


@dataclass
class SizePass:
    load_s: float
    seconds: list[float]
    """Seconds of each timed lookup: all N in order for ours (both kinds), a bounded sample for the scanning peers."""


@dataclass
class SizeResult:
    n: int
    file_bytes: dict[str, int]
    passes: dict[str, list[SizePass]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    """Why a recorder could not load this cassette at all (cassetter's YAML node budget)."""
    loadable: dict[str, int] = field(default_factory=dict)
    """For a failed load: how many interactions lie wholly before the line where the parser gave up."""

    def ok(self, kind: str) -> bool:
        return kind not in self.failed

    def load_s(self, kind: str) -> float:
        return median(p.load_s for p in self.passes[kind])

    def per_pass_ms(self, kind: str) -> list[float]:
        return [mean(p.seconds) * 1e3 for p in self.passes[kind]]

    def ms(self, kind: str) -> float:
        """Mean milliseconds per lookup (median over passes)."""
        return median(self.per_pass_ms(kind))

    def timed(self, kind: str) -> int:
        return min(len(p.seconds) for p in self.passes[kind])

    def first_ms(self, kind: str) -> float:
        return median(p.seconds[0] for p in self.passes[kind]) * 1e3

    def steady_us(self, kind: str) -> float:
        """Median µs of a lookup after the first (ours: once the key index is built)."""
        return median(s for p in self.passes[kind] for s in p.seconds[1:] or p.seconds) * 1e6


def sample_positions(n: int, sample: int = PEER_SAMPLE) -> list[int]:
    """Which of the N in-order lookups a scanning peer times, in the order it times them.

    All of them, in order, when N ≤ `sample`. Otherwise the midpoints of `sample` equal strata
    of the cassette, visited in bit-reversed order, so that every prefix (where the time budget
    stops) is itself spread evenly over the cassette. A hit's cost depends on its position and
    not on what was played before (vcrpy's `_responses` scans from the first recording on every
    call; the requests are distinct), so the prefix's mean estimates the mean of all N in-order
    lookups.
    """
    if n <= sample:
        return list(range(n))
    bits = sample.bit_length() - 1
    if 1 << bits != sample:
        raise ValueError("the sample must be a power of two")
    order = [int(format(j, f"0{bits}b")[::-1], 2) for j in range(sample)]
    return [(2 * j + 1) * n // (2 * sample) for j in order]


def _ours_config(scope: Scope, cache: LoadCache) -> vcr.VCR:
    """What the plugin gives each test's VCR: `configure_vcr` with the scope and the session's load cache."""
    configured = vcr.VCR()
    configure_vcr(configured, scope, cache=cache)
    return configured


def _cache_entries(folder: Path) -> dict[str, int]:
    """A load cache's entries and their modification times (a miss rewrites its cassette's entry)."""
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")} if folder.is_dir() else {}


@dataclass
class LoadCaches:
    """Ours' two load caches, as the plugin keeps one in `.pytest_cache/d/vlmrun-harness`.

    *warm* is filled by one untimed load of each cassette (`fill`), as a suite's first run fills
    it, and every timed load must find it untouched (all hits); *cold* is emptied before each
    timed first-run load, which must write one entry per cassette."""

    root: Path
    filled: dict[str, int] = field(default_factory=dict)

    def folder(self, cold: bool) -> Path:
        return self.root / ("cold" if cold else "warm")

    def fill(self, paths: Sequence[Path], scope: Scope) -> None:
        shutil.rmtree(self.folder(False), ignore_errors=True)
        cache = self.session(cold=False)
        for path in paths:
            open_cassette(_ours_config(scope, cache), path)
        self.filled = _cache_entries(self.folder(False))
        if len(self.filled) != len(paths):
            raise RuntimeError(f"S1: the load cache holds {len(self.filled)} entries for {len(paths)} cassettes")

    def session(self, *, cold: bool) -> LoadCache:
        """The load cache of one pytest session (one per session, as the plugin keeps it)."""
        folder = self.folder(cold)
        if cold:
            shutil.rmtree(folder, ignore_errors=True)
        return LoadCache(lambda: folder)

    def check(self, *, cold: bool, loaded: int) -> None:
        """The timed loads were what they are reported as: all hits (warm), all misses written (cold)."""
        found = _cache_entries(self.folder(cold))
        if (len(found) != loaded) if cold else (found != self.filled):
            raise RuntimeError(
                f"S1: the {'cold' if cold else 'warm'} load cache did not behave as measured "
                f"({len(found)} entries after {loaded} loads)"
            )


def _ours_pass(path: Path, bodies: Sequence[bytes], scope: Scope, caches: LoadCaches, *, cold: bool) -> SizePass:
    """Load as the plugin does, install the key index, replay all N calls in recording order.

    Warm: the cassette's entry is in the load cache. Cold: the cache starts empty, so the load
    parses the YAML, computes the recorded requests' keys and writes the entry (what a first run
    does); its lookups then run as they would in that first run."""
    requests = [live_request(b) for b in bodies]
    config = _ours_config(scope, caches.session(cold=cold))
    matcher._cache.clear()  # the live bodies are new to the matcher, as in a fresh test
    gc.collect()
    start = time.perf_counter()
    cassette = open_cassette(config, path)
    load_s = time.perf_counter() - start
    key_lookup.install(cassette, scope)
    seconds = _timed_lookups(cassette, requests)
    caches.check(cold=cold, loaded=1)
    return SizePass(load_s, seconds)


def _timed_lookups(cassette: Cassette, requests: Sequence[Request], budget_s: float | None = None) -> list[float]:
    seconds: list[float] = []
    spent = 0.0
    for request in requests:
        if budget_s is not None and len(seconds) >= PEER_MIN_LOOKUPS and spent >= budget_s:
            break
        start = time.perf_counter()
        hit = lookup(cassette, request)
        took = time.perf_counter() - start
        if not hit:
            raise AssertionError("S1: a recorded call was not found on replay")
        seconds.append(took)
        spent += took
    return seconds


def _vcrpy_pass(path: Path, bodies: Sequence[bytes], positions: Sequence[int], budget_s: float) -> SizePass:
    requests = [live_request(bodies[i]) for i in positions]
    gc.collect()
    start = time.perf_counter()
    cassette = open_cassette(vcr.VCR(match_on=VCRPY_MATCH_ON), path)
    load_s = time.perf_counter() - start
    return SizePass(load_s, _timed_lookups(cassette, requests, budget_s))


def _peer_lookups(bodies: Sequence[bytes], positions: Sequence[int]) -> list[dict[str, Any]]:
    return [
        {
            "method": "POST",
            "uri": COMPLETIONS_URI,
            "headers": live_headers(bodies[i]),
            "body": bodies[i].decode("latin-1"),
        }
        for i in positions
    ]


_LOAD_ERROR = re.compile(r"CassetteLoadError: could not parse cassette \S+: ([^\n]*)")
_ERROR_LINE = re.compile(r"line (\d+)")


def _cassetter_pass(
    child: PeerChild, path: Path, peer_lookups: list[dict[str, Any]], budget_s: float
) -> SizePass | str:
    """A timed pass, or cassetter's reason when it cannot load the cassette at all."""
    try:
        answer = child.call(
            "match_sample",
            path=str(path),
            match_on=CASSETTER_MATCH_ON,
            lookups=peer_lookups,
            budget_s=budget_s,
            min_lookups=PEER_MIN_LOOKUPS,
        )
    except RuntimeError as exc:
        found = _LOAD_ERROR.search(str(exc))
        if found is None:
            raise
        return found.group(1).strip()
    if not all(answer["verdicts"]):
        raise AssertionError("S1: cassetter did not find a recorded call")
    return SizePass(answer["load_s"], answer["seconds"])


def _one_size(
    workdir: Path,
    n: int,
    bodies: Sequence[bytes],
    recorded: Sequence[Interaction],
    child: PeerChild,
    scope: Scope,
    budget_s: float,
) -> SizeResult:
    log(f"  S1: writing one cassette of {n:,} calls in each format")
    caches = LoadCaches(workdir / "pytest-cache" / f"size-{n}")
    paths = {
        OURS: save_interactions(workdir / "cassettes" / "size" / f"ours-{n}.yaml", recorded[:n]),
        VCRPY: save_vcrpy(workdir / "vcrpy" / f"size-{n}.yaml", recorded[:n]),
        CASSETTER: workdir / "cassetter" / f"size-{n}.yaml",
    }
    paths[CASSETTER].parent.mkdir(parents=True, exist_ok=True)
    prepared = child.call(
        "prepare", path=str(paths[CASSETTER]), interactions=[peer_interaction(i) for i in recorded[:n]]
    )
    result = SizeResult(
        n,
        {OURS: paths[OURS].stat().st_size, VCRPY: paths[VCRPY].stat().st_size, CASSETTER: prepared["bytes"]},
        {kind: [] for kind in TIMED},
    )
    caches.fill([paths[OURS]], scope)
    positions = sample_positions(n)
    peer_lookups = _peer_lookups(bodies, positions)
    passes = {kind: _passes(kind, n) for kind in TIMED}
    for rep in range(max(passes.values())):
        for kind in rotated([k for k in TIMED if result.ok(k) and passes[k] > rep], rep):
            log(f"  S1: N={n:,}, {kind}, pass {rep + 1}/{passes[kind]}")
            if kind in (OURS, COLD):
                done: SizePass | str = _ours_pass(paths[OURS], bodies[:n], scope, caches, cold=kind == COLD)
            elif kind == VCRPY:
                done = _vcrpy_pass(paths[VCRPY], bodies, positions, budget_s)
            else:
                done = _cassetter_pass(child, paths[CASSETTER], peer_lookups, budget_s)
            if isinstance(done, str):
                log(f"  S1: N={n:,}: {kind} cannot load the cassette: {done}")
                result.failed[kind] = done
                result.loadable[kind] = _interactions_before(paths[kind], done)
            else:
                result.passes[kind].append(done)
    return result


def _passes(kind: str, n: int) -> int:
    if kind == COLD:
        return COLD_PASSES if n <= 1_000 else COLD_PASSES_LARGE
    return (OURS_PASSES if kind == OURS else {}).get(n, PASSES.get(n, 1))


def _interactions_before(path: Path, reason: str) -> int:
    """How many interactions of a cassetter file end before the line a parse error names (0 if none named)."""
    found = _ERROR_LINE.search(reason)
    if found is None:
        return 0
    line = int(found.group(1))
    with path.open(encoding="utf-8") as lines:
        starts = sum(1 for number, text in enumerate(lines, 1) if number < line and text.startswith("- request:"))
    return max(starts - 1, 0)


# -- 2. suites of small cassettes ---------------------------------------------------------------


@dataclass
class SuiteResult:
    cassettes: int
    seconds: dict[str, list[float]]
    """Total seconds to load every cassette of the suite, one sample per repeat (ours' first run: one)."""

    def total_s(self, kind: str) -> float:
        return median(self.seconds[kind])


def _load_suite_ours(paths: Sequence[Path], scope: Scope, caches: LoadCaches, *, cold: bool) -> float:
    """One session's loads: warm, every entry in the load cache; cold, the cache emptied first."""
    cache = caches.session(cold=cold)
    start = time.perf_counter()
    for path in paths:  # per test: a fresh VCR, our rules on it, the cassette loaded, the key index installed
        cassette = open_cassette(_ours_config(scope, cache), path)
        key_lookup.install(cassette, scope)
    seconds = time.perf_counter() - start
    caches.check(cold=cold, loaded=len(paths))
    return seconds


def _load_suite_vcrpy(paths: Sequence[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        open_cassette(vcr.VCR(match_on=VCRPY_MATCH_ON), path)
    return time.perf_counter() - start


def _suites(
    workdir: Path, recorded: Sequence[Interaction], child: PeerChild, scope: Scope, suites: Sequence[int]
) -> list[SuiteResult]:
    largest = max(suites)
    log(f"  S1: writing {largest:,} cassettes of {SUITE_CALLS} calls in each format")
    ours = [workdir / "cassettes" / "suite" / f"test_{k:04d}.yaml" for k in range(largest)]
    plain = [workdir / "vcrpy" / "suite" / f"test_{k:04d}.yaml" for k in range(largest)]
    theirs = [workdir / "cassetter" / "suite" / f"test_{k:04d}.yaml" for k in range(largest)]
    theirs[0].parent.mkdir(parents=True, exist_ok=True)
    items = []
    for k in range(largest):
        calls = recorded[k * SUITE_CALLS : (k + 1) * SUITE_CALLS]
        save_interactions(ours[k], calls)
        save_vcrpy(plain[k], calls)
        items.append({"path": str(theirs[k]), "interactions": [peer_interaction(i) for i in calls]})
    for start in range(0, largest, 100):
        child.call("prepare_many", items=items[start : start + 100])
    caches = LoadCaches(workdir / "pytest-cache" / "suite")
    log(f"  S1: filling the load cache with {largest:,} cassettes (untimed: a suite's first run)")
    caches.fill(ours, scope)
    loaders: dict[str, Callable[[int], float]] = {
        OURS: lambda size: _load_suite_ours(ours[:size], scope, caches, cold=False),
        COLD: lambda size: _load_suite_ours(ours[:size], scope, caches, cold=True),
        VCRPY: lambda size: _load_suite_vcrpy(plain[:size]),
        CASSETTER: lambda size: float(child.call("load_many", paths=[str(p) for p in theirs[:size]])["seconds"]),
    }
    results = []
    for size in sorted(suites):
        found = SuiteResult(size, {kind: [] for kind in TIMED})
        repeats = SUITE_REPEATS.get(size, 2)
        for rep in range(repeats):
            log(f"  S1: suite of {size:,} cassettes, repeat {rep + 1}/{repeats}")
            # One first-run total per suite size, in the first repeat's rotation.
            for kind in rotated([k for k in TIMED if k != COLD or rep == 0], rep):
                gc.collect()
                found.seconds[kind].append(loaders[kind](size))
        results.append(found)
    return results


# -- 3. the user's scenario, end to end ---------------------------------------------------------


@dataclass
class PytestRun:
    wall_s: float
    session_s: float


FASTEST, MEDIAN, SESSION = "fastest", "median", "session"
"""How the end-to-end runs at one N become one figure (`E2EResults.seconds`)."""


Runs = Mapping[int, list[PytestRun]]
"""Timed pytest runs of one command, by the number of calls in the test."""


@dataclass
class E2EResults:
    small: int
    large: int
    commands: dict[str, str]
    record: dict[int, list[PytestRun]] = field(default_factory=dict)
    replay: dict[int, list[PytestRun]] = field(default_factory=dict)
    """`-p no:cacheprovider`: no load cache, so each run loads as a first run (or CI without a kept cache) does."""
    cached: dict[int, list[PytestRun]] = field(default_factory=dict)
    """pytest's cache on, filled by one untimed run: what every run after the first sees."""
    floor: dict[int, list[PytestRun]] = field(default_factory=dict)
    cassette_bytes: dict[int, int] = field(default_factory=dict)

    @staticmethod
    def seconds(runs: Runs, n: int, how: str = FASTEST) -> float:
        """One figure for the runs at N: the fastest wall time, the median one, or pytest's median session time."""
        if how == FASTEST:
            return min(r.wall_s for r in runs[n])
        if how == MEDIAN:
            return median(r.wall_s for r in runs[n])
        return median(r.session_s for r in runs[n])

    def per_call_ms(self, runs: Runs, n: int, how: str = FASTEST) -> float:
        """The runs at N minus the zero-call runs, per call."""
        return (self.seconds(runs, n, how) - self.seconds(runs, 0, how)) / n * 1e3

    def growth(self, replay: Runs, how: str = FASTEST) -> float:
        """Per-call replay at the large N over that at the small N (`replay`: `self.cached` or `self.replay`)."""
        return self.per_call_ms(replay, self.large, how) / self.per_call_ms(replay, self.small, how)

    def replay_vs_record(self, replay: Runs, how: str = FASTEST) -> float:
        """Wall time of replay over that of recording, at the large N."""
        return self.seconds(replay, self.large, how) / self.seconds(self.record, self.large, how)

    def net_replay_vs_record(self, replay: Runs, how: str = FASTEST) -> float:
        """Per-call replay over per-call recording at the large N (each net of its zero-call runs)."""
        return self.per_call_ms(replay, self.large, how) / self.per_call_ms(self.record, self.large, how)


_SESSION = re.compile(r"(\d+) passed in ([0-9.]+)s")


def _pytest(cwd: Path, args: Sequence[str]) -> PytestRun:
    command = [sys.executable, "-m", "pytest", *args]
    start = time.perf_counter()
    proc = subprocess.run(
        command, cwd=cwd, env=clean_env(), capture_output=True, text=True, check=False, timeout=PYTEST_TIMEOUT
    )
    wall = time.perf_counter() - start
    found = _SESSION.search(proc.stdout)
    if proc.returncode != 0 or found is None or found.group(1) != "1":
        raise RuntimeError(f"{' '.join(command)} (in {cwd}) failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return PytestRun(wall, float(found.group(2)))


def _e2e(workdir: Path, small: int, large: int) -> E2EResults:
    test = f"{TEST_NAME}.py"
    base = ["-p", "no:cacheprovider", "-q"]
    offline = ["--block-network", "--vlmrun-base-url", DUMMY_BASE_URL]
    args = {
        "record": [f"{test}::test_many_calls", *base, "--record-mode=once"],
        "replay": [f"{test}::test_many_calls", *base, "--record-mode=none", *offline],
        "cached": [f"{test}::test_many_calls", "-q", "--record-mode=none", *offline],
        "floor": [f"{test}::test_floor", *base, *offline],
    }
    results = E2EResults(small, large, {k: "python -m pytest " + " ".join(v) for k, v in args.items()})
    sizes = [0, small, large]

    def folder(n: int, rep: int) -> Path:
        path = workdir / "e2e" / f"calls-{n}-{rep}"
        if not path.exists():
            path.mkdir(parents=True)
            (path / test).write_text(E2E_TEST.format(calls=n), encoding="utf-8")
        return path

    log("  S1: one untimed recording and floor run (bytecode, pytest's rewritten plugins)")
    warm = workdir / "e2e" / "warm-up"
    shutil.rmtree(warm, ignore_errors=True)
    warm.mkdir(parents=True)
    (warm / test).write_text(E2E_TEST.format(calls=1), encoding="utf-8")
    _pytest(warm, args["record"])
    _pytest(warm, args["floor"])
    results.record = {n: [] for n in sizes}
    records = {n: E2E_RECORDS_LARGE if n == large else E2E_RECORDS for n in sizes}
    for rep in range(max(records.values())):
        for n in rotated([n for n in sizes if records[n] > rep], rep):
            log(f"  S1: recording {n:,} calls, run {rep + 1}/{records[n]}")
            results.record[n].append(_pytest(folder(n, rep), args["record"]))
    for n in sizes:
        cassette = folder(n, 0) / "cassettes" / TEST_NAME / "test_many_calls.yaml"
        if n and not cassette.exists():
            raise RuntimeError(f"S1: recording {n} calls wrote no cassette at {cassette}")
        results.cassette_bytes[n] = cassette.stat().st_size if n else 0
    for n in sizes:  # the suite's first run with pytest's cache on: it fills the load cache, untimed
        log(f"  S1: replay of {n:,} calls with the load cache on, warm-up run (untimed)")
        _pytest(folder(n, 0), args["cached"])
    filled = {n: _cache_entries(folder(n, 0) / PYTEST_LOAD_CACHE) for n in sizes}
    for n in sizes:
        if len(filled[n]) != (1 if n else 0):
            raise RuntimeError(
                f"S1: the warm-up replay of {n} calls left {len(filled[n])} load-cache entries in "
                f"{folder(n, 0) / PYTEST_LOAD_CACHE} (is the rootdir elsewhere?)"
            )
    variants = [(kind, n) for kind in ("replay", "cached") for n in sizes] + [("floor", 0), ("floor", large)]
    repeats = {v: E2E_REPLAYS_LARGE if v[1] == large else E2E_REPLAYS for v in variants}
    results.replay, results.cached = {n: [] for n in sizes}, {n: [] for n in sizes}
    results.floor = {0: [], large: []}
    runs = {"replay": results.replay, "cached": results.cached, "floor": results.floor}
    for rep in range(max(repeats.values())):
        for kind, n in rotated([v for v in variants if repeats[v] > rep], rep):
            log(f"  S1: {kind} of {n:,} calls, run {rep + 1}/{repeats[kind, n]}")
            runs[kind][n].append(_pytest(folder(n, 0), args[kind]))
    for n in sizes:  # every cache-on run found its entry: none was rewritten
        if _cache_entries(folder(n, 0) / PYTEST_LOAD_CACHE) != filled[n]:
            raise RuntimeError(f"S1: a cache-on replay of {n} calls missed the load cache")
    return results


# -- the whole benchmark ------------------------------------------------------------------------


@dataclass
class ScaleResults:
    sizes: list[SizeResult]
    suites: list[SuiteResult]
    e2e: E2EResults
    mean_body_bytes: float
    cassetter_version: str
    budget_s: float
    fingerprint_s: float = 0.0
    """Computing the load cache's code fingerprint, once per pytest session (median of a few)."""
    seconds: float = 0.0
    load_start: str = "unknown"
    load_end: str = "unknown"
    plot: str = ""
    """Where the plot was written, or why it was not."""

    def size(self, n: int) -> SizeResult:
        return next(s for s in self.sizes if s.n == n)


def run(
    workdir: Path,
    *,
    sizes: Sequence[int] = SIZES,
    suites: Sequence[int] = SUITES,
    small: int = E2E_SMALL,
    large: int = E2E_LARGE,
    budget_s: float = PEER_BUDGET_S,
    plot_path: Path | None = SCALE_PNG,
) -> ScaleResults:
    started, load_start = time.perf_counter(), _load_average()
    workdir.mkdir(parents=True, exist_ok=True)
    traffic = Traffic()
    count = max(max(sizes), max(suites) * SUITE_CALLS)
    log(f"  S1: generating {count:,} distinct chat completions")
    bodies = [body_bytes(traffic.body(i)) for i in range(count)]
    recorded = [make_interaction(i, body, traffic.response(i)) for i, body in enumerate(bodies)]
    canonicalize(json.loads(bodies[0]))  # one-off: loading the API description for the defaults
    scope = scope_for_bench()
    fingerprint_s = _fingerprint_s()
    with PeerChild(cassetter_python(), SCALE_CHILD, timeout=PYTEST_TIMEOUT) as child:
        cassetter = str(child.call("version")["version"])
        size_results = [_one_size(workdir, n, bodies, recorded, child, scope, budget_s) for n in sorted(sizes)]
        suite_results = _suites(workdir, recorded, child, scope, suites)
    del recorded
    gc.collect()
    e2e = _e2e(workdir, small, large)
    results = ScaleResults(
        size_results,
        suite_results,
        e2e,
        sum(map(len, bodies[: max(sizes)])) / max(sizes),
        cassetter,
        budget_s,
        fingerprint_s,
    )
    results.plot = plot(results, plot_path) if plot_path is not None else "not drawn (no path given)"
    results.seconds = time.perf_counter() - started
    results.load_start, results.load_end = load_start, _load_average()
    return results


def _fingerprint_s(repeats: int = 5) -> float:
    """What a session's first cache lookup adds once: hashing the harness's sources (then kept in-process)."""
    seconds = []
    for _ in range(repeats):
        code_fingerprint.cache_clear()
        start = time.perf_counter()
        code_fingerprint()
        seconds.append(time.perf_counter() - start)
    return median(seconds)


def _load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def plot(results: ScaleResults, path: Path) -> str:
    """Draw per-lookup time and load time against N (log-log); skipped without matplotlib."""
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        pyplot: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        message = f"not drawn: matplotlib is not importable here (`{REPRODUCE_PLOT}` draws it)"
        log(f"  S1: plot {message}")
        return message
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4))
    labels = {OURS: "ours (load cache filled)", COLD: COLD, VCRPY: VCRPY, CASSETTER: CASSETTER}
    styles = {OURS: ("o", "C0", "-"), COLD: ("D", "C0", "--"), VCRPY: ("s", "C1", "-"), CASSETTER: ("^", "C2", "-")}
    panels: list[tuple[Any, Sequence[str], Callable[[SizeResult, str], float]]] = [
        (left, KINDS, SizeResult.ms),
        (right, TIMED, SizeResult.load_s),
    ]
    for axes, kinds, value in panels:
        for kind in kinds:
            loaded = [s for s in results.sizes if s.ok(kind)]
            ns = [s.n for s in loaded]
            marker, color, line = styles[kind]
            axes.plot(
                ns, [value(s, kind) for s in loaded], marker=marker, color=color, linestyle=line, label=labels[kind]
            )
            failed = [s.n for s in results.sizes if not s.ok(kind)]
            if loaded and failed:
                note = f"{kind.split()[0]} cannot load {failed[0]:,}"
                axes.annotate(
                    note, (ns[-1], value(loaded[-1], kind)), textcoords="offset points", xytext=(6, -10), fontsize=7
                )
    left.set(xscale="log", yscale="log", xlabel="calls in the cassette (N)", ylabel="ms per replay lookup")
    left.set_title("replay lookup (mean over N calls in order)", fontsize=10)
    right.set(xscale="log", yscale="log", xlabel="calls in the cassette (N)", ylabel="s to load the cassette")
    right.set_title("cassette load", fontsize=10)
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle("S1: one cassette of N distinct chat completions (same run)", fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    log(f"  S1: plot written to {path}")
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# -- reporting ----------------------------------------------------------------------------------


def _cassetter_at(r: ScaleResults, big: SizeResult, ratio: Callable[[SizeResult], float], unit: str) -> str:
    """`ratio` against cassetter at N, or at the largest N it could load when it cannot load N."""
    if big.ok(CASSETTER):
        return f"{ratio(big):.1f}x {unit}"
    loaded = [s for s in r.sizes if s.ok(CASSETTER)]
    at = f" ({ratio(loaded[-1]):.1f}x {unit} at {loaded[-1].n:,})" if loaded else ""
    return f"cassetter cannot load it{at}"


def headlines(r: ScaleResults) -> list[Headline]:
    big = r.size(max(s.n for s in r.sizes))
    base = r.size(min(s.n for s in r.sizes))
    suite = r.suites[-1]
    e = r.e2e
    ours = big.ms(OURS)
    return [
        Headline(
            "S1",
            f"replay lookup, one cassette of {base.n:,} to {big.n:,} calls",
            "ahead of cassetter at every size (flat with N)",
            f"{ours * 1e3:.0f} µs/lookup at {big.n:,} ({base.ms(OURS) * 1e3:.0f} µs at {base.n:,})",
            f"{big.ms(VCRPY) / ours:,.0f}x faster than vcrpy body at {big.n:,}; cassetter's time / ours "
            f"{_versus_cassetter(r)}",
            not _behind_cassetter(r),
        ),
        Headline(
            "S1",
            f"cassette load, {big.n:,} calls",
            "–",
            f"{big.load_s(OURS):.3f} s from the load cache, {big.load_s(COLD):.2f} s on a first run",
            f"{big.load_s(OURS) / big.load_s(VCRPY):.2f}x vcrpy's, "
            + _cassetter_at(r, big, lambda s: s.load_s(OURS) / s.load_s(CASSETTER), "cassetter's")
            + f"; first run {big.load_s(COLD) / big.load_s(VCRPY):.2f}x vcrpy's, "
            + _cassetter_at(r, big, lambda s: s.load_s(COLD) / s.load_s(CASSETTER), "cassetter's"),
            None,
        ),
        Headline(
            "S1",
            f"load a suite of {suite.cassettes:,} cassettes of {SUITE_CALLS} calls",
            "–",
            f"{suite.total_s(OURS):.2f} s from the load cache, {suite.total_s(COLD):.2f} s on a first run",
            f"{suite.total_s(OURS) / suite.total_s(VCRPY):.2f}x vcrpy's, "
            f"{suite.total_s(OURS) / suite.total_s(CASSETTER):.1f}x cassetter's; first run "
            f"{suite.total_s(COLD) / suite.total_s(VCRPY):.2f}x vcrpy's, "
            f"{suite.total_s(COLD) / suite.total_s(CASSETTER):.1f}x cassetter's",
            None,
        ),
        Headline(
            "S1",
            f"pytest replay per call, {e.large:,} vs {e.small} calls in one test",
            f"≤ {E2E_GROWTH_GOAL}x",
            f"{e.per_call_ms(e.cached, e.large):.2f} ms/call ({e.per_call_ms(e.cached, e.small):.2f} at {e.small}), "
            "load cache on, fastest runs",
            f"{e.growth(e.cached):.2f}x ({e.growth(e.cached, MEDIAN):.2f}x medians, "
            f"{e.growth(e.cached, SESSION):.2f}x session times); first run / no cache "
            f"{e.growth(e.replay):.2f}x",
            e.growth(e.cached) <= E2E_GROWTH_GOAL,
        ),
        Headline(
            "S1",
            f"pytest replay vs recording, {e.large:,} calls",
            f"≤ {E2E_REPLAY_GOAL}x",
            f"{e.seconds(e.cached, e.large):.1f} s replay with the load cache "
            f"({e.seconds(e.replay, e.large):.1f} s without), {e.seconds(e.record, e.large):.1f} s recording "
            "(fastest)",
            f"{e.replay_vs_record(e.cached):.2f}x wall ({e.net_replay_vs_record(e.cached):.2f}x per call net of "
            f"start-up); first run / no cache {e.replay_vs_record(e.replay):.2f}x "
            f"({e.net_replay_vs_record(e.replay):.2f}x)",
            e.replay_vs_record(e.cached) <= E2E_REPLAY_GOAL,
        ),
    ]


def _lookup_table(r: ScaleResults) -> list[str]:
    lines = [
        "| N | ours ms / lookup (all N timed) | ours first lookup ms | ours later lookups µs (median) "
        "| vcrpy body ms / lookup (timed) | cassetter ms / lookup (timed) | cassetter / ours | vcrpy / ours "
        "| vcrpy, all N in order (est.) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in r.sizes:
        ours = s.ms(OURS)
        theirs = "cannot load | –"
        if s.ok(CASSETTER):
            theirs = f"{s.ms(CASSETTER):.2f} ({s.timed(CASSETTER)}) | {s.ms(CASSETTER) / ours:.1f}x"
        lines.append(
            f"| {s.n:,} | {spread(s.per_pass_ms(OURS), digits=3)} | {s.first_ms(OURS):.1f} "
            f"| {s.steady_us(OURS):.0f} | {s.ms(VCRPY):.2f} ({s.timed(VCRPY)}) "
            f"| {theirs} | {s.ms(VCRPY) / ours:,.1f}x "
            f"| {_duration(s.ms(VCRPY) * s.n / 1e3)} |"
        )
    return lines


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _loads(s: SizeResult, kind: str) -> str:
    return spread([p.load_s for p in s.passes[kind]], digits=3)


def _load_table(r: ScaleResults) -> list[str]:
    lines = [
        "| N | passes: ours / first run | ours load s | ours, first run s | vcrpy load s | cassetter load s "
        "| ours / vcrpy | first run / vcrpy | ours / cassetter | first run / cassetter "
        "| file MB: ours / vcrpy / cassetter |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in r.sizes:
        mb = " / ".join(f"{s.file_bytes[k] / 1e6:.2f}" for k in KINDS)
        theirs = _loads(s, CASSETTER) if s.ok(CASSETTER) else "cannot load"
        vs_cassetter = " | ".join(
            f"{s.load_s(k) / s.load_s(CASSETTER):.1f}x" if s.ok(CASSETTER) else "–" for k in (OURS, COLD)
        )
        lines.append(
            f"| {s.n:,} | {len(s.passes[OURS])} / {len(s.passes[COLD])} | {_loads(s, OURS)} | {_loads(s, COLD)} "
            f"| {_loads(s, VCRPY)} | {theirs} | {s.load_s(OURS) / s.load_s(VCRPY):.2f}x "
            f"| {s.load_s(COLD) / s.load_s(VCRPY):.2f}x | {vs_cassetter} | {mb} |"
        )
    return lines


def _first_run_lookups(r: ScaleResults) -> list[str]:
    """What the first-run passes' lookups cost beside the warm ones (same passes, same timing)."""
    per_size = "; ".join(
        f"{s.n:,}: {s.ms(COLD) * 1e3:.0f} µs mean and {s.steady_us(COLD):.0f} µs median after the first "
        f"({s.ms(OURS) * 1e3:.0f} and {s.steady_us(OURS):.0f} µs warm)"
        for s in r.sizes
    )
    shared = [s.n for s in r.sizes if s.n <= matcher._CACHE_SIZE]
    lru = (
        f" Up to {matcher._CACHE_SIZE} calls (the matcher's cache of canonical bodies holds that many) a first "
        "run's lookups can be cheaper: computing the recorded keys at load leaves their canonical bodies in that "
        "cache, and a live request, byte-identical to its recording once scrubbed, finds its own there "
        f"(N = {', '.join(f'{n:,}' for n in shared)} here). Above that size none is found there: replayed in "
        "recording order, each live request comes after its recording's body has been evicted."
        if shared
        else ""
    )
    return [
        "**First-run lookups.** The lookup table is the warm load cache's; the first-run passes replayed the same "
        "N calls, timed the same way, and their lookups need no more work: the recorded requests' keys come with "
        "the load either way (read from the entry, or computed by the first run's load, which writes them "
        "there), so the first lookup only builds the index from them. Median of passes per N: "
        f"{per_size}.{lru}",
    ]


def _suite_table(r: ScaleResults) -> list[str]:
    lines = [
        "| cassettes | repeats | ours s | ours, first run s | vcrpy s | cassetter s | ours ms / cassette "
        "| first run ms / cassette | ours / vcrpy | ours / cassetter | first run / vcrpy | first run / cassetter |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in r.suites:
        lines.append(
            f"| {s.cassettes:,} | {len(s.seconds[OURS])} | {spread(s.seconds[OURS], digits=3)} "
            f"| {spread(s.seconds[COLD], digits=3)} "
            f"| {spread(s.seconds[VCRPY], digits=3)} | {spread(s.seconds[CASSETTER], digits=3)} "
            f"| {s.total_s(OURS) / s.cassettes * 1e3:.2f} | {s.total_s(COLD) / s.cassettes * 1e3:.2f} "
            f"| {s.total_s(OURS) / s.total_s(VCRPY):.2f}x | {s.total_s(OURS) / s.total_s(CASSETTER):.1f}x "
            f"| {s.total_s(COLD) / s.total_s(VCRPY):.2f}x | {s.total_s(COLD) / s.total_s(CASSETTER):.1f}x |"
        )
    return lines


def _three(e: E2EResults, runs: Runs, n: int) -> str:
    return " / ".join(f"{e.per_call_ms(runs, n, how):.2f}" for how in (FASTEST, MEDIAN, SESSION))


E2E_ROWS = (
    ("record", "recording"),
    ("cached", "replay, load cache on"),
    ("replay", "replay, no load cache (first run, CI)"),
)
"""The end-to-end table's rows, per N: `E2EResults` attribute, label."""


def _e2e_table(e: E2EResults) -> list[str]:
    lines = [
        "| run | calls in the test | cassette MB | runs | wall s, median (min–max) "
        "| ms / call: fastest / median / session | wall / recording: fastest / median |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for attribute, label in E2E_ROWS:
        runs: Runs = getattr(e, attribute)
        for n in (0, e.small, e.large):
            per_call = _three(e, runs, n) if n else "–"
            ratios = (
                " / ".join(f"{e.seconds(runs, n, h) / e.seconds(e.record, n, h):.2f}x" for h in (FASTEST, MEDIAN))
                if runs is not e.record
                else "–"
            )
            lines.append(
                f"| {label} | {n:,} | {e.cassette_bytes[n] / 1e6:.2f} | {len(runs[n])} "
                f"| {spread([x.wall_s for x in runs[n]])} | {per_call} | {ratios} |"
            )
    floor = e.per_call_ms(e.floor, e.large)
    lines += [
        "",
        f"Floor (`test_floor`: the same {e.large:,} calls through openai-python answered by an httpx "
        f"`MockTransport`, no recorder, no server): {spread([x.wall_s for x in e.floor[e.large]])} s wall, "
        f"{spread([x.wall_s for x in e.floor[0]])} s with zero calls, so **{floor:.2f} ms per call** (fastest "
        f"runs; {_three(e, e.floor, e.large)} fastest / median / session) is openai-python's own cost (building "
        "and validating the request, parsing the response); our replay adds "
        f"{e.per_call_ms(e.cached, e.large) - floor:.2f} ms per call to it at {e.large:,} calls with the load "
        f"cache, {e.per_call_ms(e.replay, e.large) - floor:.2f} ms without.",
    ]
    return lines


def to_markdown(r: ScaleResults) -> str:
    big = r.size(max(s.n for s in r.sizes))
    e = r.e2e
    plot = f"![S1 plot]({Path(r.plot).name})" if r.plot.endswith(".png") else f"Plot {r.plot}."
    sizes = sorted(s.n for s in r.sizes)
    lines = [
        "## S1. Replay and load at any size",
        "",
        f"Reproduce: `{REPRODUCE_S1}`; alone, with the plot: `{REPRODUCE_PLOT}`. Peers: vcrpy {version('vcrpy')}, "
        f"cassetter {r.cassetter_version} (isolated uv environment from `benchmarks/peers/cassetter.txt`, driven by "
        f"`benchmarks/scale_child.py` through its Python API); pytest-recording {version('pytest-recording')}, "
        f"openai {version('openai')}, pytest {version('pytest')}. This section took {r.seconds:.0f} s.",
        "",
        "### 1. One cassette of N distinct chat completions",
        "",
        f"Bodies as in P1 (model, system and user messages with a file URL, skills in all five wire forms, "
        f"inline ones with the docs' bundle; mean {r.mean_body_bytes:,.0f} bytes), JSON responses; the cassette of "
        "N holds the first N. *ours* = the plugin's path: the cassette written by `save_interactions` (format 2), "
        "loaded by `Cassette.load` with the config of a `vcr.VCR()` wrapped by `configure_vcr(vcr, "
        "Scope.build(base_urls=[…]), cache=LoadCache(…))` (so through the `ScopedPersister` over vcrpy's "
        "`FilesystemPersister`, with the load cache the plugin keeps in `.pytest_cache/d/vlmrun-harness/`, here "
        "in the work folder), then `lookup.install(cassette, scope)`, then all N calls looked up in recording "
        "order through vcrpy's stub path (`can_play_response_for`, then `play_response`), every one timed. The "
        "load cache is filled by one untimed load before the passes, as a suite's first run fills it, so *ours* "
        "is what every later run gets: the load reads the cassette's entry (its pairs, exact bytes and recorded "
        "requests' keys, as JSON) instead of its YAML, and the first lookup builds the key index from those keys "
        "(checked after each pass: no entry was rewritten, so every load was a hit). *ours, first run* empties "
        "the load cache before each pass: the load parses the YAML, computes the recorded requests' keys and "
        "writes the entry (checked: it was written). *vcrpy body* = the same interactions saved by vcrpy's "
        "own persister (YAML, compact JSON string bodies), `vcr.VCR(match_on=(method, scheme, host, port, path, "
        "query, body))`, same stub path. *cassetter json_body* = its own recording of the same interactions, "
        "`match()` with `match_on=['method', 'uri', 'json_body']` (as P1). Every lookup timed was a hit "
        "(asserted). Passes per N (each a fresh load, kinds interleaved): "
        + ", ".join(f"{n:,}: {_passes(VCRPY, n)}" for n in sizes)
        + " for vcrpy and cassetter, ours' and its first run's in the load table; medians, spread of passes in "
        "brackets.",
        "",
        f"**Bounded peer samples.** vcrpy and cassetter scan the recordings on every lookup, so replaying all N "
        f"in order is quadratic (vcrpy body at {big.n:,}: about {_duration(big.ms(VCRPY) * big.n / 1e3)} by the "
        f"figures below). For N ≤ {PEER_SAMPLE} all N lookups are timed in order; above, the midpoints of "
        f"{PEER_SAMPLE} equal strata of the cassette, visited in bit-reversed order so that every prefix is spread "
        f"evenly, timed until {r.budget_s:g} s of lookups per pass (at least {PEER_MIN_LOOKUPS}). A hit's cost "
        "depends on its position, not on what was played before (vcrpy's `_responses` scans from the first "
        "recording on every call), so the sample's mean estimates the mean over all N in-order lookups; the "
        "number timed is in brackets. The last column multiplies it out.",
        "",
        *_lookup_table(r),
        "",
        _lookup_goal(r),
        "",
        *_first_run_lookups(r),
        "",
        *_load_table(r),
        "",
        *_failures(r),
        plot,
        "",
        f"### 2. Suites of small cassettes ({SUITE_CALLS} calls each)",
        "",
        "Total time to load every cassette of a suite, one per test, as each test's `use_cassette` does: ours a "
        "fresh `vcr.VCR()` with `configure_vcr` (one `LoadCache` for the session, as the plugin keeps it), "
        "`Cassette.load` through the `ScopedPersister` and `lookup.install` per cassette; *ours* with every "
        "cassette's entry in the load cache (filled by one untimed load of each beforehand; checked: all hits), "
        "*first run* once per suite size with the load cache emptied first (every cassette parsed and its entry "
        "written); vcrpy a fresh `vcr.VCR(match_on=…body)` and `Cassette.load`; cassetter "
        "`Cassette(path, record_mode=NONE).load()` in its child, timed there. Distinct files (the suite of 100 is "
        "the first 100 of the 1,000), warm in the page cache; medians of interleaved repeats (the first run "
        "in the first repeat's rotation).",
        "",
        *_suite_table(r),
        "",
        "### 3. The issue's scenario: one pytest test making N chat completions",
        "",
        f"A generated test file (`{TEST_NAME}.py`, in a temporary folder, no conftest): `test_many_calls` uses the "
        "plugin's `openai_client` fixture and makes N distinct `chat.completions.create` calls (the seed "
        "examples' messages with a unique system prompt and text per call, skills in dict form via `extra_body`; "
        "inline bundles stored once under `_blobs`). Each run is a fresh `sys.executable -m pytest` process "
        "timed as the user waits (interpreter start, imports, collection, the embedded server when recording), "
        "with bytecode cached as in a user's environment (see the top of this file; one untimed recording and "
        "one untimed floor run come first, so pytest's rewritten plugins are cached too). "
        f"Recording: `{e.commands['record']}` against the embedded reference server, each run into a fresh "
        f"folder ({E2E_RECORDS} each for 0 and {e.small} calls, {E2E_RECORDS_LARGE} for {e.large:,}). "
        f"Replay, on the first recording, two ways: *load cache on*, `{e.commands['cached']}`, timed after one "
        "untimed run of the same command in the same folder, which fills `.pytest_cache/d/vlmrun-harness/` "
        "(checked: the timed runs rewrote no entry, so each read it): what every run after the first sees; *no "
        f"load cache*, `{e.commands['replay']}`: pytest's cache off, so the plugin has none and each run parses "
        "the YAML and computes the recorded keys at the first lookup, as a first run does (less the entry's "
        "write) and as CI does unless it keeps `.pytest_cache`. Interleaved runs "
        f"({E2E_REPLAYS} each for 0 and {e.small} calls, {E2E_REPLAYS_LARGE} for {e.large:,} and the floor). "
        "Per call = (wall at N − wall with zero calls) / N, the zero-call run being the same command on the "
        "same file with N = 0 (no cassette, so neither a load nor a lookup), from the fastest runs of each, from "
        "their medians, and from the medians of pytest's own `passed in …s` (*session*: collection and the "
        "test, no interpreter start, so less noise, same costs per call).",
        "",
        *_e2e_table(e),
        "",
        *_goals(r),
        "",
        *_limits(r),
    ]
    return "\n".join(lines) + "\n"


def _failures(r: ScaleResults) -> list[str]:
    """A paragraph per recorder that could not load some cassette, at the smallest such N."""
    lines = []
    for kind in KINDS:
        failed = [s for s in r.sizes if not s.ok(kind)]
        if not failed:
            continue
        s = failed[0]
        lines += [
            f"**{kind} cannot load the cassette of {s.n:,} calls** ({s.file_bytes[kind] / 1e6:.1f} MB): "
            f"`{s.failed[kind]}`. Its Rust YAML parser stops after a fixed budget of YAML nodes (we found no "
            f"setting for it in its Python API); {s.loadable[kind]:,} of these interactions lie wholly before the "
            f"line it names, so with bodies like these a cassetter cassette holds at most about "
            f"{s.loadable[kind]:,} calls, short of the issue's 2,000-call test. Recording it worked (`save`); only "
            "loading fails, so the failure shows up on the first replay.",
            "",
        ]
    return lines


def _goals(r: ScaleResults) -> list[str]:
    e = r.e2e
    growth, ratio = e.growth(e.cached), e.replay_vs_record(e.cached)
    added = e.per_call_ms(e.cached, e.small) * e.small / 1e3
    walls = [x.wall_s for x in e.cached[e.small]]
    return [
        "The goals are judged on replay with the load cache on, what every run after a suite's first sees; the "
        "same figures without it (a first run, or CI without a kept `.pytest_cache`) follow each goal. "
        "Per-call figures and ratios are judged on the fastest runs: on a shared machine noise only adds time, "
        f"and {e.small} calls add only about {added:.2f} s to a {e.seconds(e.cached, 0):.1f} s process (replay "
        f"with the load cache, fastest runs), against {max(walls) - min(walls):.2f} s between the fastest and "
        f"slowest of its {len(walls)} runs (load average {r.load_start} at the start of this section, "
        f"{r.load_end} at its end). The median and session-time figures are given beside them.",
        "",
        f"**Goal, per-call replay at {e.large:,} ≤ {E2E_GROWTH_GOAL}x that at {e.small}: "
        f"{verdict(growth <= E2E_GROWTH_GOAL)} ({growth:.2f}x with the load cache; "
        f"{e.growth(e.cached, MEDIAN):.2f}x from medians, {e.growth(e.cached, SESSION):.2f}x from pytest's session "
        f"times).** Without it: {e.growth(e.replay):.2f}x ({e.growth(e.replay, MEDIAN):.2f}x from medians, "
        f"{e.growth(e.replay, SESSION):.2f}x from session times). **Goal, replay ≤ {E2E_REPLAY_GOAL}x the "
        f"recording time at {e.large:,} calls: {verdict(ratio <= E2E_REPLAY_GOAL)} ({ratio:.2f}x as the user "
        f"waits with the load cache, {e.replay_vs_record(e.cached, MEDIAN):.2f}x from medians; "
        f"{e.net_replay_vs_record(e.cached):.2f}x per call net of the zero-call runs, "
        f"{e.net_replay_vs_record(e.cached, SESSION):.2f}x from session times).** Without it: "
        f"{e.replay_vs_record(e.replay):.2f}x as the user waits ({e.replay_vs_record(e.replay, MEDIAN):.2f}x from "
        f"medians; {e.net_replay_vs_record(e.replay):.2f}x per call net, "
        f"{e.net_replay_vs_record(e.replay, SESSION):.2f}x from session times).",
    ]


def _behind_cassetter(r: ScaleResults) -> list[SizeResult]:
    """The sizes at which cassetter's lookup (mean, same sample) is faster than ours."""
    return [s for s in r.sizes if s.ok(CASSETTER) and s.ms(CASSETTER) <= s.ms(OURS)]


def _versus_cassetter(r: ScaleResults) -> str:
    """cassetter's time / ours at every size, as `0.7x at 10, 4.1x at 100, …`."""
    parts = [f"{s.ms(CASSETTER) / s.ms(OURS):.1f}x at {s.n:,}" for s in r.sizes if s.ok(CASSETTER)]
    cannot = [f"{s.n:,}" for s in r.sizes if not s.ok(CASSETTER)]
    return ", ".join(parts) + (f"; it cannot load {', '.join(cannot)}" if cannot else "")


def _lookup_goal(r: ScaleResults) -> str:
    behind = _behind_cassetter(r)
    small = r.size(min(s.n for s in r.sizes))
    text = (
        f"**Goal, a lookup ahead of cassetter at every size: {verdict(not behind)}** (cassetter's time / ours: "
        f"{_versus_cassetter(r)})."
    )
    if not behind:
        return text
    return (
        f"{text} At {', '.join(f'{s.n:,}' for s in behind)} calls cassetter's scan has too few candidates "
        "to cost anything, and what remains is each tool's fixed work per request. Ours is bounded below by what "
        "vcrpy and the harness must do to every live request before any key exists: vcrpy's "
        "`before_record_request` chain deep-copies it (so users' filters never change the request the client "
        "sent), and the harness scrubs secrets out of the copy (a JSON parse and walk), so that a live request "
        f"matches its scrubbed recording. The median lookup after the first takes "
        f"{small.steady_us(OURS):.0f} µs at {small.n:,} calls; the mean adds the first lookup "
        f"({small.first_ms(OURS):.1f} ms: the index build and each cache's first use), "
        f"{small.first_ms(OURS) / (small.ms(OURS) * small.n):.0%} of the mean at this size. "
        "cassetter's `match()` does neither (no request filters, no scrubbing before matching)."
    )


def _more(ms: float) -> str:
    return f"{abs(ms):.2f} ms per call {'more' if ms >= 0 else 'less'}"


def _nearest(r: ScaleResults, key: Callable[[SizeResult], float], target: float) -> SizeResult:
    """The size whose `key` is closest to `target` on a log scale."""
    return min(r.sizes, key=lambda s: abs(math.log(key(s) / target)))


def _limits(r: ScaleResults) -> list[str]:
    big = r.size(max(s.n for s in r.sizes))
    small = r.size(min(s.n for s in r.sizes))
    mid = r.size(sorted(s.n for s in r.sizes)[-2]) if len(r.sizes) > 1 else big
    e = r.e2e
    floor = e.per_call_ms(e.floor, e.large)
    cached = e.per_call_ms(e.cached, e.large)
    uncached = e.per_call_ms(e.replay, e.large)
    record = e.per_call_ms(e.record, e.large)
    like = _nearest(r, lambda s: s.file_bytes[OURS], e.cassette_bytes[e.large])
    per_mb = {k: like.load_s(k) / (like.file_bytes[OURS] / 1e6) for k in (OURS, COLD)}
    load_e2e = {k: per_mb[k] * e.cassette_bytes[e.large] / 1e6 / e.large * 1e3 for k in (OURS, COLD)}
    near = _nearest(r, lambda s: s.n, e.large)
    rest = cached - floor - load_e2e[OURS] - near.ms(OURS)
    remainder = (
        f"the remaining {rest:.2f} ms is vcrpy's httpx stub (building its `Request` and the response) and the "
        "pytest session around it"
        if rest >= 0.05
        else f"these estimates, from separate measurements, already add up to {cached - rest:.2f} ms, leaving "
        "nothing measurable for vcrpy's httpx stub"
    )
    growth = {k: big.load_s(k) / mid.load_s(k) for k in (OURS, COLD, VCRPY)}
    suite = r.suites[-1]
    per_cassette = {k: suite.total_s(k) / suite.cassettes * 1e3 for k in TIMED}
    return [
        "**What limits each figure.**",
        "",
        f"- *Lookup, ours*: a dict access per call, so a lookup's cost does not depend on N: the median lookup "
        f"after the first takes {small.steady_us(OURS):.0f} µs at {small.n:,} and {big.steady_us(OURS):.0f} µs "
        f"at {big.n:,}. The means add the first lookup, which builds the index from the keys the load brought "
        f"(a dict of every recorded request's key, {big.first_ms(OURS):.1f} ms at {big.n:,}: "
        f"{big.first_ms(OURS) / (big.ms(OURS) * big.n):.0%} of the mean there), and whatever pauses the shared "
        f"machine inflicts on a pass ({big.n:,} lookups take {_duration(big.ms(OURS) * big.n / 1e3)}; the "
        "spread of the passes is in the table). What a lookup costs is vcrpy's `before_record_request` chain, "
        "run once per lookup (vcrpy's own in `can_play_response_for`; the filtered copy it hands back to the "
        "hook through `__contains__` is recognised and passed through, and the index keeps the key of each "
        "distinct live request for `play_response`): a `copy.deepcopy` of the request and our scrubbing of the "
        "copy (which parses and walks the JSON body). The live request's key costs a dict access: a body sent "
        "byte for byte as recorded (as every call here is) takes its recording's key, found among the recorded "
        "bodies of the same length; only a body in another form has its canonical form computed (`json.loads`, "
        "`canonicalize`, sha256; P1's profile).",
        f"- *Lookup, vcrpy body*: every lookup scans from the first recording and runs all seven matchers on each "
        f"candidate, the body matcher parsing both JSON bodies; a hit at position k costs about 2k candidate "
        f"comparisons (`can_play_response_for`, then `play_response`), so the mean grows linearly with N and a "
        f"full in-order replay quadratically. Estimated from a bounded sample above {PEER_SAMPLE} calls.",
        "- *Lookup, cassetter*: a scan in Rust, but `json_body` compares parsed JSON per candidate (several µs "
        "each, P1), so it also grows linearly with N; it records in its own order (`save` sorts interactions), "
        "so a sampled hit's position in its file is not the recording position, and the sample's mean carries "
        "more spread. Past about 1,800 of these calls it cannot load its cassette at all (above).",
        "- *Load, ours with the load cache*: the plugin keeps what loading a VLM Run cassette yields (its vcrpy "
        "pairs with their exact bytes, its metadata and the recorded requests' keys) as JSON in pytest's cache "
        "folder (`recording/load_cache.py`). An entry is used only when it is provably the file's: its header "
        "names the sha256 of the cassette's bytes (read anyway), a fingerprint of the harness's code and "
        "PyYAML's version, and its own length; the keys carry the hash of the API description in use; each blob "
        "the cassette references must have the size and modification time it had when the entry was written. "
        "Anything else is a miss and the cassette is parsed as on a first run. A hit costs reading and hashing "
        "the cassette, `json.loads` of the entry and building vcrpy's `Request`s with their keys: "
        f"{big.load_s(OURS):.3f} s at {big.n:,} calls, {per_mb[OURS]:.3f} s per MB of our format at "
        f"{like.n:,}.",
        "- *Load, ours on a first run* (and vcrpy): PyYAML's constructor runs in Python (libyaml only scans and "
        "parses); ours uses a safe loader of its own (duplicate keys, aliases and merge keys refused), restores "
        "each JSON body's exact bytes (`json.loads` and compact `json.dumps`, bundle references resolved), then "
        "computes every recorded request's key and writes the entry: "
        f"{per_mb[COLD]:.2f} s per MB at {like.n:,} calls, {big.load_s(COLD) / big.load_s(VCRPY):.2f}x vcrpy's "
        f"load at {big.n:,}. vcrpy's `Cassette.append` runs `before_record_request` on every loaded interaction "
        "(a `copy.deepcopy` of the request, then the filters): vcrpy pays it, ours passes the requests it loaded "
        "through unchanged, as they were filtered and scrubbed when recorded. "
        f"From {mid.n:,} to {big.n:,} calls ({big.n / mid.n:g}x the data) ours took {growth[OURS]:.1f}x as long "
        f"with the load cache, {growth[COLD]:.1f}x on a first run, and vcrpy {growth[VCRPY]:.1f}x "
        f"({len(big.passes[OURS])}, {len(big.passes[COLD])} and {len(big.passes[VCRPY])} passes at {big.n:,}, "
        "so noisy). cassetter parses YAML in Rust, up to its node budget.",
        f"- *Suites*: per five-call cassette, {per_cassette[OURS]:.2f} ms for ours with the load cache (reading "
        "and verifying the entry, plus a fresh `VCR`, `configure_vcr` and the `ScopedPersister` per test), "
        f"{per_cassette[COLD]:.2f} ms on a first run (PyYAML, the keys and the entry's write instead), "
        f"{per_cassette[VCRPY]:.2f} ms for vcrpy and {per_cassette[CASSETTER]:.2f} ms for cassetter; linear in "
        "the number of cassettes. Once per session ours also computes the code fingerprint the entries are "
        f"checked against (hashing the harness's sources): {r.fingerprint_s * 1e3:.1f} ms here, computed before "
        "these loads, so in none of the totals (the end-to-end runs include it).",
        f"- *End to end*: replay with the load cache at {e.large:,} calls costs {cached:.2f} ms per call (fastest "
        f"runs). Of that, {floor:.2f} ms is openai-python's own request building and response parsing (the "
        "floor: no recorder goes below it); loading the "
        f"{e.cassette_bytes[e.large] / 1e6:.1f} MB cassette from the load cache is about {load_e2e[OURS]:.3f} ms "
        f"per call (item 1's rate at {like.n:,} calls); our lookup about {near.ms(OURS):.2f} ms (item 1, "
        f"{near.n:,} calls); {remainder}. Without the load cache replay costs {uncached:.2f} ms per call, "
        f"{_more(uncached - cached)}, against {_more(load_e2e[COLD] - load_e2e[OURS])} for item 1's first-run "
        "load of a cassette this size (there with the entry's write, which a run without pytest's cache does "
        f"not do). Recording costs {record:.2f} ms per call against the embedded "
        "reference server, which answers in-process on loopback in about a millisecond: the same client work "
        "plus the server's and the cassette's save, so replay cannot be much cheaper than recording here. "
        "Against the real API (seconds per completion) recording takes orders of magnitude longer; the ≤ 0.5x "
        "goal is judged here against the fastest server there is. The zero-call runs differ (recording starts "
        "the embedded server, replay does not): the wall ratio includes that, the net ratio does not. "
        "Conformance (on by default) judged the cassette in the untimed run that filled the load cache, which "
        "kept its clean verdict beside the entry (`replay_check`: the same bytes under the same description, "
        "harness and validator); the timed runs with the load cache reuse it, the runs without it judge all "
        "of the cassette's interactions after the test (about 0.1 ms each).",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__.split("\n")[0])
    parser.add_argument("--large", type=int, default=E2E_LARGE, help=f"end-to-end large N (default {E2E_LARGE})")
    parser.add_argument("--small", type=int, default=E2E_SMALL, help=f"end-to-end small N (default {E2E_SMALL})")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="cassette sizes of part 1 (default 10 … 10,000)"
    )
    parser.add_argument(
        "--suites", type=int, nargs="+", default=list(SUITES), help="suite sizes of part 2 (default 1 100 1,000)"
    )
    parser.add_argument("--budget", type=float, default=PEER_BUDGET_S, help="seconds of peer lookups per pass")
    parser.add_argument("--no-plot", action="store_true", help="do not draw benchmarks/scale.png")
    parser.add_argument("--keep", type=Path, default=None, help="keep the cassettes and test folders here")
    parser.add_argument("--save", type=Path, default=None, help="also pickle the results to this file")
    parser.add_argument("--load", type=Path, default=None, help="render pickled results instead of running")
    args = parser.parse_args(argv)
    if args.load is not None:
        loaded: ScaleResults = pickle.loads(args.load.read_bytes())  # our own file, written by --save
        if not args.no_plot:
            loaded.plot = plot(loaded, SCALE_PNG)
        print(to_markdown(loaded))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = args.keep or Path(tmp)
        results = run(
            workdir,
            sizes=args.sizes,
            suites=args.suites,
            small=args.small,
            large=args.large,
            budget_s=args.budget,
            plot_path=None if args.no_plot else SCALE_PNG,
        )
    if args.save is not None:
        args.save.write_bytes(pickle.dumps(results))
    print(to_markdown(results))
    log(f"S1: {results.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
