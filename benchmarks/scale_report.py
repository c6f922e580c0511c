"""S1's section of RESULTS.md: method, tables, goal verdicts and what limits each figure."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import (
    verdict,
    version,
)
from benchmarks.scale_e2e import (
    E2E_GROWTH_GOAL,
    E2E_RECORDS,
    E2E_RECORDS_LARGE,
    E2E_REPLAY_GOAL,
    E2E_REPLAYS,
    E2E_REPLAYS_LARGE,
    MEDIAN,
    PROJECT_ENV,
    SESSION,
    TEST_NAME,
    USER_INSTALL,
)
from benchmarks.scale_sizes import (
    CASSETTER,
    COLD,
    KINDS,
    OURS,
    PEER_MIN_LOOKUPS,
    PEER_SAMPLE,
    SUITE_CALLS,
    TIMED,
    VCRPY,
    ScaleResults,
    SizeResult,
    _passes,
)
from benchmarks.scale_tables import (
    REPRODUCE_PLOT,
    REPRODUCE_S1,
    behind_cassetter,
    duration,
    e2e_table,
    first_run_lookups,
    load_table,
    lookup_table,
    suite_table,
    versus_cassetter,
)


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
        f"in order is quadratic (vcrpy body at {big.n:,}: about {duration(big.ms(VCRPY) * big.n / 1e3)} by the "
        f"figures below). For N ≤ {PEER_SAMPLE} all N lookups are timed in order; above, the midpoints of "
        f"{PEER_SAMPLE} equal strata of the cassette, visited in bit-reversed order so that every prefix is spread "
        f"evenly, timed until {r.budget_s:g} s of lookups per pass (at least {PEER_MIN_LOOKUPS}). A hit's cost "
        "depends on its position, not on what was played before (vcrpy's `_responses` scans from the first "
        "recording on every call), so the sample's mean estimates the mean over all N in-order lookups; the "
        "number timed is in brackets. The last column multiplies it out.",
        "",
        *lookup_table(r),
        "",
        _lookup_goal(r),
        "",
        *first_run_lookups(r),
        "",
        *load_table(r),
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
        *suite_table(r),
        "",
        "### 3. The issue's scenario: one pytest test making N chat completions",
        "",
        f"A generated test file (`{TEST_NAME}.py`, in a temporary folder, no conftest): `test_many_calls` uses the "
        "plugin's `openai_client` fixture and makes N distinct `chat.completions.create` calls (the seed "
        "examples' messages with a unique system prompt and text per call, skills in dict form via `extra_body`; "
        "inline bundles stored once under `_blobs`). Each run is a fresh `python -m pytest` process "
        "timed as the user waits (interpreter start, imports, collection, the embedded server when recording), "
        "with bytecode cached as in a user's environment (see the top of this file; one untimed recording and "
        "one untimed floor run come first, so pytest's rewritten plugins are cached too). It runs twice. "
        f"*{USER_INSTALL}* (the goals are judged here, as the issue measured its scenario): F1's *with harness "
        "+ openai* environment, our wheel (`uv build`, the core, no extras) with pytest, vcrpy, "
        "pytest-recording and openai, every version pinned to uv.lock. "
        f"*{PROJECT_ENV}* (for information, after the goals): this checkout's venv with every extra and dev "
        "tool, whose schemathesis, hypothesis, syrupy and xdist pytest plugins load in every run, so each start "
        "costs more, the same for recording and replay. "
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
        f"**{USER_INSTALL[0].upper()}{USER_INSTALL[1:]}:**",
        "",
        *e2e_table(e),
        "",
        *_goals(r),
        "",
        *_project_env(r),
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


def _project_env(r: ScaleResults) -> list[str]:
    """Part 3 in this project's environment: its table and the goals' ratios there, for information."""
    p = r.e2e_project
    if p is None:
        return []
    return [
        f"**In {PROJECT_ENV}** (for information; the zero-call runs show what its plugins add to each start, "
        f"{p.seconds(p.cached, 0) - r.e2e.seconds(r.e2e.cached, 0):+.2f} s for a replay, fastest runs):",
        "",
        *e2e_table(p),
        "",
        f"There, per-call replay at {p.large:,} is {p.growth(p.cached):.2f}x that at {p.small} "
        f"({p.growth(p.cached, MEDIAN):.2f}x from medians), and replay takes {p.replay_vs_record(p.cached):.2f}x "
        f"the recording's wall time ({p.replay_vs_record(p.cached, MEDIAN):.2f}x from medians; "
        f"{p.net_replay_vs_record(p.cached):.2f}x per call net of the zero-call runs); without the load cache "
        f"{p.replay_vs_record(p.replay):.2f}x ({p.net_replay_vs_record(p.replay):.2f}x net).",
        "",
    ]


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


def _lookup_goal(r: ScaleResults) -> str:
    behind = behind_cassetter(r)
    small = r.size(min(s.n for s in r.sizes))
    text = (
        f"**Goal, a lookup ahead of cassetter at every size: {verdict(not behind)}** (cassetter's time / ours: "
        f"{versus_cassetter(r)})."
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
        f"machine inflicts on a pass ({big.n:,} lookups take {duration(big.ms(OURS) * big.n / 1e3)}; the "
        "spread of the passes is in the table). What a lookup costs is vcrpy's `before_record_request` chain, "
        "run once per lookup (vcrpy's own in `can_play_response_for`; the filtered copy it hands back to the "
        "hook through `__contains__` is recognised and passed through, and the index keeps the key of each "
        "distinct live request for `play_response`): a `copy.deepcopy` of the request and our scrubbing of the "
        "copy (which parses and walks the JSON body). The live request's key costs a dict access: a body sent "
        "byte for byte as recorded (as every call here is) takes its recording's key, found by its body's bytes "
        "in a dict; only a body in another form has its canonical form computed (`json.loads`, "
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
