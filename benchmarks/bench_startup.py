"""F1: what installing the package adds to the start-up of an unrelated pytest run.

A team that records other APIs already has pytest, vcrpy and pytest-recording. Installing
`vlmrun-skills-harness` (the core, no extras) puts our pytest plugin into every pytest run of
theirs, so it must add at most 25% to a run's start-up. A team that installs the harness calls
VLM Run through openai or vlmrun, so it already has openai, and openai requires anyio, whose
pytest plugin is loaded into every run whether or not the harness is there. The goal is
therefore judged on the pair with openai in both; the pair without openai (where anyio's plugin
counts against us) and the full extras are reported for information. Five isolated uv
environments under `.bench-peers/`, built like `harness matrix`'s stacks
(`harness.matrix.stacks.build_env`), every version pinned to `uv.lock` (`uv export`, passed as
overrides):

- bare + openai: pytest, vcrpy, pytest-recording, openai (the goal's baseline);
- with harness + openai: the same plus our wheel (`uv build --wheel` of this checkout), no extras;
- bare: pytest, vcrpy, pytest-recording (for information, with the next one);
- with harness: bare plus our wheel, no extras;
- with harness[gate,snapshots]: the same with two extras, for information (against bare).

A temporary project holds one trivial test; `python -m pytest --co -q -p no:cacheprovider`
runs in each environment in turn (interleaved rounds after a warm-up). Two attributions: the
same command in each *with harness* environment with each pytest plugin its bare counterpart
lacks switched off (`-p no:NAME`), and `python -X importtime` runs, summed by top-level package.

The children run with bytecode caching on, as `pip install` leaves an environment (it
compiles bytecode); with `PYTHONDONTWRITEBYTECODE` set, as on the benchmark machine, every run
would compile every non-stdlib module from source and measure the compiler.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from benchmarks.common import ROOT, Headline, clean_env, find_uv, log, rotated, spread, verdict
from harness.matrix.stacks import Stack, build_env

GOAL = 1.25
CACHE = ROOT / ".bench-peers"
FILES = CACHE / "startup"
BASE_PACKAGES = ("pytest", "vcrpy", "pytest-recording")
CLIENT = "openai"  # what a team calling VLM Run already has (vlmrun requires it too)
EXTRAS = ("gate", "snapshots")
PIN_EXTRAS = (*EXTRAS, "vlmrun")  # the pins only: `vlmrun` brings openai (and its dependencies) into the export
BARE, CORE, FULL = "bare", "with harness", f"with harness[{','.join(EXTRAS)}]"
BARE_OAI, CORE_OAI = f"bare + {CLIENT}", f"with harness + {CLIENT}"
VARIANTS = (BARE_OAI, CORE_OAI, BARE, CORE, FULL)
GOAL_PAIR = (BARE_OAI, CORE_OAI)
"""The goal's pair: a team that calls VLM Run already has openai (and anyio's pytest plugin)."""
PAIRS = (GOAL_PAIR, (BARE, CORE))
"""Each harness environment against its bare counterpart; plugins are attributed within each pair."""
COMMAND = ("-m", "pytest", "--co", "-q", "-p", "no:cacheprovider")
SHOWN = "python " + " ".join(COMMAND)
TRIVIAL_TEST = "def test_one():\n    assert 1 + 1 == 2\n"
COLLECTED = "1 test collected"
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)$")


@dataclass(frozen=True)
class StartupEnv(Stack):
    """A stack whose requirements are written into `.bench-peers/startup/`, pinned by uv.lock."""

    @property
    def requirements(self) -> Path:
        return FILES / f"{self.name}.txt"

    @property
    def overrides(self) -> Path | None:
        return FILES / "pins.txt"


ENVS = {
    BARE_OAI: StartupEnv("startup-bare-openai", f"pytest, vcrpy, pytest-recording, {CLIENT}"),
    CORE_OAI: StartupEnv("startup-core-openai", "the same plus vlmrun-skills-harness, no extras"),
    BARE: StartupEnv("startup-bare", "pytest, vcrpy, pytest-recording"),
    CORE: StartupEnv("startup-core", "the same plus vlmrun-skills-harness, no extras"),
    FULL: StartupEnv("startup-full", f"the same plus vlmrun-skills-harness[{','.join(EXTRAS)}]"),
}


@dataclass
class StartupResults:
    rounds: int
    versions: dict[str, str]
    """The shared packages' versions as installed in *bare + openai* (pinned to uv.lock)."""
    distributions: dict[str, int]
    plugins: dict[str, list[str]]
    """Per variant: the pytest11 entry points installed (name)."""
    samples: dict[str, list[float]] = field(default_factory=dict)
    """Wall seconds per run: the environments, then `without(env, name)` for each plugin its bare lacks."""
    imports: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per variant: seconds of import self-time by top-level package (median of the -X importtime runs)."""

    def wall(self, variant: str) -> float:
        return median(self.samples[variant])

    def ratios(self, variant: str, base: str | None = None) -> list[float]:
        """`variant / base` within each round (same moment on the machine); base: its bare counterpart."""
        base = base or bare_of(variant)
        return [v / b for v, b in zip(self.samples[variant], self.samples[base], strict=True)]

    def ratio(self, variant: str, base: str | None = None) -> float:
        return self.wall(variant) / self.wall(base or bare_of(variant))

    def added_plugins(self, variant: str) -> list[str]:
        """The pytest plugins `variant` has and its bare counterpart lacks."""
        base = self.plugins[bare_of(variant)]
        return [name for name in self.plugins[variant] if name not in base]


def bare_of(variant: str) -> str:
    return BARE_OAI if variant in GOAL_PAIR else BARE


def without(variant: str, plugin: str) -> str:
    return f"{variant}, -p no:{plugin}"


def _child_env() -> dict[str, str]:
    """Nothing of this project's venv, pytest options or plugin switches reaches the children."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in clean_env().items() if k not in drop and not k.startswith("PYTEST_")}


