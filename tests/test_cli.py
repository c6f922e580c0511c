"""`harness` end to end: exit codes, reports, and the real schemathesis CLI against `harness serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from junitparser import JUnitXml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.cli import main
from harness.contract import default_description_path
from harness.reference.server import serve_in_thread
from tests.serving import harness_serve

FAST = ["--max-examples", "10", "--phases", "examples,fuzzing,stateful"]


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "serve" in out
    assert "check" in out


def test_check_passes_against_the_embedded_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no cassettes or snapshots here: those steps are skipped
    report = tmp_path / "report"
    assert main(["check", *FAST, "--report-dir", str(report)]) == 0
    err = capsys.readouterr().err
    assert "is valid OpenAPI 3.1.0" in err
    assert "harness check: passed" in err
    suites = {suite.name: suite for suite in JUnitXml.fromfile(str(report / "junit.xml"))}
    assert list(suites) == ["description", "properties", "cassettes", "snapshots", "client-stack"]
    assert "POST /v1/openai/chat/completions" in {case.name for case in suites["properties"]}
    assert suites["client-stack"].tests == 30
    assert json.loads((report / "summary.json").read_text())["verdict"] == "passed"
    assert (report / "summary.md").read_text().startswith("## ✅ harness check: passed")
    assert "<testsuite" in (report / "schemathesis.xml").read_text()


def test_check_against_an_older_description_fails_on_a_break_and_names_the_traffic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = yaml.safe_load(default_description_path().read_text())
    reference = document["components"]["schemas"]["SkillReference"]
    reference["properties"]["skill_version"]["default"] = "stable"  # what "latest" meant is now "stable"
    newer = tmp_path / "newer.yaml"
    newer.write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copytree(Path(__file__).parent / "scenarios" / "cassettes", tmp_path / "cassettes")
    monkeypatch.chdir(tmp_path)
    argv = ["check", "--skip", "properties", "--skip", "client-stack", "--description", str(newer)]
    older = str(default_description_path())
    assert main([*argv, "--against", older, "--report-dir", "r"]) == 0  # a changed default is a WARN
    assert main([*argv, "--against", older, "--report-dir", "r", "--fail-on", "WARN"]) == 1
    assert "request-property-default-value-changed" in capsys.readouterr().err
    steps = {s["name"]: s for s in json.loads((tmp_path / "r" / "summary.json").read_text())["steps"]}
    assert steps["diff"]["status"] == "failed"
    exercised = [line for line in steps["diff"]["details"] if line.strip().startswith("exercised by")]
    assert any("cassettes/test_seed_examples/" in line and "(request)" in line for line in exercised), exercised
    assert any("--record-mode" in hint or "re-record" in hint for hint in steps["diff"]["next_steps"])


def test_diff_is_wired(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    same = str(default_description_path())
    assert main(["diff", same, same, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []


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
    report = tmp_path / "report"
    with serve_in_thread(broken) as running:
        code = main(["check", *FAST, "--base-url", running.url, "--api-key", key, "--report-dir", str(report)])
    assert code == 1
    err = capsys.readouterr().err
    assert "operation(s) break the description" in err
    assert "<failure" in (report / "schemathesis.xml").read_text()
    assert "<failure" in (report / "junit.xml").read_text()
    # the key reached the server, never the reports, the crash cache or the output
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
        (["check", "--waivers", "w.yaml"], "--against"),
        (["diff", "nope.yaml"], "nope.yaml"),
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
def served() -> Iterator[tuple[str, str]]:
    """`harness serve` as a user runs it: a subprocess on a free port."""
    key = "serve-test-key"
    with harness_serve(key) as running:
        yield running.url, key


def test_the_schemathesis_cli_finds_nothing_against_harness_serve(served: tuple[str, str], tmp_path: Path) -> None:
    url, key = served
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


# --- harness matrix -------------------------------------------------------------------------

STACK_CACHE = Path(__file__).resolve().parent.parent / ".harness-stacks"


def test_matrix_writes_the_table_and_exits_0_when_expected_cells_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "matrix"
    argv = ["matrix", "--stacks", "vlmrun-pinned", "--out", str(out), "--cache-dir", str(STACK_CACHE)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "vlmrun-pinned**: 25 ok, 5 known failures, 0 failing" in err
    doc = json.loads((out / "matrix.json").read_text())
    assert [s["name"] for s in doc["stacks"]] == ["vlmrun-pinned"]
    assert doc["ok"] is True
    assert "Object of type AgentSkill is not JSON serializable" in (out / "matrix.md").read_text()


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["matrix", "--stacks", "vlmrun-pinned,nope"], {}, "unknown stack(s) nope"),
        (["matrix", "--stacks", ","], {}, "--stacks names no stack"),
        (["matrix"], {"UV": "/nonexistent/uv"}, "not an executable uv"),
        (["matrix"], {"UV": "", "PATH": "/nonexistent"}, "uv not found"),
    ],
)
def test_matrix_usage_errors_exit_2(
    argv: list[str],
    env: dict[str, str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main([*argv, "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_matrix_names_the_stack_that_cannot_be_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "uv"
    fake.write_text("#!/bin/sh\necho 'error: Failed to fetch: https://pypi.org/simple/vlmrun/' >&2\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("UV", str(fake))
    argv = ["matrix", "--stacks", "openai-only", "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "stack openai-only cannot be built: `uv venv` exited 2" in err
    assert "Failed to fetch" in err


def test_diff_lists_the_recorded_bodies_a_break_touches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = yaml.safe_load(default_description_path().read_text())
    reference = document["components"]["schemas"]["SkillReference"]
    reference["required"] = [*reference.get("required", []), "skill_version"]
    newer = tmp_path / "newer.yaml"
    newer.write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copytree(Path(__file__).parent / "scenarios" / "cassettes", tmp_path / "cassettes")
    monkeypatch.chdir(tmp_path)
    assert main(["diff", str(default_description_path()), str(newer), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [touched] = [t for t in report["exercised_by"] if t["id"].startswith("request-property-became-required")]
    assert (
        "cassettes/test_seed_examples/test_vlmrun_sdk_agent_skill_objects[single].yaml#1 (request)" in touched["labels"]
    )
