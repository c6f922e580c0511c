"""Run the schemathesis CLI against a server and read back what it found.

We drive the real `schemathesis run` (all phases, all checks, positive and negative data,
stateful links) rather than re-implementing it, and add only what it cannot know: the
bundle strategy (hooks module) and the key, passed through the environment and a
`${HARNESS_API_KEY}` placeholder so it never appears on a command line or on disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from harness.errors import UsageError
from harness.extras import require_extra
from harness.proptests.failures import CaseFailure, parse_failure_text
from harness.settings import COVERAGE_PHASE, MAX_EXAMPLES, PHASES, REPORT_DIR, SCHEMATHESIS_REPORT, WORKERS

CONFIG_FILE = Path(__file__).resolve().parent / "schemathesis.toml"
HOOKS_MODULE = "harness.proptests.hooks"
_TOTALS_RE = re.compile(r"Test cases:\s*\n\s*(.+)")
UNREACHABLE_ERRORS = frozenset({"Network Error", "Unhealthy API", "Unresponsive Operation"})
"""schemathesis' titles for requests that got no answer (4.32.5, `engine/errors.py`)."""


@dataclass(frozen=True)
class RunOptions:
    description: Path
    base_url: str
    api_key: str
    max_examples: int = MAX_EXAMPLES
    junit_path: Path = REPORT_DIR / SCHEMATHESIS_REPORT
    phases: tuple[str, ...] = PHASES
    seed: int | None = None
    workers: int = WORKERS
    timeout: float = 1800.0
    """Seconds for the whole run, all processes together."""


@dataclass
class OperationResult:
    name: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: bool = False
    """Not tested at all (e.g. no examples for the examples phase)."""

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors

    @property
    def failed_cases(self) -> list[CaseFailure]:
        """Each failing test case once (the same case can be reported by two phases)."""
        seen: dict[tuple[tuple[str, ...], tuple[str, ...]], CaseFailure] = {}
        for text in self.failures:
            for case in parse_failure_text(text):
                seen.setdefault((case.codes, case.curl or (case.case_id,)), case)
        return list(seen.values())


@dataclass
class SchemathesisJsonReport:
    """What schemathesis' JSON report (`--report json`) says about one process's run."""

    generated: int = 0
    errored: int = 0
    error_titles: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()
    """Operations that answered only 401/403 and never served a valid request (its `missing_auth` warning)."""

    @classmethod
    def read(cls, path: Path) -> SchemathesisJsonReport | None:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        cases = data.get("test_cases") or {}
        return cls(
            generated=int(cases.get("generated") or 0),
            errored=int(cases.get("errored") or 0),
            error_titles=frozenset(str(e.get("title")) for e in data.get("errors") or []),
            refused=frozenset((data.get("warnings") or {}).get("missing_auth") or []),
        )


@dataclass
class RunResult:
    returncode: int
    operations: list[OperationResult]
    output: str
    seed: int | None = None
    json_reports: list[SchemathesisJsonReport] = field(default_factory=list)

    @property
    def refused(self) -> list[str]:
        """Operations whose every answer was 401/403: the key is not accepted there."""
        return sorted(set().union(*(r.refused for r in self.json_reports)))

    @property
    def unreachable(self) -> bool:
        """Cases were generated and not one got an answer: every request failed to connect or timed out."""
        generated = sum(r.generated for r in self.json_reports)
        errored = sum(r.errored for r in self.json_reports)
        titles: set[str] = set().union(*(r.error_titles for r in self.json_reports))
        return generated > 0 and errored >= generated and bool(titles) and titles <= UNREACHABLE_ERRORS

    @property
    def totals(self) -> str:
        """schemathesis' count lines, summed over its processes: `1101 generated, 1101 passed, 10 skipped`.

        Its "found" (test cases with a failure) reads as "failing"; "unique failure(s)" is
        summed whatever its number and written with the right one.
        """
        counts: dict[str, int] = {}
        for line in _TOTALS_RE.findall(self.output):
            for number, word in re.findall(r"(\d+) ([a-z]+(?: [a-z]+)?)", line):
                word = {"found": "failing", "unique failures": "unique failure"}.get(word, word)
                counts[word] = counts.get(word, 0) + int(number)
        shown = [f"{n} {word}{'s' if word == 'unique failure' and n != 1 else ''}" for word, n in counts.items()]
        return ", ".join(shown) or "unknown"

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or any(not op.ok for op in self.operations)


def command(opts: RunOptions) -> list[str]:
    cmd = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(CONFIG_FILE),
        "run", str(opts.description),
        "--url", opts.base_url,
        "--max-examples", str(opts.max_examples),
        "--phases", ",".join(opts.phases),
        "--checks", "all",
        "--mode", "all",
        "--workers", str(opts.workers),
        "--report", "junit,json",
        "--report-junit-path", str(opts.junit_path),
        "--report-json-path", str(json_path(opts.junit_path)),
        "--suppress-health-check", "all",
        "--no-color",
    ]  # fmt: skip
    if opts.seed is not None:
        cmd += ["--seed", str(opts.seed)]
    return cmd


