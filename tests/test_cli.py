"""`harness` end to end: exit codes, reports, and the real schemathesis CLI against `harness serve`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.cli import main
from harness.contract import default_description_path
from harness.reference.server import serve_in_thread

FAST = ["--max-examples", "10", "--phases", "examples,fuzzing,stateful"]


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "serve" in out
    assert "check" in out


def test_check_passes_against_the_embedded_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "report" / "junit.xml"
    assert main(["check", *FAST, "--junit-xml", str(junit)]) == 0
    err = capsys.readouterr().err
    assert "is valid OpenAPI 3.1.0" in err
    assert "POST /v1/openai/chat/completions" in err
    assert "<testsuite" in junit.read_text()


def _yes_server(request: Request) -> JSONResponse:
    return JSONResponse({})


async def _yes(request: Request) -> JSONResponse:
    return _yes_server(request)


def test_check_fails_with_exit_1_when_the_server_breaks_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A "mock that says yes": any key, any body, an empty object back.
    broken = Starlette(routes=[Route("/{path:path}", _yes, methods=["GET", "POST"])])
    key = "sk-never-on-disk-7f3a9c"
    junit = tmp_path / "j.xml"
    with serve_in_thread(broken) as running:
        code = main(["check", *FAST, "--base-url", running.url, "--api-key", key, "--junit-xml", str(junit)])
    assert code == 1
    err = capsys.readouterr().err
    assert "failure" in err
    assert "<failure" in junit.read_text()
    # the key reached the server, never the report, the crash cache or the output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key not in path.read_text(errors="replace"), path
    assert key not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "--description", "nope.yaml"], "nope.yaml"),
        (["check", "--max-examples", "0"], "--max-examples"),
        (["check", "--phases", "fuzzing,warmup"], "warmup"),
        (["check", "--base-url", "http://127.0.0.1:9"], "--api-key"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VLMRUN_API_KEY", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


@pytest.fixture
def harness_serve() -> Iterator[tuple[str, str]]:
    """`harness serve` as a user runs it: a subprocess on a free port."""
    key = "serve-test-key"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--port", "0", "--api-key", key],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/v1", line)
        assert match, line
        url = match.group(1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/v1/health", headers={"Authorization": f"Bearer {key}"}).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, key
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_schemathesis_cli_finds_nothing_against_harness_serve(
    harness_serve: tuple[str, str], tmp_path: Path
) -> None:
    url, key = harness_serve
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", str(default_description_path()),
        "--url", url, "-H", f"Authorization: Bearer {key}",
        "--max-examples", "25", "--checks", "all", "--mode", "all",
        "--suppress-health-check", "all", "--no-color",
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "harness.properties.hooks"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "No issues found" in proc.stdout
    assert "API Links:" in proc.stdout  # the stateful phase followed the description's links
