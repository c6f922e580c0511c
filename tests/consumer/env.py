"""A consumer's view of the harness: our package built as a wheel, installed into its own venv.

Consumer tests create a project in a temporary directory and run pytest / the `harness`
command there as a user would: the package comes from a built wheel (not this checkout,
not an editable install), the interpreter is a separate virtualenv, and neither this
repository's conftest nor its `.venv` is on any path.

`build_wheel` and `create_env` do the work; `cached_wheel` and `cached_env` wrap them in a
cache shared by every process that points at the same directory (the xdist workers of a
session), serialised by an `fcntl.flock` lock file, with a marker file per entry written
last so an interrupted build is never reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIST_NAME = "vlmrun-skills-harness"
REPO = Path(__file__).resolve().parents[2]
# What goes into the wheel (hatch: the `harness` package, the force-included description,
# and the metadata from pyproject.toml / README.md); a change to any of it rebuilds the wheel.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "harness", "openapi")
# How environments are made; part of an environment's cache key, so changing it makes new ones.
RECIPE = "uv venv --no-config --no-project --python P ENV; uv pip install --no-config --python ENV/bin/python REQS"
BUILD_TIMEOUT = 600.0
INSTALL_TIMEOUT = 900.0
READY = ".consumer-ready.json"  # written last into a finished environment / wheel directory
STALE_AFTER = 12 * 3600.0  # cache entries unused for this long are pruned (they are mostly hardlinks into uv's cache)
TAIL = 4000

# Dropped from the environment of every command run in a consumer env, so nothing from the
# outer test session (its venv, its pytest/xdist/coverage settings, a developer's API
# settings) leaks in. Prefixes; a name matching any of them is dropped.
DROPPED_PREFIXES = (
    "PYTEST_",  # PYTEST_ADDOPTS, PYTEST_PLUGINS, PYTEST_CURRENT_TEST, PYTEST_XDIST_*, ...
    "COV_",  # pytest-cov's subprocess hooks (COV_CORE_SOURCE, ...)
    "VLMRUN_",  # VLMRUN_API_KEY / VLMRUN_BASE_URL would point the harness at a real server
    "HARNESS_",
    "SCHEMATHESIS_",
)
DROPPED_NAMES = frozenset(
    {
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "VIRTUAL_ENV",  # set to the consumer env instead, as activating it would
        "VIRTUAL_ENV_PROMPT",
        "CONDA_PREFIX",
        "UV_PROJECT_ENVIRONMENT",
        "PY_COLORS",
        "FORCE_COLOR",
        "__PYVENV_LAUNCHER__",
    }
)


class ConsumerError(RuntimeError):
    """Building the wheel or the environment failed; the message carries the tool's output."""


# --- running things ---------------------------------------------------------------------------


def find_uv() -> list[str]:
    """The command that runs uv: `$UV` (set by `uv run`), `uv` on PATH, or `python -m uv`."""
    env = os.environ.get("UV")
    if env and os.path.isfile(env) and os.access(env, os.X_OK):
        return [env]
    found = shutil.which("uv")
    if found is not None:
        return [found]
    try:
        import uv  # type: ignore[import-not-found,unused-ignore]

        return [str(uv.find_uv_bin())]
    except (ImportError, FileNotFoundError):
        pass
    raise ConsumerError("uv not found: set $UV, put uv on PATH, or run the tests through `uv run`")


def clean_environ(bin_dir: Path | None = None, overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """`os.environ` without the outer session's Python/pytest/harness settings.

    With `bin_dir`, the environment is "activated": it comes first on PATH, VIRTUAL_ENV
    names it, and the outer venv's bin directory (if the session runs in one) is taken off
    PATH. `overrides` is applied last; a value of None removes the variable.
    """
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_NAMES and not k.startswith(DROPPED_PREFIXES)}
    if bin_dir is not None:
        outer = {str(Path(sys.prefix) / "bin")} if sys.prefix != sys.base_prefix else set()
        rest = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and p not in outer]
        env["PATH"] = os.pathsep.join([str(bin_dir), *rest])
        env["VIRTUAL_ENV"] = str(bin_dir.parent)
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    """An assertion message for a finished command: what ran, its exit code, and its output."""
    args = proc.args if isinstance(proc.args, str) else " ".join(str(a) for a in proc.args)
    return (
        f"$ {args}\nexit code {proc.returncode}\n"
        f"--- stdout ---\n{(proc.stdout or '')[-TAIL:]}\n--- stderr ---\n{(proc.stderr or '')[-TAIL:]}"
    )


