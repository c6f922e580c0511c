"""G1: pytest-recording's own test suite, with and without the harness installed ("a good guest").

Installing our package must not change how pytest-recording behaves for anyone else: its own
test suite, shipped in its sdist, has to give the same outcome test by test whether or not
the harness (and so its pytest11 plugin) is installed beside it. The sdist is downloaded once
into `.bench-peers/`; two isolated uv environments are built the way `harness matrix` builds
its stacks (`uv venv --no-config`, `uv pip install --no-config`): *bare* (pytest as in the
project environment, vcrpy, pytest-recording with its `tests` extra, from the sdist) and *with
harness* (the same, constrained to bare's exact versions, plus a wheel of this work tree with
its core dependencies only). The suite runs once in each; the junit reports are compared.

`python -m benchmarks.bench_guest` runs it on its own: exit 0 when no test changes outcome,
1 when some do, 2 when the set-up (download, build, a bare run without a report) fails.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.common import Headline

# Nothing of the harness is imported at module level, not even `benchmarks.common` (it imports
# `harness.recording`): this benchmark judges the package as installed from a wheel, so it has to
# run whatever state this interpreter's import of the work tree is in. `headlines()` imports
# `Headline` when `python -m benchmarks` asks for it; the three helpers below mirror common's.
ROOT = Path(__file__).resolve().parent.parent

PEER = "pytest-recording"
PEER_VERSION = "0.14.1"
VCRPY = "vcrpy==9.4.2"
OURS = "vlmrun-skills-harness"
CACHE = ROOT / ".bench-peers"
SDIST_NAME = f"pytest_recording-{PEER_VERSION}"
BARE, WITH = "bare", "with harness"
BUILD_TIMEOUT = 1800.0
SUITE_TIMEOUT = 900.0
TAIL = 2000
# Part of each environment's cache key: changing how they are built rebuilds them.
RECIPE = "guest/1: uv venv --no-config --no-project --relocatable; uv pip install --no-config REQS [-c bare freeze]"
SHOWN = (
    "pytest",
    "vcrpy",
    PEER,
    "pytest-httpbin",
    "pytest-mock",
    "requests",
    "werkzeug",
    OURS,
)
_INSPECT = """
import importlib.metadata as m, json, sys
dists = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in m.distributions()}
plugins = sorted(e.name for e in m.entry_points(group="pytest11"))
print(json.dumps({"python": sys.version.split()[0], "dists": dists, "pytest11": plugins}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def find_uv() -> str:
    """`$UV` (set by `uv run`), else `uv` on PATH, as `benchmarks.common.find_uv`."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise SetupError("uv not found ($UV unset and no uv on PATH): G1 builds its environments with uv")
    return found


class SetupError(RuntimeError):
    """The comparison could not be made: download, build, or the bare run itself failed."""


@dataclass(frozen=True)
class Outcome:
    outcome: str  # passed, failed, errored, skipped; "not run" when the run gave no report
    message: str  # first line of the failure/error/skip message, "" when passed
    inner: str = ""  # first `E ` line a pytester run inside the test printed (the cause behind its assert_outcomes)


@dataclass
class Env:
    name: str
    python: Path
    build_s: float
    fresh: bool  # built in this run (False: reused from the cache)
    python_version: str
    dists: dict[str, str]
    pytest11: list[str]


@dataclass
class SuiteRun:
    env: str
    command: list[str]
    exit_code: int | None
    wall_s: float
    outcomes: dict[str, Outcome]
    problem: str | None  # why there is no usable report (crash, timeout), else None

    def counts(self) -> dict[str, int]:
        found = Counter(o.outcome for o in self.outcomes.values())
        return {k: found.get(k, 0) for k in ("passed", "failed", "errored", "skipped")}


@dataclass(frozen=True)
class Difference:
    test: str
    bare: str
    harness: str
    message: str  # from the with-harness run (the bare run's when the harness run passed)
    inner: str  # likewise, the first `E ` line of the test's inner pytester run

    @property
    def cause(self) -> str:
        return self.inner or self.message


@dataclass
class GuestResults:
    sdist: Path
    sdist_sha256: str
    source: Path
    wheel: str
    wheel_s: float
    envs: list[Env]
    runs: list[SuiteRun]
    differences: list[Difference] = field(default_factory=list)
    version_skew: dict[str, tuple[str, str]] = field(default_factory=dict)  # shared dists whose versions differ

    @property
    def total(self) -> int:
        return len(set().union(*(r.outcomes for r in self.runs)))


# -- child processes ----------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    """This environment minus whatever would point a child at the project venv, a plugin set or our server."""
    drop = {
        *("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"),
        *("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "VLMRUN_BASE_URL", "VLMRUN_API_KEY"),
    }
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST_XDIST")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(command: Sequence[str], *, what: str, cwd: Path = ROOT, timeout: float = BUILD_TIMEOUT) -> str:
    """Run a set-up step; its stdout, or a SetupError with the tail of its output."""
    try:
        proc = subprocess.run(
            list(command), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=_child_env()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"{what}: could not run `{' '.join(command)}`: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-TAIL:]
        raise SetupError(f"{what}: `{' '.join(command)}` exited {proc.returncode}:\n{tail}")
    return proc.stdout


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the sdist ----------------------------------------------------------------------------------


def fetch_sdist(uv: str) -> tuple[Path, Path]:
    """The sdist archive and its extracted tree under `.bench-peers/`, downloaded and extracted once."""
    CACHE.mkdir(parents=True, exist_ok=True)
    archive, tree = CACHE / f"{SDIST_NAME}.tar.gz", CACHE / SDIST_NAME
    if not archive.is_file():
        log(f"  G1: downloading the {PEER} {PEER_VERSION} sdist into {CACHE.relative_to(ROOT)}/")
        with tempfile.TemporaryDirectory(prefix=".guest-sdist-", dir=CACHE) as tmp:
            _run(
                [
                    *(uv, "tool", "run", "--no-config", "--from", "pip", "pip", "download"),
                    *("--no-binary", ":all:", "--no-deps", "--disable-pip-version-check", "--dest", tmp),
                    f"{PEER}=={PEER_VERSION}",
                ],
                what="downloading the sdist",
                cwd=CACHE,
            )
            found = Path(tmp) / archive.name
            if not found.is_file():
                raise SetupError(f"pip download left no {archive.name} (got {sorted(os.listdir(tmp))})")
            found.replace(archive)
    if not (tree / "tests").is_dir():
        with tempfile.TemporaryDirectory(prefix=".guest-extract-", dir=CACHE) as tmp:
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(tmp, filter="data")
            except tarfile.TarError as exc:
                raise SetupError(f"{archive} cannot be extracted ({exc}); delete it to download it again") from exc
            extracted = Path(tmp) / SDIST_NAME
            if not (extracted / "tests").is_dir():
                raise SetupError(f"{archive.name} has no {SDIST_NAME}/tests/")
            shutil.rmtree(tree, ignore_errors=True)
            extracted.rename(tree)
    return archive, tree


# -- environments -------------------------------------------------------------------------------


def build_wheel(uv: str, source: Path, out: Path) -> tuple[Path, float]:
    """A wheel of `source` (what `pip install vlmrun-skills-harness` would get), and seconds taken."""
    start = time.perf_counter()
    _run([uv, "build", "--wheel", "--quiet", "--out-dir", str(out), str(source)], what="building our wheel")
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise SetupError(f"uv build left {len(wheels)} wheels in {out}")
    return wheels[0], time.perf_counter() - start


def _python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _inspect(name: str, python: Path) -> tuple[str, dict[str, str], list[str]]:
    report = json.loads(_run([str(python), "-I", "-c", _INSPECT], what=f"inspecting the {name} environment"))
    return str(report["python"]), dict(report["dists"]), list(report["pytest11"])


def build_env(name: str, install: Sequence[str], key: Sequence[str], *, uv: str, rebuild: bool = False) -> Env:
    """An isolated environment with `uv pip install --no-config <install>`, cached under `.bench-peers/`.

    Keyed by the recipe, the interpreter and `key` (what decides the install: requirements, and
    the content of any file the arguments name, not its temporary path); built under a temporary
    name and renamed into place when complete, as `harness.matrix.stacks.build_env` does. Older
    environments of the same name are removed.
    """
    h = hashlib.sha256()
    for part in (RECIPE, sys.version, sys.base_prefix, *key):
        h.update(part.encode() + b"\0")
    slug = "guest-" + name.replace(" ", "-")
    env = CACHE / f"{slug}-{h.hexdigest()[:12]}"
    marker = env / ".guest-env.json"
    if rebuild:
        shutil.rmtree(env, ignore_errors=True)
    start, fresh = time.perf_counter(), not marker.is_file()
    if fresh:
        log(f"  G1: building the {name} environment ({env.relative_to(ROOT)})")
        tmp = CACHE / f".{env.name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            venv = ["venv", "--quiet", "--no-config", "--no-project", "--relocatable", "--python", sys.executable]
            _run([uv, *venv, str(tmp)], what=f"creating the {name} environment", cwd=CACHE)
            _run(
                [uv, "pip", "install", "--quiet", "--no-config", "--python", str(_python(tmp)), *install],
                what=f"installing the {name} environment",
                cwd=CACHE,
            )
            (tmp / ".guest-env.json").write_text(json.dumps({"env": name, "install": list(install)}, indent=2) + "\n")
            shutil.rmtree(env, ignore_errors=True)
            tmp.rename(env)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in CACHE.glob(f"{slug}-*"):
            if old != env:
                shutil.rmtree(old, ignore_errors=True)
    build_s = time.perf_counter() - start
    python, dists, plugins = _inspect(name, _python(env))
    return Env(name, _python(env), build_s, fresh, python, dists, plugins)


def _constraints(env: Env, path: Path) -> Path:
    """The bare environment's exact versions as a uv constraints file (direct references left out)."""
    path.write_text("".join(f"{n}=={v}\n" for n, v in sorted(env.dists.items()) if n != PEER), encoding="utf-8")
    return path


# -- the suite ----------------------------------------------------------------------------------


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:240]
    return ""


def parse_junit(path: Path) -> dict[str, Outcome]:
    """Outcome of each test case in a pytest junit report, keyed `classname::name`."""
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message, inner = "passed", "", ""
        for tag, label in (("failure", "failed"), ("error", "errored"), ("skipped", "skipped")):
            element = case.find(tag)
            if element is not None:
                outcome = label
                message = _first_line(element.get("message")) or _first_line(element.text)
                out = "\n".join(e.text or "" for e in case.iter("system-out"))
                inner = next((line[1:].strip()[:240] for line in out.splitlines() if line.startswith("E ")), "")
                break
        if test not in outcomes or outcomes[test].outcome == "passed":  # a repeated case keeps its worst
            outcomes[test] = Outcome(outcome, message, inner)
    return outcomes


def run_suite(env: Env, tree: Path, workdir: Path, *, timeout: float) -> SuiteRun:
    """The sdist's suite in `env` (cwd: the sdist); its outcomes, or why there are none."""
    slug = env.name.replace(" ", "-")
    junit, basetemp, output = workdir / f"{slug}.xml", workdir / f"basetemp-{slug}", workdir / f"{slug}.log"
    # `-c`/`--rootdir`: the sdist's own (empty) configuration, not that of a repository it happens to sit in;
    # junit_logging: the captured output of the pytester runs inside its tests, where the real cause shows.
    shown = [
        *("python", "-m", "pytest", "tests", "-c", "pyproject.toml", "--rootdir", ".", "-p", "no:cacheprovider"),
        *("-q", "-o", "junit_logging=system-out", "--junitxml=<report>.xml"),
    ]
    command = [str(env.python), *shown[1:-1], f"--junitxml={junit}", f"--basetemp={basetemp}"]
    log(f"  G1: running {PEER}'s suite, {env.name}")
    start = time.perf_counter()
    exit_code: int | None = None
    problem: str | None = None
    with output.open("w", encoding="utf-8") as out:
        try:
            proc = subprocess.run(
                command, cwd=tree, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False, env=_child_env()
            )
            exit_code = proc.returncode
        except subprocess.TimeoutExpired:
            problem = f"timed out after {timeout:.0f} s"
        except OSError as exc:
            problem = f"could not start: {exc}"
    wall = time.perf_counter() - start
    outcomes: dict[str, Outcome] = {}
    if problem is None:
        try:
            outcomes = parse_junit(junit)
        except (OSError, ET.ParseError) as exc:
            lines = [line for line in output.read_text(encoding="utf-8", errors="replace").splitlines() if line]
            last = lines[-1].strip()[:240] if lines else "no output"
            problem = f"no junit report (exit {exit_code}: {last}; {type(exc).__name__})"
        else:
            if not outcomes:
                problem = f"an empty junit report (exit {exit_code})"
    return SuiteRun(env.name, shown, exit_code, wall, outcomes, problem)


def compare(bare: SuiteRun, ours: SuiteRun) -> list[Difference]:
    """Tests whose outcome differs; every bare test is "not run" with the harness when its run gave no report."""
    differences = []
    for test in sorted(set(bare.outcomes) | set(ours.outcomes)):
        before = bare.outcomes.get(test, Outcome("absent", ""))
        missing = Outcome("not run", ours.problem) if ours.problem else Outcome("absent", "")
        after = ours.outcomes.get(test, missing)
        if before.outcome != after.outcome:
            shown = after if after.message else before
            differences.append(Difference(test, before.outcome, after.outcome, shown.message, shown.inner))
    return differences


# -- the benchmark ------------------------------------------------------------------------------


def run(workdir: Path, *, source: Path = ROOT, timeout: float = SUITE_TIMEOUT, rebuild: bool = False) -> GuestResults:
    """Build both environments (cached), run the suite in each, compare. Raises SetupError when it cannot.

    `source` is the tree our wheel is built from: this work tree unless another checkout is named
    (e.g. `git archive <commit>` unpacked somewhere, to see an older state).
    """
    if not (source / "pyproject.toml").is_file():
        raise SetupError(f"{source} has no pyproject.toml to build our wheel from")
    workdir = workdir.resolve()
    if workdir.is_relative_to(ROOT):
        # pytest would find this repository's [tool.pytest.ini_options] above the suite's pytester runs
        raise SetupError(f"the work folder {workdir} must lie outside {ROOT}")
    workdir.mkdir(parents=True, exist_ok=True)
    uv = find_uv()
    archive, tree = fetch_sdist(uv)
    pytest_pin = f"pytest=={importlib.metadata.version('pytest')}"
    common = [pytest_pin, VCRPY, f"{PEER}[tests] @ {tree.as_uri()}"]
    bare = build_env(BARE, common, common, uv=uv, rebuild=rebuild)

    log(f"  G1: building our wheel from {source}")
    wheel, wheel_s = build_wheel(uv, source, workdir / "wheel")
    constraints = _constraints(bare, workdir / "bare-constraints.txt")
    with_install = [*common, str(wheel), "--constraints", str(constraints)]
    key = [*common, _sha256(wheel), constraints.read_text(encoding="utf-8")]
    ours = build_env(WITH, with_install, key, uv=uv, rebuild=rebuild)
    if "vlmrun_harness" not in ours.pytest11:
        raise SetupError(f"the {WITH} environment does not register our pytest11 plugin: {ours.pytest11}")
    skew = {
        n: (v, ours.dists[n]) for n, v in bare.dists.items() if n in ours.dists and ours.dists[n] != v and n != PEER
    }

    first = run_suite(bare, tree, workdir, timeout=timeout)
    if first.problem:
        raise SetupError(f"the bare run gave no result: {first.problem} (its log: --keep DIR keeps {BARE}.log)")
    runs = [first, run_suite(ours, tree, workdir, timeout=timeout)]
    return GuestResults(
        sdist=archive,
        sdist_sha256=_sha256(archive),
        source=source,
        wheel=wheel.name,
        wheel_s=wheel_s,
        envs=[bare, ours],
        runs=runs,
        differences=compare(*runs),
        version_skew=skew,
    )


def exit_code(r: GuestResults) -> int:
    return 0 if not r.differences else 1


def headlines(r: GuestResults) -> list[Headline]:
    from benchmarks.common import Headline

    bare, ours = r.runs
    return [
        Headline(
            "G1",
            f"{PEER}'s own suite ({r.total} tests) with the harness installed",
            "no test changes outcome",
            f"{len(r.differences)} of {r.total} tests differ",
            f"{bare.counts()['passed']} pass bare, {ours.counts()['passed']} with the harness",
            not r.differences,
        )
    ]


def _failing_in_both(r: GuestResults) -> list[tuple[str, Outcome]]:
    """Tests that failed or errored in both runs, with the bare run's outcome."""
    bare, ours = r.runs
    bad = ("failed", "errored")
    return [
        (test, o)
        for test, o in sorted(bare.outcomes.items())
        if o.outcome in bad and test in ours.outcomes and ours.outcomes[test].outcome in bad
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'") or "–"


def _dists(env: Env) -> str:
    return ", ".join(f"{n} {env.dists[n]}" for n in SHOWN if n in env.dists)


def to_markdown(r: GuestResults) -> str:
    bare, ours = r.envs
    tree = "the work tree" if r.source == ROOT else f"`{r.source}`"
    lines = [
        f"## G1. {PEER}'s own suite with and without the harness",
        "",
        "Reproduce: `uv run --frozen python -m benchmarks G1` (on its own: `uv run --frozen python -m "
        "benchmarks.bench_guest`). No peer to beat: installing the harness must leave "
        f"{PEER}'s behaviour unchanged for everyone else.",
        "",
        f"{PEER} {PEER_VERSION}'s sdist (`{r.sdist.name}`, sha256 `{r.sdist_sha256[:16]}…`) ships its test "
        f"suite; it runs once in each of two isolated uv environments (`uv venv --no-config`, `uv pip install "
        f"--no-config`, cached under `.bench-peers/`): *{BARE}*, pytest as in the project environment, "
        f"`{VCRPY}` and `{PEER}[tests]` from the sdist itself; *{WITH}*, the same requirements constrained to "
        f"*{BARE}*'s exact versions, plus `{r.wheel}` built from {tree} (`uv build --wheel`, "
        f"{r.wheel_s:.1f} s) with its core dependencies only. Command, in the extracted sdist: "
        f"`{' '.join(r.runs[0].command)}`. Outcomes are compared test by test from the junit reports.",
        "",
        "| environment | packages | pytest11 plugins | env build s | passed | failed | errored | skipped "
        "| suite wall s | exit |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for env, suite in zip(r.envs, r.runs, strict=True):
        c = suite.counts()
        built = f"{env.build_s:.1f}" if env.fresh else f"cached ({env.build_s:.1f})"
        exit_ = str(suite.exit_code) if suite.problem is None else _cell(suite.problem)
        lines.append(
            f"| {env.name} | {_dists(env)} | {', '.join(env.pytest11)} | {built} | {c['passed']} | {c['failed']} "
            f"| {c['errored']} | {c['skipped']} | {suite.wall_s:.1f} | {exit_} |"
        )
    skew = "; ".join(f"{n} {a} bare, {b} with" for n, (a, b) in sorted(r.version_skew.items()))
    lines += [
        "",
        f"Shared packages at different versions: {skew or 'none'}; python {bare.python_version} bare, "
        f"{ours.python_version} with the harness.",
        "",
        f"**Goal, no test changes outcome: {verdict(not r.differences)}** ({len(r.differences)} of {r.total} "
        "tests differ).",
        "",
    ]
    both = _failing_in_both(r)
    if both:
        lines += [
            f"Failing in both environments, so not a difference ({len(both)}; cause from the {BARE} run, the "
            "first `E` line of its inner pytester run when there is one): "
            + "; ".join(f"`{test}` ({_cell(o.inner or o.message)})" for test, o in both[:10])
            + ("; …" if len(both) > 10 else "")
            + ".",
            "",
        ]
    if r.differences:
        groups: dict[tuple[str, str, str], list[Difference]] = {}
        for d in r.differences:
            groups.setdefault((d.bare, d.harness, d.cause.split(": ", 1)[0]), []).append(d)
        lines += [
            "Differences grouped by cause: the first `E` line of the pytester run inside the test when there is "
            "one (most of this suite asserts on an inner run's outcomes), else the first line of the test's own "
            f"failure; from the {WITH} run.",
            "",
            f"| tests | {BARE} | {WITH} | cause | example |",
            "|---:|---|---|---|---|",
        ]
        ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
        lines += [f"| {len(ds)} | {b} | {h} | {_cell(k)} | {_cell(ds[0].cause)} |" for (b, h, k), ds in ordered]
        lines += ["", f"| test | {BARE} | {WITH} | message | inner run |", "|---|---|---|---|---|"]
        lines += [
            f"| `{d.test}` | {d.bare} | {d.harness} | {_cell(d.message)} | {_cell(d.inner)} |" for d in r.differences
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_guest", description=f"G1: {PEER}'s own suite with and without the harness."
    )
    parser.add_argument("--timeout", type=float, default=SUITE_TIMEOUT, help="seconds per suite run (default 900)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild both environments even if cached")
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep junit reports and logs in this folder (outside the repository)"
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="tree to build our wheel from (default: this one)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-guest-") as tmp:
        workdir = args.keep or Path(tmp)
        try:
            results = run(workdir, source=args.source.resolve(), timeout=args.timeout, rebuild=args.rebuild)
        except (SetupError, OSError) as exc:
            log(f"G1: set-up failed: {exc}")
            return 2
    print(to_markdown(results))
    log(f"G1: {len(results.differences)} of {results.total} tests differ ({time.perf_counter() - started:.0f} s)")
    return exit_code(results)


if __name__ == "__main__":
    raise SystemExit(main())
