"""Property-test throughput: the same derandomized cases in-process (ASGI) and over loopback.

The suite runs in-process by default and against a live server on request; this shows what
the socket costs, and how much of either is schemathesis generating the cases. Each mode
builds the schema the way `tests/proptests/target.py` does and drives the fuzzing phase
through the public API: per operation a Hypothesis test over positive and negative cases
(`operation.as_strategy`, combined like schemathesis' own builder) calling
`case.call_and_validate()` with every check. `derandomize=True` makes every mode draw the
same cases, so the modes differ only in transport.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.core.result import Ok
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from benchmarks.common import rotated
from harness.contract import default_description_path
from harness.proptests.strategies import register
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread

API_KEY = "benchmark-key"
IN_PROCESS = "in-process ASGI"
LOOPBACK = "loopback HTTP"
GENERATION = "generation only"
SUITE = "in-process ASGI, app constants"
MODES = (IN_PROCESS, LOOPBACK, GENERATION, SUITE)
GENERATION_MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@dataclass
class RequestCounter:
    """What the app served: checks such as `ignored_auth` send more than one request per case.

    ``stream`` hashes every request (method, path, query, whether it carried a key, body)
    in order, so two modes can be shown to have sent exactly the same requests.
    """

    count: int = 0
    stream: hashlib._Hash = field(default_factory=hashlib.sha256)

    def reset(self) -> None:
        self.count = 0
        self.stream = hashlib.sha256()


class _Counting:
    """Pure ASGI middleware, so the app stays a Starlette that `serve_in_thread` accepts."""

    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = hashlib.sha256()
        keyed = any(name == b"authorization" for name, _ in scope["headers"])

        async def receive_hashed() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.update(message.get("body", b""))
            return message

        async def send_recorded(message: Message) -> None:
            # Recorded before the response leaves: over loopback the client may otherwise
            # finish its pass and read the counter before this thread gets to it.
            if message["type"] == "http.response.start":
                line = f"{scope['method']} {scope['path']!r} {scope['query_string']!r} {keyed} {body.hexdigest()}\n"
                self.counter.count += 1
                self.counter.stream.update(line.encode())
            await send(message)

        await self.app(scope, receive_hashed, send_recorded)


def counted_app() -> tuple[Starlette, RequestCounter]:
    app = create_app(config=ServerConfig(api_key=API_KEY))
    counter = RequestCounter()
    app.add_middleware(_Counting, counter=counter)
    return app, counter


def build_schema(
    *, app: Starlette | None = None, base_url: str | None = None, constants: bool = False
) -> schemathesis.BaseSchema:
    """As `tests/proptests/target.py`: bundle strategy, bearer key, both generation modes.

    With an app, schemathesis mines string literals from its Python modules and feeds them
    to positive generation (`analysis.constants`, on by default, as in the suite); over
    HTTP there is no source to mine. Off, every mode draws byte-identical requests.
    """
    register()
    schema = schemathesis.openapi.from_path(str(default_description_path()))
    if base_url is not None:
        schema.config.update(base_url=base_url)
    else:
        schema.app = app
    schema.config.update(headers={"Authorization": f"Bearer {API_KEY}"})
    schema.config.generation.update(modes=list(GENERATION_MODES))
    schema.config.phases.update(phases=["fuzzing"])
    schema.config.analysis.constants.enabled = constants
    return schema


@dataclass
class Run:
    """One pass over every operation in one mode."""

    seconds: float
    cases: dict[str, int]
    failures: list[str]
    op_seconds: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    stream: str = ""

    @property
    def total(self) -> int:
        return sum(self.cases.values())


def _fuzz(
    operation: schemathesis.APIOperation[Any, Any, Any, Any], settings: hypothesis.settings, *, call: bool
) -> tuple[int, str | None]:
    """Cases run for one operation, and the failure if any (a finding to report, not a crash)."""
    strategy = st.one_of([operation.as_strategy(generation_mode=mode) for mode in GENERATION_MODES])
    seen = 0

    @settings
    @given(case=strategy)
    def test(case: schemathesis.Case[Any]) -> None:
        nonlocal seen
        seen += 1
        if call:
            case.call_and_validate()

    try:
        test()
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return seen, f"{operation.label}: {type(exc).__name__}: {first}"
    return seen, None


def run_fuzzing(schema: schemathesis.BaseSchema, *, max_examples: int, call: bool) -> Run:
    """Fuzz every operation with `max_examples`; count the cases the test body really ran.

    Hypothesis stops early when an operation has fewer distinct cases (GET /v1/health has
    one) and skips draws that fail its filters, so the count, not `max_examples`, divides.
    Only the generate phase runs: with no failure there is nothing to shrink anyway.
    """
    settings = hypothesis.settings(
        max_examples=max_examples,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    run = Run(0.0, {}, [])
    start = time.perf_counter()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            run.failures.append(f"invalid operation: {result.err()}")
            continue
        operation = result.ok()
        op_start = time.perf_counter()
        run.cases[operation.label], failure = _fuzz(operation, settings, call=call)
        run.op_seconds[operation.label] = time.perf_counter() - op_start
        if failure is not None:
            run.failures.append(failure)
    run.seconds = time.perf_counter() - start
    return run


@dataclass
class PropertyResults:
    max_examples: int
    repeats: int
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def median_seconds(self, mode: str) -> float:
        return median(r.seconds for r in self.runs[mode])

    def cases(self, mode: str) -> int:
        return int(median(r.total for r in self.runs[mode]))

    def cases_per_s(self, mode: str) -> float:
        return median(r.total / r.seconds for r in self.runs[mode])


@contextlib.contextmanager
def _scratch_hypothesis_home() -> Iterator[None]:
    """Keep Hypothesis' caches (mined constants, unicode data) out of the repository's `.hypothesis/`."""
    with tempfile.TemporaryDirectory(prefix="bench-hypothesis-") as home:
        set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            set_hypothesis_home_dir(None)


@dataclass(frozen=True)
class Target:
    schema: schemathesis.BaseSchema
    counter: RequestCounter | None  # None: nothing is called


@contextlib.contextmanager
def _targets() -> Iterator[dict[str, Target]]:
    in_app, in_counter = counted_app()
    suite_app, suite_counter = counted_app()
    loop_app, loop_counter = counted_app()
    with serve_in_thread(loop_app) as running:
        yield {
            IN_PROCESS: Target(build_schema(app=in_app), in_counter),
            LOOPBACK: Target(build_schema(base_url=running.url), loop_counter),
            GENERATION: Target(build_schema(app=in_app), None),
            SUITE: Target(build_schema(app=suite_app, constants=True), suite_counter),
        }


def run(*, max_examples: int = 100, repeats: int = 3, warmup_examples: int = 10) -> PropertyResults:
    """Warm every mode up, then interleave the timed passes, rotating the order each repeat."""
    results = PropertyResults(max_examples=max_examples, repeats=repeats, runs={mode: [] for mode in MODES})
    with _scratch_hypothesis_home(), _targets() as targets:
        for target in targets.values():
            run_fuzzing(target.schema, max_examples=warmup_examples, call=target.counter is not None)
        for rep in range(repeats):
            for mode in rotated(MODES, rep):
                target = targets[mode]
                if target.counter is not None:
                    target.counter.reset()
                result = run_fuzzing(target.schema, max_examples=max_examples, call=target.counter is not None)
                if target.counter is not None:
                    result.requests, result.stream = target.counter.count, target.counter.stream.hexdigest()
                results.runs[mode].append(result)
    return results


def to_markdown(results: PropertyResults) -> str:
    gen_s = results.median_seconds(GENERATION)
    base = results.runs[IN_PROCESS][0]
    lines = [
        "## Supporting P5: property tests in-process and over loopback (schemathesis fuzzing phase)",
        "",
        "Reproduce: `uv run --frozen python -m benchmarks properties`. No peer: this splits P5's property "
        "step into generation and transport.",
        "",
        f"{len(base.cases)} operations, `max_examples={results.max_examples}` per operation, positive + negative "
        "generation, every check (`case.call_and_validate()`), Hypothesis `derandomize=True`, generate phase "
        f"only; median of {results.repeats} passes per mode, interleaved with the order rotated. The first three "
        "modes have schemathesis' constant mining off, so they draw the same cases and differ only in transport: "
        f"{_same_requests(results)} *loopback* = `serve_in_thread` (uvicorn on a thread of this process) + "
        "`base_url`; *generation only* draws the same cases and calls nothing: the floor under both. *app "
        "constants* is how the suite runs in-process (schemathesis mines string literals from the app's modules "
        "when `schema.app` is set, on by default): different cases.",
        "",
        "| mode | cases | server requests | median s | cases/s | ms/case over generation | time/case vs in-process |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    in_rate = results.cases_per_s(IN_PROCESS)
    for mode in MODES:
        secs, cases = results.median_seconds(mode), results.cases(mode)
        requests = f"{median(r.requests for r in results.runs[mode]):g}" if mode != GENERATION else "0"
        over = f"{(secs - gen_s) / cases * 1e3:.2f}" if mode != GENERATION else "–"
        lines.append(
            f"| {mode} | {cases} | {requests} | {secs:.2f} | {results.cases_per_s(mode):.1f} | {over} "
            f"| {in_rate / results.cases_per_s(mode):.2f}x |"
        )
    lines += ["", *_per_operation(results)]
    failures = sorted({f"{mode}: {f}" for mode, runs in results.runs.items() for r in runs for f in r.failures})
    lines += ["", "Failures: none." if not failures else "Failures:\n" + "\n".join(f"- {f}" for f in failures)]
    lines += ["", *_notes(results)]
    return "\n".join(lines) + "\n"


def _per_operation(results: PropertyResults) -> list[str]:
    """Median ms per case for each operation and mode: where the time goes."""
    head = " | ".join(MODES)
    lines = [
        "Median ms per case, by operation:",
        "",
        f"| operation | cases | {head} |",
        "|---|---:|" + "---:|" * len(MODES),
    ]
    for label, cases in results.runs[IN_PROCESS][0].cases.items():
        cells = []
        for mode in MODES:
            per_case = median(r.op_seconds[label] / max(r.cases[label], 1) for r in results.runs[mode])
            cells.append(f"{per_case * 1e3:.1f}")
        lines.append(f"| {label} | {cases} | " + " | ".join(cells) + " |")
    return lines


def _same_requests(results: PropertyResults) -> str:
    """Whether in-process and loopback served the very same request stream, in every pass."""
    streams = {r.stream for mode in (IN_PROCESS, LOOPBACK) for r in results.runs[mode]}
    if len(streams) == 1:
        return (
            "the app saw an identical stream of requests (method, path, query, key, body hash) in every pass. "
            "Between processes the cases still vary a little (request counts from 583 to 629 were seen while "
            "writing this), so compare modes within one run, not across runs."
        )
    return f"**the request streams differed** ({len(streams)} distinct over all passes), so compare with care."


def _notes(results: PropertyResults) -> list[str]:
    in_s, loop_s, gen_s, suite_s = (results.median_seconds(m) for m in MODES)
    gen_runs = results.runs[GENERATION]
    op_share = {label: median(r.op_seconds[label] / r.seconds for r in gen_runs) for label in gen_runs[0].op_seconds}
    top = max(op_share, key=op_share.__getitem__)
    cases = results.cases(IN_PROCESS)
    in_over, loop_over = ((s - gen_s) / cases * 1e3 for s in (in_s, loop_s))
    return [
        f"**What limits it.** Drawing the cases alone takes {gen_s / in_s:.0%} of the in-process time, "
        f"{op_share[top]:.0%} of it on {top} (schemathesis' JSON-Schema strategies for its body; the bundle "
        "strategy does not show in a profile), so cases/s is bounded by Hypothesis generation, not by the "
        f"server. Loopback takes {loop_s / in_s:.2f}x the in-process time for the same cases: about "
        f"{loop_over:.1f} ms per case over generation against {in_over:.1f} ms in-process. Each loopback call "
        "opens a new `requests` session and TCP connection (schemathesis does when no session is passed, as in "
        "the suite), and uvicorn parses HTTP on a thread sharing this process's GIL with the client, so the "
        "second core does not help. Constant mining (the suite's in-process default) takes "
        f"{suite_s / in_s:.2f}x the time of in-process without it, for a different set of cases.",
    ]