def _tool(args: Sequence[str], *, what: str, timeout: float, cwd: Path | None = None) -> str:
    """Run a build step; its stdout, or ConsumerError with the output tail."""
    try:
        proc = subprocess.run(
            list(args),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=clean_environ(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConsumerError(f"{what}: could not run {' '.join(args)}: {exc}") from exc
    if proc.returncode != 0:
        raise ConsumerError(f"{what} failed:\n{explain(proc)}")
    return proc.stdout


@dataclass(frozen=True)
class ConsumerEnv:
    """A virtualenv with the harness installed from a wheel. Shared: treat it as read-only."""

    python: Path
    bin: Path

    @property
    def prefix(self) -> Path:
        """The venv's root directory."""
        return self.bin.parent

    def run(
        self,
        args: list[str],
        cwd: Path,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run `args` in `cwd` with this env activated and a clean environment; never raises on exit code.

        `env` is applied on top of the cleaned environment (None removes a variable).
        """
        return subprocess.run(
            args,
            cwd=cwd,
            env=clean_environ(self.bin, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def pytest(
        self,
        project: Path,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 300,
        cache: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """`python -m pytest -p no:cacheprovider *args` in `project` (`cache`: with pytest's cache)."""
        no_cache = [] if cache else ["-p", "no:cacheprovider"]
        return self.run([str(self.python), "-m", "pytest", *no_cache, *args], project, env=env, timeout=timeout)

    def harness(
        self, project: Path, *args: str, env: Mapping[str, str | None] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """The installed `harness` console script with `args`, in `project`."""
        return self.run([str(self.bin / "harness"), *args], project, env=env, timeout=timeout)

    def site_packages(self) -> Path:
        """The env's site-packages (purelib) directory, as its interpreter reports it."""
        code = "import sysconfig; print(sysconfig.get_path('purelib'))"
        proc = self.run([str(self.python), "-I", "-c", code], self.prefix, timeout=60)
        if proc.returncode != 0:
            raise ConsumerError(explain(proc))
        return Path(proc.stdout.strip())


# --- building ---------------------------------------------------------------------------------


def build_wheel(repo: Path, out: Path) -> Path:
    """`uv build --wheel` of `repo` into `out`; the wheel's path."""
    out.mkdir(parents=True, exist_ok=True)
    _tool(
        [*find_uv(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(repo)],
        what=f"building the wheel of {repo}",
        timeout=BUILD_TIMEOUT,
        cwd=repo,
    )
    wheels = sorted(out.glob("*.whl"), key=lambda p: p.stat().st_mtime_ns)
    if not wheels:
        raise ConsumerError(f"uv build reported success but left no wheel in {out}")
    return wheels[-1]


def wheel_extras(wheel: Path) -> frozenset[str]:
    """The extras a wheel declares (its METADATA `Provides-Extra` lines)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(name).decode()
    return frozenset(
        line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Provides-Extra:")
    )


def wheel_requirement(wheel: Path, extras: Sequence[str] = ()) -> str:
    """`vlmrun-skills-harness[a,b] @ file:///…/x.whl`."""
    spec = f"[{','.join(extras)}]" if extras else ""
    return f"{DIST_NAME}{spec} @ {wheel.resolve().as_uri()}"


def create_env(
    where: Path,
    wheel: Path,
    extras: tuple[str, ...] = (),
    extra_requirements: Sequence[str] = (),
    *,
    python: str | Path | None = None,
    overrides: Sequence[str] = (),
) -> ConsumerEnv:
    """A fresh venv at `where` (replaced if present) with `wheel[extras]` and `extra_requirements`.

    `--no-config` keeps this repository's [tool.uv] (e.g. its openai override) out of it;
    `overrides` are passed to uv as an overrides file when a consumer needs one on purpose.
    `python` defaults to the interpreter running the tests (uv resolves a venv to its base).
    """
    uv = find_uv()
    if where.exists():
        shutil.rmtree(where)
    where.parent.mkdir(parents=True, exist_ok=True)
    _tool(
        [*uv, "venv", "--quiet", "--no-config", "--no-project", "--python", str(python or sys.executable), str(where)],
        what=f"creating the venv {where}",
        timeout=INSTALL_TIMEOUT,
    )
    env_python = where / "bin" / "python"
    install = [
        *uv,
        "pip",
        "install",
        "--quiet",
        "--no-config",
        "--python",
        str(env_python),
        wheel_requirement(wheel, extras),
        *extra_requirements,
    ]
    if overrides:
        ov = where / "consumer-overrides.txt"
        ov.write_text("".join(f"{line}\n" for line in overrides))
        install += ["--overrides", str(ov)]
    _tool(install, what=f"installing {wheel.name} into {where}", timeout=INSTALL_TIMEOUT)
    return ConsumerEnv(python=env_python, bin=where / "bin")


def make_project(root: Path, files: Mapping[str, str]) -> Path:
    """Write `files` (relative path -> text, dedented) under `root`; returns `root`.

    A `pyproject.toml` with an (empty) `[tool.pytest.ini_options]` is added unless given,
    so `root` is pytest's rootdir and no ini file further up is picked up.
    """
    root.mkdir(parents=True, exist_ok=True)
    contents = dict(files)
    contents.setdefault("pyproject.toml", '[project]\nname = "consumer"\nversion = "0"\n\n[tool.pytest.ini_options]\n')
    for rel, text in contents.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


# --- the shared cache -------------------------------------------------------------------------


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive `fcntl.flock` on `lock_file` (created if needed) for the block."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def source_fingerprint(repo: Path) -> str:
    """Hash of the files the wheel is built from (paths and contents; caches and bytecode skipped).

    Any edit, addition or removal changes it, which is what "the wheel is older than a
    source file" approximates.
    """
    h = hashlib.sha256()
    for top in WHEEL_SOURCES:
        base = repo / top
        paths = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for path in paths:
            rel = path.relative_to(repo)
            if not path.is_file() or "__pycache__" in rel.parts or path.suffix in {".pyc", ".pyo"}:
                continue
            h.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def _touch(entry: Path) -> None:
    with contextlib.suppress(OSError):
        (entry / READY).touch()


def prune(cache: Path, max_age: float = STALE_AFTER) -> None:
    """Remove wheel and env entries not used for `max_age` seconds (call with the lock held)."""
    now = time.time()
    for kind in ("wheels", "envs"):
        for entry in (cache / kind).glob("*") if (cache / kind).is_dir() else ():
            ready = entry / READY
            age = now - (ready.stat().st_mtime if ready.exists() else entry.stat().st_mtime)
            if age > max_age:
                shutil.rmtree(entry, ignore_errors=True)


def cached_wheel(cache: Path, repo: Path = REPO, run_id: str | None = None) -> Path:
    """The wheel of `repo`, built at most once per source state and shared through `cache`.

    Processes of one test run (same `run_id`, e.g. xdist's testrunuid) all get the wheel
    the first of them settled on, even if sources change meanwhile. Otherwise the sources
    are fingerprinted and a wheel is built unless one for that fingerprint exists.
    """
    with locked(cache / ".lock"):
        marker = cache / "wheel.json"
        pinned = _read_json(marker) if run_id else None
        if pinned and pinned.get("run") == run_id and Path(pinned["wheel"]).is_file():
            return Path(pinned["wheel"])
        prune(cache)
        fingerprint = source_fingerprint(repo)
        entry = cache / "wheels" / fingerprint[:16]
        ready = _read_json(entry / READY)
        if ready is None or not Path(ready["wheel"]).is_file():
            tmp = entry.with_name(f".{entry.name}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                built = build_wheel(repo, tmp)
                shutil.rmtree(entry, ignore_errors=True)
                tmp.rename(entry)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            ready = {"wheel": str(entry / built.name), "sources": fingerprint}
            _write_json(entry / READY, ready)
        _touch(entry)
        wheel = Path(ready["wheel"])
        _write_json(marker, {"run": run_id, "wheel": str(wheel)})
        return wheel


def cached_env(
    cache: Path,
    name: str,
    wheel: Path,
    extras: tuple[str, ...] = (),
    extra_requirements: Sequence[str] = (),
    *,
    overrides: Sequence[str] = (),
) -> ConsumerEnv:
    """`create_env` at `cache/envs/<name>-<key>`, made once and reused while the key matches.

    The key hashes the wheel's bytes, extras, requirements, overrides, the recipe and the
    interpreter, so a rebuilt wheel with different contents gets a new environment.
    """
    h = hashlib.sha256()
    for part in (RECIPE, sys.version, sys.base_prefix, _file_hash(wheel), *extras, "|", *extra_requirements, "|"):
        h.update(part.encode() + b"\0")
    for part in overrides:
        h.update(part.encode() + b"\0")
    where = cache / "envs" / f"{name}-{h.hexdigest()[:16]}"
    with locked(cache / ".lock"):
        if not (where / READY).is_file():
            create_env(where, wheel, extras, extra_requirements, overrides=overrides)
            _write_json(
                where / READY,
                {"wheel": str(wheel), "extras": list(extras), "requirements": list(extra_requirements)},
            )
        _touch(where)
    return ConsumerEnv(python=where / "bin" / "python", bin=where / "bin")
