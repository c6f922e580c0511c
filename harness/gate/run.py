"""`harness check`: the CI gate, its steps run together, each reported the same way.

Every step judges by the description in use (`contract.load_contract()`: the project's own,
overlays applied), unless `GateOptions.description` names a file.

Order: the description must be valid before any result is reported against it; the property
tests need a server: the one `--base-url` names, or, when asked for (`properties`), the
embedded reference server, which is ours and not the project's, so it is not tested by
default. Cassettes, snapshots, the installed client stack and the description diffs
(`--against`, the accepted description) need none. A green gate means something was
checked: a run in which every step but the description was skipped for want of something to
check is an error, not a pass. A server
given with `--base-url` must answer the preflight (`target`) before it gets a single case: a
wrong URL or key stops the gate with exit 2 and one line saying what to fix. Otherwise the
steps run concurrently, in threads (most wait on a subprocess), the property step (the longest)
first; a step that errors stops no other, so one run shows everything.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.contract import Contract, load_contract
from harness.errors import HarnessError, UsageError
from harness.gate.description_file import description_file, own_file
from harness.gate.model import GateResult, Step, count
from harness.gate.reports import write_reports
from harness.gate.snapshot_status import run_snapshot_tests
from harness.gate.steps import cassettes_step, description_step, properties_off_step, properties_step
from harness.gate.target import normalize_base_url, preflight
from harness.project_config import GATE_PROPERTIES
from harness.proptests.runner import RunOptions
from harness.settings import MARKDOWN_REPORT, MAX_EXAMPLES, PHASES, REPORT_DIR, SCHEMATHESIS_REPORT, WORKERS, ApiKey

STYLE = {"passed": "green", "failed": "red", "error": "yellow", "skipped": "dim"}
SHOWN_LINES = 80
"""Detail lines per failing step in the terminal; summary.md and junit.xml hold them all."""
HEAD_START_LIMIT = 60.0
"""Seconds the other steps wait at most for the property step to spawn schemathesis."""
NOTHING_CHECKED = "nothing was checked but the description: every other step was skipped"
NOTHING_CHECKED_FIXES = (
    "record a test that calls the API (`pytest --record-mode=once`), or snapshot a request it sends",
    "or run the property tests: against your server with --base-url URL, or the embedded one with "
    "--properties embedded",
)


@dataclass
class GateOptions:
    description: Path | None = None
    """A description file used as it is; None: the description in use (`contract.use_description`,
    which the CLI sets from its flags and `[tool.vlmrun-harness]`, overlays applied)."""
    root: Path = field(default_factory=Path.cwd)
    base_url: str | None = None
    """The API's root, with or without `/v1` (normalised by `normalize_base_url`)."""
    api_key: ApiKey | None = None
    """The key for `base_url`, and where it came from (messages name where to fix it)."""
    max_examples: int = MAX_EXAMPLES
    phases: tuple[str, ...] = PHASES
    seed: int | None = None
    workers: int = WORKERS
    cassettes: list[Path] | None = None
    report_dir: Path = REPORT_DIR
    skip: frozenset[str] = frozenset()
    against: str | None = None
    waivers: Path | None = None
    """Accepted breaks, for `against` and `accepted` alike."""
    fail_on: str = "ERR"
    properties: str = "off"
    """Property tests against the embedded reference server: "embedded" or "off" (`[tool.vlmrun-harness.gate]
    properties`). A server named with `base_url` is always tested."""
    accepted: Path | None = None
    """The description the project last accepted (`[tool.vlmrun-harness.gate] accepted`): diffed when set."""
    skills: tuple[Path, ...] = ()
    """The project's skill folders, served by the embedded reference server beside the seeded ones."""
    snapshot_args: tuple[str, ...] = ()
    """Options for the snapshot tests' pytest, so they judge by the same description (e.g. the CLI's
    `--description`/`--overlay` as `--vlmrun-description`/`--vlmrun-overlay`)."""

    def __post_init__(self) -> None:
        if self.properties not in GATE_PROPERTIES:
            raise UsageError(f"--properties must be one of {', '.join(GATE_PROPERTIES)}, got {self.properties!r}")

    @property
    def tests_properties(self) -> bool:
        """Whether the property step runs at all: against `base_url`, or the embedded server when asked for."""
        return "properties" not in self.skip and (bool(self.base_url) or self.properties == "embedded")


@contextlib.contextmanager
def _server(opts: GateOptions, contract: Contract) -> Iterator[tuple[str, ApiKey]]:
    if opts.base_url:
        assert opts.api_key is not None
        yield normalize_base_url(opts.base_url), opts.api_key
        return
    from harness.reference.app import ServerConfig, create_app
    from harness.reference.registry import Registry
    from harness.reference.server import serve_in_thread

    key = ApiKey(secrets.token_urlsafe(24), "local")  # a one-off key: nothing to leak, nothing to configure
    registry = Registry.seeded(*opts.skills)
    app = create_app(config=ServerConfig(api_key=key.value), registry=registry, contract=contract)
    with serve_in_thread(app) as running:
        yield running.url, key


