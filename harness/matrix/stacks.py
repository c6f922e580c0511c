"""The client stacks, each built by uv in its own cached environment, and the probe run in it.

A stack is a requirements file (plus an optional uv overrides file) in `stacks/` beside
this module, so it ships with the package. Its environment lives in
`<cache>/<name>-<hash>`, the hash covering the files and the interpreter, so a second run
reuses it and an edited stack gets a fresh one. Environments are built under a temporary
name and renamed into place once complete: an interrupted or concurrent build never leaves
a half-installed environment behind a valid name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness.wire
from harness.errors import UsageError

STACK_DIR = Path(__file__).resolve().parent / "stacks"
PROBE = Path(__file__).resolve().parent / "probe.py"
MARKER = ".harness-stack.json"
BUILD_TIMEOUT = 1800
PROBE_TIMEOUT = 300
TAIL = 2000
# How environments are built; part of the cache key, so changing it rebuilds them. `--no-config`:
# uv would otherwise apply the surrounding project's [tool.uv] settings (this repository
# overrides openai>=2.17, which would silently turn vlmrun-pinned into another stack).
RECIPE = "uv venv --no-config --no-project --relocatable; uv pip install --no-config -r REQ [--overrides OV]"


@dataclass(frozen=True)
class Stack:
    name: str
    summary: str

    @property
    def requirements(self) -> Path:
        return STACK_DIR / f"{self.name}.txt"

    @property
    def overrides(self) -> Path | None:
        path = STACK_DIR / f"{self.name}.overrides.txt"
        return path if path.exists() else None

    def lines(self, path: Path | None) -> tuple[str, ...]:
        """Requirement lines without comments, as the report shows them."""
        if path is None:
            return ()
        stripped = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
        return tuple(line for line in stripped if line)

    def key(self) -> str:
        """Hash of what decides the environment: the stack's files and the interpreter."""
        h = hashlib.sha256()
        for part in (RECIPE, sys.version, sys.base_prefix, self.requirements.read_text()):
            h.update(part.encode() + b"\0")
        h.update((self.overrides.read_text() if self.overrides else "").encode())
        return h.hexdigest()[:12]


STACKS: dict[str, Stack] = {
    s.name: s
    for s in (
        Stack("vlmrun-pinned", "vlmrun 0.9.2 with its own exact pins (what `pip install vlmrun` gives)"),
        Stack("vlmrun-openai3", "vlmrun 0.9.2 with openai 3.x forced past its pin (uv overrides)"),
        Stack("openai-only", "plain openai-python 3.x, no vlmrun"),
        Stack("vlmrun-0.5.8", "an older vlmrun (AgentSkill.version, no skills= keyword) on openai 3.x"),
    )
}


def select(names: Sequence[str] | None) -> list[Stack]:
    """The named stacks in the given order (all when none are named); unknown names are a usage error."""
    if not names:
        return list(STACKS.values())
    unknown = [n for n in names if n not in STACKS]
    if unknown:
        raise UsageError(f"unknown stack(s) {', '.join(unknown)}; choose from {', '.join(STACKS)}")
    return [STACKS[n] for n in dict.fromkeys(names)]


def find_uv() -> str:
    """`$UV` (set by `uv run`), else `uv` on PATH."""
    env = os.environ.get("UV")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise UsageError(f"$UV is {env!r}, which is not an executable uv")
        return env
    found = shutil.which("uv")
    if found is None:
        raise UsageError(
            "uv not found: the matrix builds each client stack with uv. "
            "Run it through `uv run harness matrix`, set $UV, or put uv on PATH."
        )
    return found


def env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _clean_env() -> dict[str, str]:
    """The caller's environment minus what would point uv or Python at the harness's own venv."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST_XDIST")}


def _uv(stack: Stack, uv: str, args: list[str], cwd: Path) -> None:
    step = "uv " + " ".join(args[:2] if args[0] == "pip" else args[:1])
    try:
        proc = subprocess.run(
            [uv, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
            env=_clean_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"stack {stack.name}: `{step}` could not run: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout)[-TAIL:].strip()
        raise UsageError(f"stack {stack.name} cannot be built: `{step}` exited {proc.returncode}:\n{tail}")


def build_env(stack: Stack, cache: Path, *, uv: str, refresh: bool = False) -> Path:
    """The stack's environment (built if missing or `refresh`); returns its python."""
    cache = cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# environments built by `harness matrix`\n*\n")
    env = cache / f"{stack.name}-{stack.key()}"
    if refresh and env.exists():
        shutil.rmtree(env)
    if (env / MARKER).is_file():
        return env_python(env)
    tmp = cache / f".{env.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        _uv(
            stack,
            uv,
            ["venv", "--quiet", "--no-config", "--no-project", "--relocatable", "--python", sys.executable, str(tmp)],
            cache,
        )
        install = [
            "pip",
            "install",
            "--quiet",
            "--no-config",
            "--python",
            str(env_python(tmp)),
            "-r",
            str(stack.requirements),
        ]
        if stack.overrides is not None:
            install += ["--overrides", str(stack.overrides)]
        _uv(stack, uv, install, cache)
        marker = {
            "stack": stack.name,
            "requirements": stack.lines(stack.requirements),
            "overrides": stack.lines(stack.overrides),
        }
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        _move_into_place(tmp, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return env_python(env)


def _move_into_place(tmp: Path, env: Path) -> None:
    if env.exists() and not (env / MARKER).is_file():
        shutil.rmtree(env, ignore_errors=True)  # left over from an interrupted refresh
    try:
        tmp.rename(env)
    except OSError:
        if not (env / MARKER).is_file():  # not a concurrent build that finished first
            raise


def run_probe(stack: Stack, python: Path, payload: dict[str, Any]) -> dict[str, Any]:
    """Run the standalone probe in the stack's environment; its JSON report."""
    request = {**payload, "helper": str(Path(harness.wire.__file__).resolve())}
    try:
        proc = subprocess.run(
            [str(python), "-I", str(PROBE)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
            env=_clean_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"stack {stack.name}: the probe could not run: {exc}") from exc
    if proc.returncode != 0:
        raise UsageError(f"stack {stack.name}: the probe failed (exit {proc.returncode}):\n{proc.stderr[-TAIL:]}")
    try:
        report: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise UsageError(f"stack {stack.name}: the probe printed no JSON report: {proc.stdout[-TAIL:]!r}") from exc
    return report