def json_path(junit_path: Path) -> Path:
    """schemathesis' JSON report beside its JUnit one: `schemathesis.xml` → `schemathesis.json`."""
    return junit_path.with_suffix(".json")


def split(opts: RunOptions) -> list[RunOptions]:
    """The coverage phase in a process of its own, with one worker, beside the other phases.

    schemathesis' own `--workers` crashes coverage generation in 4.32.5 ("Inconsistent
    results"), so `--workers` applies to the other phases only. Coverage is also the longest
    phase on this description (every boundary and negative case of the chat-completions
    schema): two processes use both cores.
    """
    if COVERAGE_PHASE not in opts.phases:
        return [opts]
    junit = opts.junit_path.with_name(f"{opts.junit_path.stem}-{COVERAGE_PHASE}{opts.junit_path.suffix}")
    coverage = replace(opts, phases=(COVERAGE_PHASE,), workers=1)
    rest = tuple(p for p in opts.phases if p != COVERAGE_PHASE)
    if not rest:
        return [coverage]
    return [replace(opts, phases=rest), replace(coverage, junit_path=junit)]


def choose_seed(opts: RunOptions) -> RunOptions:
    """A seed for every run, shared by its processes, so any run can be repeated with `--seed`."""
    return opts if opts.seed is not None else replace(opts, seed=secrets.randbelow(10**8))


def run(opts: RunOptions, *, started: Callable[[Callable[[], None]], None] = lambda stop: None) -> RunResult:
    """Run schemathesis. `started(stop)` is called once its processes are spawned, with a
    function that kills them: the gate starts its other steps then, and stops this one if the
    description turns out invalid."""
    require_extra("gate", "running the property tests")
    opts = choose_seed(opts)
    env = {**os.environ, "HARNESS_API_KEY": opts.api_key, "SCHEMATHESIS_HOOKS": HOOKS_MODULE}
    parts = [
        replace(part, description=part.description.resolve(), junit_path=part.junit_path.resolve())
        for part in split(opts)
    ]
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []

    def stop() -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()

    with contextlib.ExitStack() as stack:
        try:
            # The longest process (coverage, the last part) starts first.
            for index, part in reversed(list(enumerate(parts))):
                logs.insert(0, stack.enter_context(tempfile.TemporaryFile(prefix="harness-schemathesis-")))
                procs.insert(0, _spawn(part, index, env, logs[0]))
            started(stop)
            deadline = time.monotonic() + opts.timeout
            codes = [proc.wait(timeout=max(0.0, deadline - time.monotonic())) for proc in procs]
        except subprocess.TimeoutExpired as exc:
            raise UsageError(f"schemathesis did not finish within {opts.timeout:.0f}s against {opts.base_url}") from exc
        finally:
            stop()
            for proc in procs:
                proc.wait()
        output = "\n".join(_read(log) for log in logs)
    operations: dict[str, OperationResult] = {}
    seen: set[str] = set()
    for part, code in zip(parts, codes, strict=True):
        if not part.junit_path.is_file():
            raise UsageError(f"schemathesis wrote no report (exit {code}):\n{output[-4000:]}")
        for op in parse_junit(part.junit_path):
            merged = operations.setdefault(op.name, OperationResult(op.name))
            merged.cases += op.cases
            merged.failures += op.failures
            merged.errors += op.errors
            merged.skipped = op.skipped if op.name not in seen else merged.skipped and op.skipped
            seen.add(op.name)
    json_reports = [r for part in parts if (r := SchemathesisJsonReport.read(json_path(part.junit_path))) is not None]
    return RunResult(max(codes), list(operations.values()), output, opts.seed, json_reports)


def _spawn(part: RunOptions, index: int, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """One schemathesis process, its output going to `log`: a file, never a pipe, since a pipe
    not read while another process is awaited fills up and stalls its writer."""
    part.junit_path.unlink(missing_ok=True)  # a report left by an earlier run must not be read as this one's
    json_path(part.junit_path).unlink(missing_ok=True)
    # cwd: schemathesis keeps a crash cache in `.schemathesis/` of its working folder;
    # it belongs with the report, not in the user's checkout (one folder per process).
    cwd = part.junit_path.parent / (f".run-{index}" if index else "")
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(command(part), env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def _read(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode("utf-8", errors="replace")


def parse_junit(path: Path) -> list[OperationResult]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise UsageError(f"Cannot read JUnit report {path}: {exc}") from exc
    results: dict[str, OperationResult] = {}
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        op = results.setdefault(name, OperationResult(name))
        op.cases += 1
        op.skipped = case.find("skipped") is not None
        for tag, bucket in (("failure", op.failures), ("error", op.errors)):
            for node in case.findall(tag):
                bucket.append((node.text or node.get("message") or tag).strip())  # the text has the whole report
    return list(results.values())
