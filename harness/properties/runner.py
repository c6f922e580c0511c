"""Run the schemathesis CLI against a server and read back what it found.

We drive the real `schemathesis run` (all phases, all checks, positive and negative data,
stateful links) rather than re-implementing it, and add only what it cannot know: the
bundle strategy (hooks module) and the key, passed through the environment and a
`${HARNESS_API_KEY}` placeholder so it never appears on a command line or on disk.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.errors import UsageError
from harness.extras import require_extra

CONFIG_FILE = Path(__file__).resolve().parent / "schemathesis.toml"
HOOKS_MODULE = "harness.properties.hooks"
_TOTALS_RE = re.compile(r"Test cases:\s*\n\s*(.+)")


@dataclass(frozen=True)
class RunOptions:
    description: Path
    base_url: str
    api_key: str
    max_examples: int = 300
    junit_path: Path = Path("harness-report/junit.xml")
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")
    seed: int | None = None
    workers: int = 1
    timeout: float = 1800.0


@dataclass
class OperationResult:
    name: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors


@dataclass
class RunResult:
    returncode: int
    operations: list[OperationResult]
    output: str

    @property
    def totals(self) -> str:
        """schemathesis' count lines, summed over its processes: `1101 generated, 1101 passed, 10 skipped`."""
        counts: dict[str, int] = {}
        for line in _TOTALS_RE.findall(self.output):
            for number, word in re.findall(r"(\d+) ([a-z]+(?: [a-z]+)?)", line):
                counts[word] = counts.get(word, 0) + int(number)
        return ", ".join(f"{n} {word}" for word, n in counts.items()) or "unknown"

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
        "--report", "junit",
        "--report-junit-path", str(opts.junit_path),
        "--suppress-health-check", "all",
        "--no-color",
    ]  # fmt: skip
    if opts.seed is not None:
        cmd += ["--seed", str(opts.seed)]
    return cmd


SPLIT_PHASE = "coverage"


def split(opts: RunOptions) -> list[RunOptions]:
    """The coverage phase in a process of its own, beside the other phases.

    Coverage is the longest phase on this description (schemathesis generates every boundary
    and negative case of the chat-completions schema), and schemathesis' own `--workers`
    crashes coverage generation in 4.32.5 ("Inconsistent results"). Two processes use both
    cores safely. With explicit `--workers`, schemathesis' own parallelism is used instead.
    """
    if opts.workers != 1 or SPLIT_PHASE not in opts.phases or len(opts.phases) == 1:
        return [opts]
    rest = tuple(p for p in opts.phases if p != SPLIT_PHASE)
    junit = opts.junit_path.with_name(f"{opts.junit_path.stem}-{SPLIT_PHASE}{opts.junit_path.suffix}")
    return [replace(opts, phases=rest), replace(opts, phases=(SPLIT_PHASE,), junit_path=junit)]


def run(opts: RunOptions) -> RunResult:
    require_extra("gate", "running the property tests")
    env = {**os.environ, "HARNESS_API_KEY": opts.api_key, "SCHEMATHESIS_HOOKS": HOOKS_MODULE}
    parts = [
        replace(part, description=part.description.resolve(), junit_path=part.junit_path.resolve())
        for part in split(opts)
    ]
    procs = []
    for index, part in enumerate(parts):
        # cwd: schemathesis keeps a crash cache in `.schemathesis/` of its working folder;
        # it belongs with the report, not in the user's checkout (one folder per process).
        cwd = part.junit_path.parent / (f".run-{index}" if index else "")
        cwd.mkdir(parents=True, exist_ok=True)
        procs.append(
            subprocess.Popen(
                command(part), env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    outputs, codes = [], []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=opts.timeout)[0])
            codes.append(proc.returncode)
    except subprocess.TimeoutExpired as exc:
        raise UsageError(f"schemathesis did not finish within {opts.timeout:.0f}s against {opts.base_url}") from exc
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = "\n".join(outputs)
    operations: dict[str, OperationResult] = {}
    for part, code in zip(parts, codes, strict=True):
        if not part.junit_path.is_file():
            raise UsageError(f"schemathesis wrote no report (exit {code}):\n{output[-4000:]}")
        for op in parse_junit(part.junit_path):
            merged = operations.setdefault(op.name, OperationResult(op.name))
            merged.cases += op.cases
            merged.failures += op.failures
            merged.errors += op.errors
    return RunResult(returncode=max(codes), operations=list(operations.values()), output=output)


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
        for tag, bucket in (("failure", op.failures), ("error", op.errors)):
            for node in case.findall(tag):
                bucket.append((node.get("message") or node.text or tag).strip())
    return list(results.values())
