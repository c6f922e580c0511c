"""`harness check`: the CI gate, one step after another, each reported the same way.

Order: the description must be valid before anything is tested against it; the property
tests need a server (the embedded reference server unless `--base-url`); cassettes,
snapshots, the installed client stack and the optional description diff need none. A step
that errors stops nothing after it except what depends on it, so one run shows everything.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.contract import Contract, load_contract
from harness.errors import HarnessError
from harness.gate.compat_steps import client_stack_step, diff_step
from harness.gate.model import GateResult, Step
from harness.gate.reports import write_reports
from harness.gate.snapshot_status import run_snapshot_tests
from harness.gate.steps import cassettes_step, description_step, properties_step
from harness.properties.runner import RunOptions
from harness.recording.verify import discover_cassette_dirs

STYLE = {"passed": "green", "failed": "red", "error": "yellow", "skipped": "dim"}


@dataclass
class GateOptions:
    description: Path
    root: Path = field(default_factory=Path.cwd)
    base_url: str | None = None
    api_key: str | None = None
    max_examples: int = 25
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")
    seed: int | None = None
    workers: int = 1
    cassettes: list[Path] | None = None
    report_dir: Path = Path("harness-report")
    skip: frozenset[str] = frozenset()
    against: str | None = None
    waivers: Path | None = None
    fail_on: str = "ERR"


@contextlib.contextmanager
def _server(opts: GateOptions, contract: Contract) -> Iterator[tuple[str, str]]:
    if opts.base_url:
        assert opts.api_key is not None
        yield opts.base_url.rstrip("/"), opts.api_key
        return
    from harness.reference.app import ServerConfig, create_app
    from harness.reference.server import serve_in_thread

    key = secrets.token_urlsafe(24)  # a one-off key: nothing to leak, nothing to configure
    with serve_in_thread(create_app(config=ServerConfig(api_key=key), contract=contract)) as running:
        yield running.url, key


class Gate:
    def __init__(self, opts: GateOptions, console: Console) -> None:
        self.opts, self.console = opts, console
        self.result = GateResult(target=opts.base_url or "embedded reference server")

    def _step(self, name: str, work: Callable[[], Step]) -> Step:
        """Run one step (or skip it); a HarnessError becomes that step's error, not the gate's end."""
        if name in self.opts.skip:
            return Step(name, "skipped", "skipped (--skip)")
        start = time.perf_counter()
        try:
            step = work()
        except HarnessError as exc:
            step = Step(name).error(str(exc))
        step.seconds = time.perf_counter() - start
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

    def run(self) -> GateResult:
        opts = self.opts
        try:
            contract = load_contract(str(opts.description))
        except HarnessError as exc:
            failure = Step("description").error(str(exc), f"fix {opts.description}")
            self._timed("description", lambda: failure)
            return self.result
        if self._timed("description", lambda: description_step(contract, opts.description)).status != "passed":
            return self.result
        paths = opts.cassettes if opts.cassettes is not None else discover_cassette_dirs(opts.root)
        work: dict[str, Callable[[], Step]] = {
            "properties": lambda: self._properties(contract),
            "cassettes": lambda: cassettes_step(paths, contract)[0],
            "snapshots": lambda: run_snapshot_tests(opts.root),
            "client-stack": client_stack_step,
        }
        if opts.against:
            against = opts.against
            work["diff"] = lambda: diff_step(against, opts.description, paths, opts.root, opts.waivers, opts.fail_on)
        # The steps after the description are independent and mostly wait on subprocesses
        # (schemathesis, pytest, the stack probe): run together, the gate takes about as long
        # as its property step instead of the sum. Lines print as steps finish; the report
        # keeps this order.
        with ThreadPoolExecutor(max_workers=len(work)) as pool, self.console.status(", ".join(work) + "…"):
            futures = {pool.submit(self._step, name, fn): name for name, fn in work.items()}
            done = {}
            for future in as_completed(futures):
                done[futures[future]] = step = future.result()
                self._report(step)
        self.result.steps += [done[name] for name in work]
        return self.result

    def _properties(self, contract: Contract) -> Step:
        opts = self.opts
        with _server(opts, contract) as (url, key):
            run_opts = RunOptions(
                description=opts.description,
                base_url=url,
                api_key=key,
                max_examples=opts.max_examples,
                junit_path=opts.report_dir / "schemathesis.xml",
                seed=opts.seed,
                workers=opts.workers,
                phases=opts.phases,
            )
            return properties_step(run_opts)[0]


def summary_table(result: GateResult) -> Table:
    table = Table(title=f"harness check: {result.verdict}")
    for column in ("step", "result", "summary", "time"):
        table.add_column(column)
    for s in result.steps:
        table.add_row(s.name, f"[{STYLE[s.status]}]{s.status}[/]", escape(s.summary), f"{s.seconds:.1f} s")
    return table


def run_gate(opts: GateOptions, console: Console) -> GateResult:
    result = Gate(opts, console).run()
    console.print(summary_table(result))
    for step in result.steps:
        if step.status in ("failed", "error"):
            console.print(f"[{STYLE[step.status]}]{step.name}[/]:", highlight=False)
            for line in step.details[:20]:
                console.print(f"  {line}", highlight=False, markup=False)
            for hint in step.next_steps:
                console.print(f"  → {hint}", highlight=False, markup=False)
    written = write_reports(result, opts.report_dir)
    console.print(f"reports: {', '.join(map(str, written))}", highlight=False)
    return result
