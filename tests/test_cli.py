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
from harness.settings import LOCAL_API_KEY, PHASES
from tests.serving import harness_serve

FAST = ["--max-examples", "10", "--phases", "examples,fuzzing,stateful"]


EXPECTED = Path(__file__).parent / "expected" / "cli"
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", ["harness", "init", "serve", "check", "verify", "diff"])
def test_help_is_the_expected_text(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal
    assert main(["--help"] if command == "harness" else [command, "--help"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ((EXPECTED / f"{command}-help.txt").read_text(), "")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import harness

    assert main(["--version"]) == 0
    assert capsys.readouterr() == (f"harness {harness.__version__}\n", "")


def test_a_bare_harness_prints_the_help_on_stdout_and_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing was run, so not 0; the help says what can be run."""
    monkeypatch.setenv("COLUMNS", "100")
    assert main([]) == 2
    assert capsys.readouterr() == ((EXPECTED / "harness-help.txt").read_text(), "")


def _python(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, check=False)


def test_help_and_usage_errors_print_no_warning() -> None:
    shown = _python("-W", "error::DeprecationWarning", "-m", "harness", "--help")
    assert (shown.returncode, shown.stdout, shown.stderr) == (0, (EXPECTED / "harness-help.txt").read_text(), "")
    refused = _python("-W", "error::DeprecationWarning", "-m", "harness", "diff")
    assert (refused.returncode, refused.stdout, refused.stderr) == (
        2,
        "",
        "error: the following arguments are required: OLD; see `harness diff --help`\n",
    )


def test_a_bad_port_is_refused_before_the_server_is_even_imported() -> None:
    proc = _python("-X", "importtime", "-W", "error::DeprecationWarning", "-m", "harness", "serve", "--port", "99999")
    timings = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    said = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert (proc.returncode, proc.stdout, said) == (
        2,
        "",
        ["error: argument --port: 99999 is not a port number: use 0 to 65535 (0 picks a free port); "
         "see `harness serve --help`"],
    )  # fmt: skip
    assert not [line for line in timings if line.split("|")[-1].strip().split(".")[0] in ("uvicorn", "starlette")]


HEAVY = {"starlette", "uvicorn", "httpx", "httpx2", "yaml", "jsonschema_rs", "pydantic", "vcr", "schemathesis"}


def test_building_the_parser_imports_nothing() -> None:
    """Only the standard library (argparse formats help lazily): no harness module, no dependency."""
    code = (
        "import sys\nimport harness.cli\nbefore = set(sys.modules)\nharness.cli._parser().format_help()\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] not in sys.stdlib_module_names))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    proc = _python("-c", code)
    assert proc.returncode == 0, proc.stderr
    added, loaded = proc.stdout.splitlines()
    assert added == "[]"
    assert HEAVY.isdisjoint(eval(loaded)), loaded


def test_diff_and_verify_load_no_server(tmp_path: Path) -> None:
    """`harness diff` reads cassettes without the matrix or the reference server (starlette)."""
    description = str(default_description_path())
    for argv in (["diff", description, description], ["verify"]):
        proc = _python("-X", "importtime", "-W", "error::DeprecationWarning", "-m", "harness", *argv, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
        assert not {m for m in imported if m.split(".")[0] in ("starlette", "uvicorn")}, argv


def test_the_parser_lists_what_the_modules_define() -> None:
    """The parser names formats, levels and stacks without importing their modules: kept in step here."""
    from harness.cli import DIFF_FORMATS, LEVELS, STACK_NAMES
    from harness.matrix.stacks import STACKS
    from harness.specdiff import FORMATS, Level

    assert DIFF_FORMATS == FORMATS
    assert tuple(level.name for level in sorted(Level, reverse=True)) == LEVELS
    assert tuple(STACKS) == STACK_NAMES


def test_check_passes_against_the_embedded_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no cassettes or snapshots here: those steps are skipped
    report = tmp_path / "report"
    assert main(["check", *FAST, "--properties", "embedded", "--report-dir", str(report)]) == 0
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
    shutil.copytree(Path(__file__).resolve().parents[1] / "cassettes", tmp_path / "cassettes")
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
    assert "break the description" in err  # the gate's wording (harness/gate)
    assert "<failure" in (report / "schemathesis.xml").read_text()
    assert "<failure" in (report / "junit.xml").read_text()
    # the key reached the server, never the reports, the crash cache or the output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key not in path.read_text(errors="replace"), path
    assert key not in err


DESCRIPTION = str(default_description_path())
NO_FILE = "(a git revision is written REV:path, e.g. HEAD~1:openapi.yaml)"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--description", "nope.yaml"], "--description: no such file: nope.yaml"),
        (["--overlay", "nope.yaml"], "--overlay: no such file: nope.yaml"),
        (
            ["--overlay", "a-file"],
            "Overlay a-file: not a mapping (an Overlay 1.0 document starts with `overlay: 1.0.0`)",
        ),
        (["--max-examples", "0"], "--max-examples must be at least 1"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--phases", "fuzzing,warmup"], "--phases: unknown phase(s) warmup; choose from " + ", ".join(PHASES)),
        (["--base-url", "http://127.0.0.1:9"], "--base-url needs a key: pass --api-key or set VLMRUN_API_KEY"),
        (
            ["--base-url", "127.0.0.1:9", "--api-key", "k"],
            "--base-url '127.0.0.1:9' is not an http(s) URL: pass the API's root, e.g. https://api.vlm.run or http://127.0.0.1:8765",
        ),
        (["--waivers", "w.yaml"], "--waivers applies to --against: name the older description to diff against"),
        (["--report-dir", "a-file"], "--report-dir a-file is a file: name a folder (it is created if missing)"),
        (
            ["--report-dir", "a-file/reports"],
            "--report-dir a-file/reports is inside a-file, which is a file: name a folder (it is created if missing)",
        ),
        (["--cassettes", "nope"], "No such cassette folder or file: nope"),
        (["--against", "nope.yaml"], f"--against: no such description file: nope.yaml {NO_FILE}"),
        (["--against", DESCRIPTION, "--waivers", "nope.yaml"], "--waivers: nope.yaml: waiver file not found"),
        (
            ["--against", DESCRIPTION, "--waivers", "typo.yaml"],
            "--waivers: typo.yaml: waivers[0]: unknown rule id 'endpoint-add'; did you mean 'endpoint-added'?",
        ),
    ],
)
def test_check_finds_usage_errors_before_any_step(
    argv: list[str],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import harness.gate.run

    def no_gate(*args: object) -> None:
        raise AssertionError("the gate started")

    monkeypatch.setattr(harness.gate.run, "run_gate", no_gate)
    monkeypatch.delenv("VLMRUN_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    (tmp_path / "typo.yaml").write_text(
        "version: 1\nwaivers:\n  - {id: endpoint-add, operation: GET /v1/x, path: endpoint, reason: r}\n"
    )
    assert main(["check", *argv]) == 2
    assert capsys.readouterr() == ("", f"error: {expected}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "typo.yaml"]  # no report folder was made


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["check", "--fail-on", "info"],
            "error: argument --fail-on: invalid level 'info': choose ERR or WARN (in any case); "
            "see `harness check --help`\n",
        ),
        (
            ["diff", "a.yaml", "--fail-on", "fatal"],
            "error: argument --fail-on: invalid level 'fatal': choose ERR, WARN or INFO (in any case); "
            "see `harness diff --help`\n",
        ),
        (["check", "--bogus"], "error: unrecognized arguments: --bogus; see `harness --help`\n"),
        (["diff"], "error: the following arguments are required: OLD; see `harness diff --help`\n"),
    ],
)
def test_a_usage_error_is_one_line(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr() == ("", expected)


@pytest.mark.parametrize("level", ["warn", "Warn", "WARN"])
def test_check_takes_the_level_in_any_case(level: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.gate.run

    seen: list[str] = []

    def gate(opts: harness.gate.run.GateOptions, console: object) -> object:
        seen.append(opts.fail_on)
        return type("Result", (), {"exit_code": 0})()

    monkeypatch.setattr(harness.gate.run, "run_gate", gate)
    assert main(["check", "--against", DESCRIPTION, "--fail-on", level]) == 0
    assert seen == ["WARN"]


@pytest.mark.parametrize(
    ("argv", "env", "accepted"),
    [
        ([], None, LOCAL_API_KEY),
        ([], "env-key", "env-key"),
        (["--api-key", "option-key"], "env-key", "option-key"),
    ],
)
def test_serve_takes_the_option_then_the_environment_then_its_local_key(
    argv: list[str], env: str | None, accepted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.reference.app
    import harness.reference.server

    seen: list[str] = []
    real_create_app = harness.reference.app.create_app

    def create_app(*, config: harness.reference.app.ServerConfig, **kwargs: object) -> object:
        seen.append(config.api_key)
        return real_create_app(config=config, **kwargs)  # type: ignore[arg-type]

    class Listener:
        def close(self) -> None:
            pass

    monkeypatch.setattr(harness.reference.server, "bind", lambda host, port: Listener())
    monkeypatch.setattr(harness.reference.server, "serve_forever", lambda *args, **kwargs: None)
    monkeypatch.setattr(harness.reference.app, "create_app", create_app)
    if env is None:
        monkeypatch.delenv("VLMRUN_API_KEY", raising=False)
    else:
        monkeypatch.setenv("VLMRUN_API_KEY", env)
    assert main(["serve", *argv]) == 0
    assert seen == [accepted]


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--api-key", "option-key"], "env-key", ("option-key", "option")),
        ([], "env-key", ("env-key", "environment")),
    ],
)
def test_check_takes_the_key_from_the_option_then_the_environment_and_says_which(
    argv: list[str], env: str, expected: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.gate.run

    seen: list[tuple[str, str]] = []

    def gate(opts: harness.gate.run.GateOptions, console: object) -> object:
        assert opts.api_key is not None
        seen.append((opts.api_key.value, opts.api_key.source))
        return type("Result", (), {"exit_code": 0})()

    monkeypatch.setattr(harness.gate.run, "run_gate", gate)
    monkeypatch.setenv("VLMRUN_API_KEY", env)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--base-url", "http://127.0.0.1:9", *argv]) == 0
    assert seen == [expected]


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
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "harness.proptests.hooks"}
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
    long_request = (
        "  - long request (303), `vlmrun-dict`: known failure: followed the 303 with a GET and returned str '' "
        "for the completion (rule `no-long-request-polling`)\n"
    )
    assert long_request in err
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
    shutil.copytree(Path(__file__).resolve().parents[1] / "cassettes", tmp_path / "cassettes")
    monkeypatch.chdir(tmp_path)
    assert main(["diff", str(default_description_path()), str(newer), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [touched] = [t for t in report["exercised_by"] if t["id"].startswith("request-property-became-required")]
    assert (
        "cassettes/test_seed_examples/test_vlmrun_sdk_agent_skill_objects[single].yaml#1 (request)" in touched["labels"]
    )


# "user": the 23 bodies in cassettes/test_seed_examples and the 7 completions POSTs in cassettes/test_long_requests
# (their polls are GETs and send no body).
@pytest.mark.parametrize(("role", "touched"), [("system", 0), ("user", 30)])
def test_diff_links_a_removed_enum_value_only_to_bodies_that_send_it(
    role: str, touched: int, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = yaml.safe_load(default_description_path().read_text())
    document["components"]["schemas"]["Message"]["properties"]["role"]["enum"].remove(role)
    newer = tmp_path / "newer.yaml"
    newer.write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copytree(Path(__file__).resolve().parents[1] / "cassettes", tmp_path / "cassettes")
    monkeypatch.chdir(tmp_path)
    assert main(["diff", str(default_description_path()), str(newer), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in report["changes"]] == ["request-property-enum-value-removed"]
    labels = [label for t in report["exercised_by"] for label in t["labels"]]
    assert len(labels) == touched
    for label in labels:  # every body named sends that role
        path, index = label.removesuffix(" (request)").split("#")
        sent = yaml.safe_load((tmp_path / path).read_text())["interactions"][int(index)]["request"]["body"]
        assert f'"role": "{role}"' in (sent if isinstance(sent, str) else json.dumps(sent)), label
