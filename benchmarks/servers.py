"""Servers on loopback for P5 and P6: ours (`harness serve`) and Prism's mock, each in its own process.

Each runs under coreutils `timeout`, so a server outlives a killed benchmark by at most its
time limit: they stop by themselves. Both bind 127.0.0.1 only; the context managers stop them
(SIGTERM, then SIGKILL) when the measurement is done.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import ROOT, clean_env

DESCRIPTION = ROOT / "openapi" / "vlmrun-agent.yaml"
_READY = re.compile(r"on (http://127\.0\.0\.1:\d+)/v1")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bounded(command: list[str], limit_s: int) -> list[str]:
    """The command under `timeout`, so the server stops by itself even if we are killed."""
    found = shutil.which("timeout")
    return [found, "--signal=TERM", "--kill-after=5", str(limit_s), *command] if found else command


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_for_port(port: int, proc: subprocess.Popen[str], deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before listening on {port}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, contextlib.suppress(OSError):
            sock.settimeout(0.5)
            sock.connect(("127.0.0.1", port))
            return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not listen on 127.0.0.1:{port} within {deadline_s:.0f} s")


@contextlib.contextmanager
def ours(api_key: str, *, limit_s: int = 600) -> Iterator[str]:
    """`harness serve` on a free port (the root URL, paths start with /v1); stopped on exit."""
    command = [sys.executable, "-m", "harness", "serve", "--host", "127.0.0.1", "--port", "0", "--api-key", api_key]
    proc = subprocess.Popen(
        _bounded(command, limit_s),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the socket is bound
        found = _READY.search(line)
        if found is None:
            raise RuntimeError(f"`harness serve` did not report its URL: {line!r}")
        url = found.group(1)
        _wait_for_port(int(url.rsplit(":", 1)[1]), proc, 30)
        yield url
    finally:
        _stop(proc)


@contextlib.contextmanager
def prism(binary: Path, *, description: Path = DESCRIPTION, limit_s: int = 600) -> Iterator[str]:
    """`prism mock <description> --port <free> --host 127.0.0.1`, its log discarded; stopped on exit."""
    port = free_port()
    command = [str(binary), "mock", str(description), "--port", str(port), "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        _bounded(command, limit_s),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    try:
        _wait_for_port(port, proc, 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
