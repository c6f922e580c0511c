"""Are the committed snapshots still what the code produces?

The only faithful answer is to run the tests that own them, so this step finds every
`__snapshots__` folder below the project, maps each stored snapshot back to its test module
(syrupy's layout: `__snapshots__/<module>/…` for one-file-per-assertion extensions,
`__snapshots__/<module>.ambr` for Amber) and runs those modules with pytest in a
subprocess, without `--snapshot-update`: nothing is written. Snapshots whose module is gone
are reported as stale. A test that fails before comparing (a captured request the description
rejects, any other error) is told apart from a changed snapshot: its snapshot is unreached,
not unused, and no update is suggested until it passes, since syrupy's would delete it.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.extras import extra_installed, extra_message
from harness.gate.model import Case, Step, count

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


_SNAPSHOT_ASSERT = "[+ received] == [- snapshot]"
_UNUSED_COUNT = re.compile(r"(\d+) snapshots? unused")
SHOWN_DIFF_LINES = 40
# Plugins the snapshot tests do not need unless they use them: schemathesis' and hypothesis'
# pytest plugins import both libraries (about 0.5 s of CPU) in every run. Left out only when
# no owning module or conftest.py names them; a run that then fails to start runs again with
# every plugin.
UNNEEDED_PLUGINS = {"schemathesis": "schemathesis", "hypothesispytest": "hypothesis"}


def _node_id(classname: str, name: str, modules: list[str]) -> str:
    """`tests/test_values.py::TestX::test_value`, what pytest takes to run one test."""
    for module in modules:
        dotted = module.removesuffix(".py").replace(os.sep, ".").replace("/", ".")
        if classname == dotted or classname.startswith(dotted + "."):
            rest = classname[len(dotted) + 1 :]
            return "::".join([module, *([rest] if rest else []), name])
    return f"{classname}::{name}".strip(":")


def _cases(junit: Path, modules: list[str]) -> list[Case]:
    try:
        tree = ET.parse(junit)
    except (OSError, ET.ParseError):
        return []
    cases = []
    for case in tree.iter("testcase"):
        name = _node_id(case.get("classname", ""), case.get("name", ""), modules)
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            cases.append(Case(name, "failed", (problem.get("message") or problem.text or "failed")[:20000]))
        elif case.find("skipped") is not None:
            cases.append(Case(name, "skipped"))
        else:
            cases.append(Case(name, "passed"))
    return cases


def failure_lines(case: Case) -> list[str]:
    """A failed test: for a snapshot, the diff syrupy printed (`-` stored, `+` received); else its message."""
    first, _, rest = case.message.partition("\n")
    if _SNAPSHOT_ASSERT in first:
        diff = textwrap.dedent(rest).splitlines()
        lines = [f"{case.name}: the snapshot differs (- stored, + received):"]
        lines += [f"    {line}" for line in diff[:SHOWN_DIFF_LINES]]
        if len(diff) > SHOWN_DIFF_LINES:
            lines.append(f"    … {count(len(diff) - SHOWN_DIFF_LINES, 'more line')}")
        return lines
    message = [line for line in case.message.splitlines() if line.strip()] or ["failed"]
    return [f"{case.name}: {message[0]}", *(f"    {line}" for line in message[1:8])]


def needed_libraries(modules: list[Path], root: Path) -> set[str]:
    """Which of `UNNEEDED_PLUGINS`' libraries the modules or their conftest.py files name."""
    files = set(modules)
    for module in modules:
        for folder in [module.parent, *module.parent.parents]:
            files.add(folder / "conftest.py")
            if folder == root:
                break
    text = ""
    for file in files:
        with contextlib.suppress(OSError):
            text += file.read_text(encoding="utf-8", errors="replace")
    return {library for library in UNNEEDED_PLUGINS.values() if library in text}


def snapshot_command(
    python: str, modules: list[str], junit: Path, *, lean: bool, needs: set[str], extra: Sequence[str] = ()
) -> list[str]:
    """`extra`: options the gate passes on, so the tests judge by the same description (`GateOptions.snapshot_args`)."""
    cmd = [python, "-m", "pytest", *modules, "-q", "-p", "no:cacheprovider", f"--junit-xml={junit}", *extra]
    if lean:
        cmd += ["--snapshot-details"]  # names each unused snapshot
        for plugin, library in UNNEEDED_PLUGINS.items():
            if library not in needs:
                cmd += ["-p", f"no:{plugin}"]
    return cmd


def _unused(output: str) -> tuple[int, list[str]]:
    """syrupy's count of unused snapshots, and their names (one `Unused …` line each)."""
    found = _UNUSED_COUNT.search(output)
    names = [line.strip().removeprefix("Unused ").strip() for line in output.splitlines() if line.startswith("Unused ")]
    return (int(found.group(1)) if found else len(names)), names


def _run(cmd: list[str], root: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT
    )
    return proc.returncode, proc.stdout


