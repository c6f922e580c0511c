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
        """schemathesis' own count line, e.g. `1101 generated, 1101 passed, 10 skipped`."""
        match = _TOTALS_RE.search(self.output)
        return match.group(1) if match else "unknown"

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


def run(opts: RunOptions) -> RunResult:
    report_dir = opts.junit_path.parent.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HARNESS_API_KEY": opts.api_key, "SCHEMATHESIS_HOOKS": HOOKS_MODULE}
    opts = replace(opts, description=opts.description.resolve(), junit_path=opts.junit_path.resolve())
    try:
        # cwd: schemathesis keeps a crash cache in `.schemathesis/` of its working folder;
        # it belongs with the report, not in the user's checkout.
        proc = subprocess.run(
            command(opts), env=env, capture_output=True, text=True, timeout=opts.timeout, check=False, cwd=report_dir
        )
    except subprocess.TimeoutExpired as exc:
        raise UsageError(f"schemathesis did not finish within {opts.timeout:.0f}s against {opts.base_url}") from exc
    output = proc.stdout + proc.stderr
    if not opts.junit_path.is_file():
        raise UsageError(f"schemathesis wrote no report (exit {proc.returncode}):\n{output[-4000:]}")
    return RunResult(returncode=proc.returncode, operations=parse_junit(opts.junit_path), output=output)


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
