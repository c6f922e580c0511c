"""Peers that must not share the project environment, each built once into `.bench-peers/`.

cassetter registers its own pytest plugin with `--record-mode`, which clashes with
pytest-recording's, so it lives in an isolated uv environment built from the committed
`peers/cassetter.txt` the way `harness matrix` builds its client stacks (the same
`build_env`: `uv venv --no-config`, `uv pip install --no-config -r`, keyed by the file's
hash and the interpreter, renamed into place when complete). Prism comes from npm, pinned
by the committed `peers/prism/package.json`. A peer is driven through a child process that
speaks one JSON object per line, so the parent can interleave its samples with ours.
"""

from __future__ import annotations

import hashlib
import json
import selectors
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from benchmarks.common import ROOT, clean_env, find_uv, log
from harness.matrix.stacks import Stack, build_env

PEERS = Path(__file__).resolve().parent / "peers"
CACHE = ROOT / ".bench-peers"
CASSETTER_CHILD = PEERS / "cassetter_child.py"
PRISM_PACKAGE = PEERS / "prism" / "package.json"
NPM_TIMEOUT = 900


@dataclass(frozen=True)
class PeerRequirements(Stack):
    """A `harness matrix` stack whose requirements file lives in benchmarks/peers/."""

    @property
    def requirements(self) -> Path:
        return PEERS / f"{self.name}.txt"

    @property
    def overrides(self) -> Path | None:
        return None


CASSETTER = PeerRequirements("cassetter", "cassetter[httpx]==0.16.1, isolated: its pytest plugin clashes with ours")


def cassetter_python() -> Path:
    """The cassetter environment's python, built on first use (a few seconds with uv's cache)."""
    log(f"  peers: cassetter environment under {CACHE.relative_to(ROOT)}/")
    return build_env(CASSETTER, CACHE, uv=find_uv())


def prism_bin() -> Path:
    """Prism's CLI from the pinned package.json, installed with this machine's npm on first use."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found: P6 needs it to install @stoplight/prism-cli")
    key = hashlib.sha256(PRISM_PACKAGE.read_bytes()).hexdigest()[:12]
    home = CACHE / f"prism-{key}"
    binary = home / "node_modules" / ".bin" / "prism"
    if binary.exists():
        return binary
    log(f"  peers: npm install @stoplight/prism-cli into {home.relative_to(ROOT)}/")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = CACHE / f".prism-{key}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        shutil.copy2(PRISM_PACKAGE, tmp / "package.json")
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"npm install failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        tmp.rename(home)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return binary


def prism_version(binary: Path) -> str:
    proc = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False)
    return proc.stdout.strip() or "unknown"


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "not installed"
    return subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout.strip()


class PeerChild:
    """A long-lived child speaking JSON lines: one request in, one answer out, bounded in time.

    Starting it once keeps its interpreter start and imports out of every timing, and lets the
    parent interleave the child's samples with its own, as for in-process variants.
    """

    def __init__(self, python: Path, script: Path, *, timeout: float = 300.0) -> None:
        self.timeout = timeout
        self.proc = subprocess.Popen(
            [str(python), "-I", str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        if not self.selector.select(self.timeout):
            self.close()
            raise RuntimeError(f"peer child: no answer to {op!r} within {self.timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"peer child exited answering {op!r}:\n{stderr[-3000:]}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"peer child failed on {op!r}: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.selector.close()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> PeerChild:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def cassetter_child() -> PeerChild:
    return PeerChild(cassetter_python(), CASSETTER_CHILD)