class Gate:
    def __init__(self, opts: GateOptions, console: Console, clock: Callable[[], float] = time.perf_counter) -> None:
        self.opts, self.console, self.clock = opts, console, clock
        self.base_url = normalize_base_url(opts.base_url) if opts.base_url else None
        embedded = "embedded reference server" if opts.properties == "embedded" else ""
        self.result = GateResult(target=self.base_url or embedded)
        self._paths: list[Path] | None = None
        self._paths_lock = threading.Lock()
        self._started = threading.Event()
        self._lock = threading.Lock()
        self._stop: Callable[[], None] | None = None
        self._cancelled = False

    def _step(self, name: str, work: Callable[[], Step]) -> Step:
        """Run one step (or skip it); a HarnessError becomes that step's error, not the gate's end."""
        if name in self.opts.skip:
            return Step(name, "skipped", "skipped (--skip)")
        start = self.clock()
        try:
            step = work()
        except HarnessError as exc:
            step = Step(name).error(str(exc))
        step.seconds = self.clock() - start
        return step

    def _report(self, step: Step) -> None:
        mark = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}[step.status]
        colour = STYLE[step.status]
        self.console.print(
            f"[{colour}]{mark} {step.name}[/] {escape(step.summary)} [dim]({step.seconds:.1f} s)[/]", highlight=False
        )

    def _timed(self, name: str, work: Callable[[], Step]) -> Step:
        with self.console.status(f"{name}…"):
            step = self._step(name, work)
        self.result.steps.append(step)
        self._report(step)
        return step

    def _preflight(self) -> Step:
        """Can the server be tested at all? Asked before any case is generated (see `target`)."""
        assert self.base_url is not None
        assert self.opts.api_key is not None
        preflight(self.base_url, self.opts.api_key)
        return Step("properties")

    def run(self) -> GateResult:
        opts = self.opts
        try:
            contract = load_contract(str(opts.description)) if opts.description else load_contract()
        except HarnessError as exc:
            fix = (
                f"fix {opts.description}"
                if opts.description
                else "fix the file it names (the description or an overlay)"
            )
            failure = Step("description").error(str(exc), fix)
            self._timed("description", lambda: failure)
            return self.result
        work = self._work(contract)
        running = [name for name in work if name not in opts.skip]
        # Against the embedded server, which nothing else sees, the property step (the gate's
        # longest) starts while the description is checked, and is stopped if the check fails.
        # A server of yours gets no case before the description is valid and the server
        # answered the preflight.
        early = opts.tests_properties and not self.base_url
        with ThreadPoolExecutor(max_workers=len(work)) as pool:
            futures: dict[Future[Step], str] = {}
            if early:
                futures[pool.submit(self._after_start, "properties", work["properties"])] = "properties"
            if not self._ready(contract, early):
                self._stop_properties()
                return self.result
            # The other steps are independent and mostly wait on subprocesses (pytest, the
            # stack probe): run together, the gate takes about as long as its property step.
            # Lines print as steps finish, the live line names the steps still running, and
            # the report keeps this order.
            done: dict[str, Step] = {}
            for name in [name for name in work if name in opts.skip]:
                done[name] = self._step(name, work[name])
                self._report(done[name])
            if not opts.tests_properties:
                self._started.set()
            for name in running:
                if name not in futures.values():
                    futures[pool.submit(self._after_start, name, work[name])] = name
            with self.console.status(_running(running)) as status:
                for future in as_completed(futures):
                    name = futures[future]
                    done[name] = step = future.result()
                    running.remove(name)
                    status.update(_running(running))
                    self._report(step)
        self.result.steps += [done[name] for name in work]
        self._nothing_checked()
        return self.result

    def _nothing_checked(self) -> None:
        """Every step but the description skipped, not all on request (`--skip`): an error, never a pass."""
        rest = [step for step in self.result.steps if step.name != "description"]
        if any(step.status != "skipped" for step in rest) or all(step.name in self.opts.skip for step in rest):
            return
        step = Step("gate").error(NOTHING_CHECKED, *NOTHING_CHECKED_FIXES)
        self.result.steps.append(step)
        self._report(step)

    def _work(self, contract: Contract) -> dict[str, Callable[[], Step]]:
        opts = self.opts
        work: dict[str, Callable[[], Step]] = {
            "properties": lambda: self._properties(contract),
            "cassettes": lambda: cassettes_step(self._cassette_paths(), contract)[0],
            "snapshots": lambda: run_snapshot_tests(opts.root, opts.snapshot_args),
            "client-stack": client_stack_step,
        }
        if opts.against:
            work["diff"] = lambda: self._compared(contract, diff_step)
        if opts.accepted is not None:
            work["accepted"] = lambda: self._compared(contract, accepted_step)
        return work

    def _compared(self, contract: Contract, step: DiffStep) -> Step:
        """A diff of the description in use, read from its file (or a copy with the overlays applied)."""
        cassettes = self._cassette_paths()
        with description_file(contract) as path:
            return step(path, None if own_file(contract) else contract.source, cassettes, self.opts)

    def _ready(self, contract: Contract, early: bool) -> bool:
        """The description is valid, and a server of yours is reachable and takes the key."""
        opts = self.opts
        if early:  # the property step spawns schemathesis first; the check runs beside its start-up
            with self.console.status("properties: starting…"):
                self._started.wait(HEAD_START_LIMIT)
        if self._timed("description", lambda: description_step(contract)).status != "passed":
            return False
        if self.base_url and "properties" not in opts.skip:
            # A server that cannot be reached or refuses the key stops the gate here, before any
            # case: the invocation is wrong, and nothing the other steps find changes that.
            with self.console.status("properties: reaching the server…"):
                checked = self._step("properties", self._preflight)
            if checked.status == "error":
                self.result.steps.append(checked)
                self._report(checked)
                return False
        return True

    def _spawned(self, stop: Callable[[], None]) -> None:
        """The runner spawned schemathesis (`stop` kills it): the other steps may start."""
        with self._lock:
            self._stop, cancelled = stop, self._cancelled
        if cancelled:
            stop()
        self._started.set()

    def _stop_properties(self) -> None:
        with self._lock:
            self._cancelled, stop = True, self._stop
        if stop is not None:
            stop()

    def _after_start(self, name: str, work: Callable[[], Step]) -> Step:
        """The property step first: the others start once schemathesis is spawned (or the step
        is over), so their imports and subprocesses do not delay the gate's longest step."""
        if name == "properties":
            try:
                return self._step(name, work)
            finally:
                self._started.set()
        self._started.wait(HEAD_START_LIMIT)
        return self._step(name, work)

    def _cassette_paths(self) -> list[Path]:
        """The cassette folders, found once, by whichever step asks first (in its own thread)."""
        with self._paths_lock:
            if self._paths is None:
                from harness.recording.verify import discover_cassette_dirs

                found = self.opts.cassettes
                self._paths = found if found is not None else discover_cassette_dirs(self.opts.root)
            return self._paths

    def _properties(self, contract: Contract) -> Step:
        opts = self.opts
        if not opts.tests_properties:
            return properties_off_step()
        with description_file(contract) as description, _server(opts, contract) as (url, key):
            run_opts = RunOptions(
                description=description,
                base_url=url,
                api_key=key.value,
                max_examples=opts.max_examples,
                junit_path=opts.report_dir / SCHEMATHESIS_REPORT,
                seed=opts.seed,
                workers=opts.workers,
                phases=opts.phases,
            )
            step, _ = properties_step(run_opts, key_source=key.source, started=self._spawned)
            return step


