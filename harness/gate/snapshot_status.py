"""Are the committed snapshots still what the code produces?

The only faithful answer is to run the tests that own them, so this step finds every
`__snapshots__` folder below the project, maps each stored snapshot back to its test module
(syrupy's layout: `__snapshots__/<module>/…` for one-file-per-assertion extensions,
`__snapshots__/<module>.ambr` for Amber) and runs those modules with pytest in a
subprocess, without `--snapshot-update`: nothing is written. Snapshots whose module is gone
are reported as stale.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from harness.extras import extra_installed, extra_message
from harness.gate.model import Case, Step

_SKIP = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"}
TIMEOUT = 600.0


@dataclass
class SnapshotOwners:
    modules: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)
    """Snapshot files or folders whose test module no longer exists."""


def find_owners(root: Path) -> SnapshotOwners:
    owners = SnapshotOwners()
    modules: set[Path] = set()
    for folder, dirs, _files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP and not d.startswith(".")]
        if Path(folder).name != "__snapshots__":
            continue
        dirs[:] = []
        snapshots = Path(folder)
        for entry in sorted(snapshots.iterdir()):
            stem = entry.name if entry.is_dir() else entry.stem
            module = snapshots.parent / f"{stem}.py"
            if module.is_file():
                modules.add(module)
            else:
                owners.stale.append(entry)
    owners.modules = sorted(modules)
    return owners


def _cases(junit: Path) -> list[Case]:
    try:
        tree = ET.parse(junit)
    except (OSError, ET.ParseError):
        return []
    cases = []
    for case in tree.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            cases.append(Case(name, "failed", (problem.get("message") or "")[:2000]))
        elif case.find("skipped") is not None:
            cases.append(Case(name, "skipped"))
        else:
            cases.append(Case(name, "passed"))
    return cases


def run_snapshot_tests(root: Path, *, python: str = sys.executable) -> Step:
    step = Step("snapshots")
    owners = find_owners(root)
    rel = [str(m.relative_to(root)) for m in owners.modules]
    if not owners.modules and not owners.stale:
        step.status, step.summary = "skipped", "no __snapshots__ folders found"
        return step
    if owners.modules and python == sys.executable and not extra_installed("snapshots"):
        return step.error(extra_message("snapshots", "the gate's snapshots step"), "or skip it: --skip snapshots")
    for stale in owners.stale:
        step.cases.append(Case(str(stale.relative_to(root)), "failed", "its test module no longer exists"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    with tempfile.TemporaryDirectory(prefix="harness-snapshots-") as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [python, "-m", "pytest", *rel, "-q", "-p", "no:cacheprovider", f"--junit-xml={junit}"]
        try:
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return step.error(f"the snapshot tests did not finish in {TIMEOUT:.0f} s", f"run: {' '.join(cmd[1:])}")
        step.cases += _cases(junit)
    output = proc.stdout + proc.stderr
    unused = [line.strip() for line in output.splitlines() if "unused" in line.lower() and "snapshot" in line.lower()]
    failed = [c for c in step.cases if c.status == "failed"]
    step.summary = f"{len(rel)} test module(s), {len(step.cases) - len(failed)} case(s) passed"
    if proc.returncode not in (0, 1):
        step.details = output.splitlines()[-30:]
        return step.error(
            f"pytest exited {proc.returncode} running the snapshot tests", f"run it yourself: pytest {' '.join(rel)}"
        )
    if failed or unused or proc.returncode == 1:
        step.details = [f"{c.name}: {c.message.splitlines()[0] if c.message else 'failed'}" for c in failed] + unused
        modules = " ".join(rel)
        return step.fail(
            f"{len(failed)} snapshot case(s) failed, {len(unused)} unused-snapshot report(s)",
            f"review the diffs: `pytest {modules}`",
            f"if the change is intended: `pytest {modules} --snapshot-update`",
            *([f"remove stale snapshots: {', '.join(str(s) for s in owners.stale)}"] if owners.stale else []),
        )
    return step
