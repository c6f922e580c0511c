"""S1 parts 1 and 2: one cassette of N calls, and suites of small cassettes, loaded and looked up
by ours (warm and first-run load cache), vcrpy's body matcher and cassetter, in the same process
or its child."""

from __future__ import annotations

import gc
import re
import shutil
import time
from collections.abc import Callable, Sequence
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
)
from benchmarks.common import (
    COMPLETIONS_URI,
    ROOT,
    live_headers,
    live_request,
    log,
    peer_interaction,
    rotated,
    save_vcrpy,
)
from benchmarks.peer_envs import PeerChild
from benchmarks.scale_e2e import (
    E2EResults,
    cache_entries,
)
from harness.recording import lookup as key_lookup
from harness.recording import matcher
from harness.recording.cassette_io import save_interactions
from harness.recording.configure import configure_vcr
from harness.recording.interaction import Interaction
from harness.recording.load_cache import LoadCache
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
SCALE_PNG = ROOT / "benchmarks" / "scale.png"
SCALE_CHILD = Path(__file__).resolve().parent / "scale_child.py"

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
        self.filled = cache_entries(self.folder(False))
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
        found = cache_entries(self.folder(cold))
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


def measure_size(
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


def measure_suites(
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


# -- the whole benchmark ------------------------------------------------------------------------


@dataclass
class ScaleResults:
    sizes: list[SizeResult]
    suites: list[SuiteResult]
    e2e: E2EResults
    """The scenario as a user installs the harness: the goals are judged on it."""
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
    e2e_project: E2EResults | None = None
    """The same scenario in this project's environment, for information."""

    def size(self, n: int) -> SizeResult:
        return next(s for s in self.sizes if s.n == n)