# The steps that need the matrix, the diff engine or the cassette reader import them when they
# start, in their own thread: the property step, the gate's longest, starts without waiting
# for those imports (about 0.5 s; benchmark P5).


def client_stack_step() -> Step:
    from harness.gate.client_stack import client_stack_step as probe

    return probe()


DiffStep = Callable[[Path, str | None, list[Path], GateOptions], Step]
"""A diff step: the description in use (a file; its name when that is a copy), the cassettes, the options."""


def diff_step(description: Path, label: str | None, cassettes: list[Path], opts: GateOptions) -> Step:
    from harness.gate.description_diff import diff_step as compare

    assert opts.against is not None
    return compare(opts.against, description, cassettes, opts.root, opts.waivers, opts.fail_on, label=label)


def accepted_step(description: Path, label: str | None, cassettes: list[Path], opts: GateOptions) -> Step:
    from harness.gate.accepted import accepted_step as compare

    assert opts.accepted is not None
    return compare(opts.accepted, description, cassettes, opts.root, opts.waivers, opts.fail_on, label=label)


def _running(names: list[str]) -> str:
    return f"running {', '.join(names)}…" if names else "finishing…"


def summary_table(result: GateResult) -> Table:
    table = Table(title=f"harness check: {result.verdict}")
    for column in ("step", "result", "summary", "time"):
        table.add_column(column)
    for s in result.steps:
        table.add_row(s.name, f"[{STYLE[s.status]}]{s.status}[/]", escape(s.summary), f"{s.seconds:.1f} s")
    return table


def run_gate(opts: GateOptions, console: Console, *, clock: Callable[[], float] = time.perf_counter) -> GateResult:
    result = Gate(opts, console, clock).run()
    console.print(summary_table(result))
    for step in result.steps:
        if step.status not in ("failed", "error") or not (step.details or step.next_steps):
            continue
        console.print(f"[{STYLE[step.status]}]{step.name}[/]:", highlight=False)
        shown = step.details[:SHOWN_LINES]
        for line in shown:
            console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
        if len(step.details) > len(shown):
            more = count(len(step.details) - len(shown), "more line")
            console.print(f"  … {more} in {opts.report_dir / MARKDOWN_REPORT}", highlight=False, markup=False)
        for hint in step.next_steps:
            console.print(f"  → {hint}", highlight=False, markup=False, soft_wrap=True)
    written = write_reports(result, opts.report_dir)
    console.print(f"reports: {', '.join(map(str, written))}", highlight=False, soft_wrap=True)
    return result