def compared(case: Case) -> bool:
    """Whether a failed test got as far as its snapshot (a diff), rather than failing before it."""
    return _SNAPSHOT_ASSERT in case.message.partition("\n")[0]


def unreached(unused_names: list[str], broken: list[Case]) -> list[str]:
    """The unused snapshots (`NAME (FILE)`) of tests that failed before comparing: not unused, unreached.

    syrupy counts them unused, and `--snapshot-update` deletes them: a reviewed snapshot lost
    because its test broke for another reason (e.g. a captured request the description rejects).
    """
    tests: set[tuple[str, str]] = set()
    for case in broken:
        module, _, rest = case.name.partition("::")
        tests.add((module, rest.replace("::", ".").split("[", 1)[0]))
    found = []
    for entry in unused_names:
        name, _, file = entry.partition(" (")
        parts = Path(file.rstrip(")")).parts
        if "__snapshots__" not in parts or parts.index("__snapshots__") + 1 >= len(parts):
            continue
        at = parts.index("__snapshots__")
        module = str(Path(*parts[:at], Path(parts[at + 1]).stem + ".py"))
        if any(module == m and (name == t or name.startswith((f"{t}.", f"{t}["))) for m, t in tests):
            found.append(entry)
    return found


def _update_hint(failed: bool, unused: bool, update: str) -> list[str]:
    if failed and unused:
        return [f"if the changes are intended, update the snapshots (this also removes the unused ones): `{update}`"]
    if failed:
        return [f"if the change is intended, update the snapshots: `{update}`"]
    return [f"remove the unused snapshots: `{update}`"] if unused else []


def run_snapshot_tests(root: Path, extra: Sequence[str] = (), *, python: str = sys.executable) -> Step:
    step = Step("snapshots")
    owners = find_owners(root)
    rel = [str(m.relative_to(root)) for m in owners.modules]
    if not owners.modules and not owners.stale:
        step.status, step.summary = "skipped", "no __snapshots__ folders found"
        return step
    if owners.modules and python == sys.executable and not extra_installed("snapshots"):
        return step.error(extra_message("snapshots", "the gate's snapshots step"), "or skip it: --skip snapshots")
    stale = [str(s.relative_to(root)) for s in owners.stale]
    step.cases += [Case(name, "failed", "its test module no longer exists") for name in stale]
    modules = " ".join(rel)
    run_yourself = f"run them yourself: `pytest {modules}`"
    output, returncode = "", 0
    if owners.modules:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
        needs = needed_libraries(owners.modules, root)
        with tempfile.TemporaryDirectory(prefix="harness-snapshots-") as tmp:
            junit = Path(tmp) / "junit.xml"
            for lean in (True, False):
                cmd = snapshot_command(python, rel, junit, lean=lean, needs=needs, extra=extra)
                try:
                    returncode, output = _run(cmd, root, env)
                except subprocess.TimeoutExpired:
                    return step.error(f"the snapshot tests did not finish in {TIMEOUT:.0f} s", run_yourself)
                if returncode != 4:  # 4: pytest's usage error (an option or plugin the project lacks)
                    break
            step.cases += _cases(junit, rel)
    unused, unused_names = _unused(output)
    tests = [c for c in step.cases if c.name not in stale]
    failed = [c for c in tests if c.status == "failed"]
    broken = [c for c in failed if not compared(c)]
    skipped_over = unreached(unused_names, broken)
    unused_names = [name for name in unused_names if name not in skipped_over]
    unused -= len(skipped_over)
    passed = sum(c.status == "passed" for c in tests)
    step.summary = f"{count(len(rel), 'test module')}, {count(passed, 'test')} passed"
    if returncode not in (0, 1):
        step.details = output.splitlines()[-30:]
        return step.error(f"pytest exited {returncode} running the snapshot tests", run_yourself)
    if failed or unused or stale or returncode == 1:
        for case in failed:
            step.details += failure_lines(case)
        step.details += [f"unused snapshot: {name}" for name in unused_names]
        step.details += [f"stale snapshot: {name} (its test module is gone)" for name in stale]
        problems = [
            *([f"{count(len(failed), 'snapshot test')} failed"] if failed else []),
            *([f"{count(unused, 'snapshot')} unused"] if unused else []),
            *([f"{count(len(stale), 'stale snapshot')} (test module gone)"] if stale else []),
        ]
        update = f"pytest {modules} --snapshot-update"
        fix_first = (
            f"fix the tests that fail before comparing their snapshot, then run them: `pytest {modules}` "
            "(not --snapshot-update yet: it deletes the snapshots they did not reach)"
        )
        return step.fail(
            ", ".join(problems) or f"pytest exited {returncode} running the snapshot tests",
            *([fix_first] if broken else _update_hint(bool(failed), bool(unused), update)),
            *([f"delete the stale snapshots: {', '.join(stale)}"] if stale else []),
        )
    return step