def _run(command: Sequence[str], *, cwd: Path = ROOT, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(command), cwd=cwd, env=_child_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} (in {cwd}) exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def build_wheel(uv: str) -> Path:
    """Our wheel from this checkout, kept under a name carrying its content hash (hatchling builds are reproducible)."""
    with tempfile.TemporaryDirectory(prefix="bench-wheel-") as tmp:
        _run([uv, "build", "--wheel", "--quiet", "--out-dir", tmp, str(ROOT)])
        [wheel] = Path(tmp).glob("*.whl")
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()[:12]
        target = FILES / "wheels" / digest / wheel.name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(wheel, target)
    return target


def write_requirements(uv: str, wheel: Path) -> None:
    """The requirements files and the pins they share: uv.lock, with the extras and openai.

    Overrides only pin what an environment installs, so one pins file serves all five; the
    `vlmrun` extra is exported only so that openai and its dependencies are pinned to the lock.
    """
    FILES.mkdir(parents=True, exist_ok=True)
    export = [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--no-header"]
    pins = _run([*export, "--no-annotate", *(f"--extra={e}" for e in PIN_EXTRAS)]).stdout
    lines = [line for line in pins.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not any(line.lower().startswith(f"{CLIENT}==") for line in lines):
        raise RuntimeError(f"uv export gave no {CLIENT} pin: F1's {BARE_OAI} would not be pinned to uv.lock")
    _write(FILES / "pins.txt", "\n".join(lines) + "\n")
    base = "\n".join(BASE_PACKAGES) + "\n"
    url = wheel.resolve().as_uri()
    _write(ENVS[BARE_OAI].requirements, f"{base}{CLIENT}\n")
    _write(ENVS[CORE_OAI].requirements, f"{base}{CLIENT}\nvlmrun-skills-harness @ {url}\n")
    _write(ENVS[BARE].requirements, base)
    _write(ENVS[CORE].requirements, f"{base}vlmrun-skills-harness @ {url}\n")
    _write(ENVS[FULL].requirements, f"{base}vlmrun-skills-harness[{','.join(EXTRAS)}] @ {url}\n")


def _write(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def pytest_wall(python: Path, project: Path, extra: Sequence[str] = ()) -> float:
    command = [str(python), *COMMAND, *extra]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=project, env=_child_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or COLLECTED not in proc.stdout:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def import_self_times(python: Path, project: Path) -> dict[str, float]:
    """Seconds of import self-time by top-level package in one `-X importtime` run of the command."""
    proc = subprocess.run(
        [str(python), "-X", "importtime", *COMMAND],
        cwd=project,
        env=_child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{python} -X importtime {' '.join(COMMAND)} failed:\n{proc.stderr[-3000:]}")
    totals: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        found = _IMPORT_LINE.match(line)
        if found:
            package = found.group(3).split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(found.group(1)) / 1e6
    return totals


_INVENTORY = """\
import importlib.metadata as m, json
dists = list(m.distributions())
plugins = sorted(e.name for d in dists for e in d.entry_points if e.group == "pytest11")
versions = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in dists}
print(json.dumps({"distributions": len({d.metadata["Name"] for d in dists}), "plugins": plugins, "versions": versions}))
"""


def _inventory(python: Path) -> tuple[int, list[str], dict[str, str]]:
    """How many distributions the environment has, its pytest plugins (entry-point names), their versions."""
    found = json.loads(_run([str(python), "-c", _INVENTORY]).stdout)
    return int(found["distributions"]), list(found["plugins"]), dict(found["versions"])


def run(workdir: Path, *, rounds: int = 15, warmup: int = 2, import_runs: int = 3) -> StartupResults:
    uv = find_uv()
    log("  F1: wheel (uv build) and environments under .bench-peers/")
    wheel = build_wheel(uv)
    write_requirements(uv, wheel)
    pythons = {variant: build_env(env, CACHE, uv=uv) for variant, env in ENVS.items()}
    project = workdir / "startup-project"
    project.mkdir(parents=True)
    (project / "test_trivial.py").write_text(TRIVIAL_TEST)
    inventory = {variant: _inventory(python) for variant, python in pythons.items()}
    results = StartupResults(
        rounds=rounds,
        versions={name: inventory[BARE_OAI][2].get(name, "?") for name in (*BASE_PACKAGES, CLIENT, "anyio")},
        distributions={variant: found[0] for variant, found in inventory.items()},
        plugins={variant: found[1] for variant, found in inventory.items()},
    )
    runs: dict[str, tuple[Path, list[str]]] = {variant: (pythons[variant], []) for variant in VARIANTS}
    for _, ours in PAIRS:
        runs |= {without(ours, n): (pythons[ours], ["-p", f"no:{n}"]) for n in results.added_plugins(ours)}
    results.samples = {name: [] for name in runs}
    for _ in range(warmup):  # the first runs also write the environments' bytecode
        for python, extra in runs.values():
            pytest_wall(python, project, extra)
    for rep in range(rounds):
        log(f"  F1: round {rep + 1}/{rounds}")
        for name in rotated(list(runs), rep):
            python, extra = runs[name]
            results.samples[name].append(pytest_wall(python, project, extra))
    profiles: dict[str, list[dict[str, float]]] = {variant: [] for variant in VARIANTS}
    for rep in range(import_runs):
        for variant in rotated(VARIANTS, rep):
            profiles[variant].append(import_self_times(pythons[variant], project))
    for variant, found in profiles.items():
        packages = {name for profile in found for name in profile}
        results.imports[variant] = {name: median(p.get(name, 0.0) for p in found) for name in packages}
    return results


def headlines(r: StartupResults) -> list[Headline]:
    goal = r.ratio(CORE_OAI)
    return [
        Headline(
            "F1",
            f"pytest start-up of a one-test project with the package installed (core, no extras), {CLIENT} in both",
            f"≤ {GOAL}x bare + {CLIENT}",
            f"{r.wall(CORE_OAI):.2f} s (bare + {CLIENT} {r.wall(BARE_OAI):.2f} s)",
            f"{goal:.2f}x bare + {CLIENT}",
            goal <= GOAL,
        ),
        Headline(
            "F1",
            f"the same without {CLIENT} in either (anyio's plugin counts against us), for information",
            "–",
            f"{r.wall(CORE):.2f} s (bare {r.wall(BARE):.2f} s)",
            f"{r.ratio(CORE):.2f}x bare ({r.ratio(FULL):.2f}x with [{','.join(EXTRAS)}])",
            None,
        ),
    ]


def _diffs(r: StartupResults, variant: str, plugin: str) -> list[float]:
    """Per round: what `variant` takes more than the same run with `plugin` switched off."""
    return [c - w for c, w in zip(r.samples[variant], r.samples[without(variant, plugin)], strict=True)]


PROVENANCE = {
    "anyio": "anyio's, installed with openai, starlette, sse-starlette (the embedded reference server) and httpx",
    "vlmrun_harness": "ours (`harness.pytest_plugin`)",
}


def to_markdown(r: StartupResults) -> str:
    bare_versions = ", ".join(f"{name} {r.versions[name]}" for name in BASE_PACKAGES)
    oai = r.versions[CLIENT]
    goal, core, full = r.ratio(CORE_OAI), r.ratio(CORE), r.ratio(FULL)
    lines = [
        "## F1. pytest start-up with the package installed",
        "",
        f"Reproduce: `uv run --frozen python -m benchmarks F1`. Peer: bare {bare_versions} (what a team that "
        f"records other APIs already has), plus {CLIENT} {oai} for the goal's pair.",
        "",
        f"**Which pair the goal is judged on.** A team that installs the harness calls VLM Run through {CLIENT} "
        f"or vlmrun (which requires {CLIENT}), so it already has {CLIENT}, and {CLIENT} requires anyio, whose "
        "pytest plugin (`anyio`) loads into every pytest run with or without the harness. The goal, *installing "
        f"the package adds at most a quarter to the start-up of an unrelated pytest run*, is therefore the ratio "
        f"*{CORE_OAI}* / *{BARE_OAI}*. The pair without {CLIENT} (*{CORE}* / *{BARE}*, where anyio's plugin "
        f"arrives with our dependencies and counts against us) and *{FULL}* (against *{BARE}*) are reported "
        "for information, with the same plugin-by-plugin attribution.",
        "",
        "Five isolated uv environments under `.bench-peers/` (built like `harness matrix`'s stacks, every "
        f"version pinned to `uv.lock`, {CLIENT} included): *{BARE_OAI}*, *{CORE_OAI}* (the same plus our wheel, "
        f"`uv build --wheel` of this checkout, core only), *{BARE}*, *{CORE}*, and *{FULL}*. A temporary project "
        f"with one trivial test; `{SHOWN}` in each, {r.rounds} interleaved rounds after a warm-up, every run "
        "checked to collect the test. Wall time of the child process, interpreter start included, bytecode "
        "cached (as after `pip install`).",
        "",
        "| environment | distributions | pytest plugins beyond its bare | wall s, median (min–max) "
        "| / its bare, per round: median (min–max) | / its bare, ratio of medians |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for variant in VARIANTS:
        base = bare_of(variant)
        is_bare = variant in (BARE, BARE_OAI)
        per_round = f"1.00x ({variant} is the base)" if is_bare else f"{spread(r.ratios(variant))}x"
        shown = f"{variant} (goal's base)" if variant == BARE_OAI else variant
        added = ", ".join(n for n in r.plugins[variant] if n not in r.plugins[base]) or "–"
        lines.append(
            f"| {shown} | {r.distributions[variant]} | {added} | {spread(r.samples[variant])} | {per_round} "
            f"| {r.ratio(variant):.2f}x |"
        )
    lines += [
        "",
        f"**Goal, {CORE_OAI} ≤ {GOAL}x {BARE_OAI}: {verdict(goal <= GOAL)}** ({goal:.2f}x, ratio of medians, "
        f"{(r.wall(CORE_OAI) - r.wall(BARE_OAI)) * 1e3:+.0f} ms). For information: without {CLIENT}, "
        f"{CORE} is {core:.2f}x {BARE} ({(r.wall(CORE) - r.wall(BARE)) * 1e3:+.0f} ms); with the "
        f"`{','.join(EXTRAS)}` extras {full:.2f}x {BARE}.",
        "",
        "**What limits it.** Each pytest plugin a harness environment has and its bare counterpart lacks, "
        "switched off in the same environment (`-p no:NAME`, same rounds):",
        "",
        "| environment | plugin | whose | wall s without it, median (min–max) "
        "| its cost per round, ms: median (min–max) |",
        "|---|---|---|---:|---:|",
    ]
    for _, ours in PAIRS:
        for name in r.added_plugins(ours):
            lines.append(
                f"| {ours} | `{name}` | {PROVENANCE.get(name, '–')} | {spread(r.samples[without(ours, name)])} "
                f"| {spread(_diffs(r, ours, name), 1e3, 0)} |"
            )
    lines += [
        "",
        "`python -X importtime` of the same command (median of the runs; import self-time summed by top-level "
        "package, for the packages its bare counterpart does not import; the rest of the wall difference is "
        "pytest loading the plugins and scanning more distributions for them, and noise):",
        "",
        "| environment | against | packages its bare does not import | largest |",
        "|---|---|---:|---|",
    ]
    for variant in (CORE_OAI, CORE, FULL):
        base = bare_of(variant)
        new = sorted(
            ((name, t) for name, t in r.imports[variant].items() if name not in r.imports[base]), key=lambda x: -x[1]
        )
        top = ", ".join(f"{name} {t * 1e3:.0f} ms" for name, t in new[:8])
        lines.append(f"| {variant} | {base} | {len(new)}, {sum(t for _, t in new) * 1e3:.0f} ms | {top} |")
    own_oai, own = r.imports[CORE_OAI].get("harness", 0.0), r.imports[CORE].get("harness", 0.0)
    lines += [
        "",
        f"Our own modules (`harness`: the plugin and what it imports at load) take {own_oai * 1e3:.1f} ms of "
        f"import time in *{CORE_OAI}*, {own * 1e3:.1f} ms in *{CORE}*.",
        "",
    ]
    return "\n".join(lines) + "\n"


def _main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_startup", description="F1: pytest start-up.")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per environment (default 15)")
    parser.add_argument("--import-runs", type=int, default=3, help="-X importtime runs per environment (default 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        result = run(Path(tmp), rounds=args.rounds, import_runs=args.import_runs)
    print(to_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
