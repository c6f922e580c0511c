"""The gate's order, skipping and reports, without the slow property step."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from harness.contract import default_description_path
from harness.errors import UsageError
from harness.gate import run as gate_run
from harness.gate.model import GateResult, Step
from harness.gate.run import GateOptions, run_gate, summary_table
from harness.proptests.runner import RunOptions
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread
from harness.settings import ApiKey

DESCRIPTION = default_description_path()


def options(tmp_path: Path, **kwargs: object) -> GateOptions:
    defaults: dict[str, object] = {
        "description": default_description_path(),
        "root": tmp_path,
        "report_dir": tmp_path / "report",
        "skip": frozenset({"properties"}),
    }
    return GateOptions(**{**defaults, **kwargs})  # type: ignore[arg-type]


def console() -> Console:
    return Console(file=io.StringIO(), width=120)


def rendered(out: Console) -> str:
    assert isinstance(out.file, io.StringIO)
    return out.file.getvalue()


def table(result: GateResult) -> str:
    """The summary table as the same console renders it (its layout is rich's, tested there)."""
    out = console()
    out.print(summary_table(result))
    return rendered(out)


def test_every_step_reports_and_the_reports_are_written(tmp_path: Path) -> None:
    out = console()
    same = str(default_description_path())
    result = run_gate(options(tmp_path, against=same), out)
    assert [(s.name, s.status) for s in result.steps] == [
        ("description", "passed"),
        ("properties", "skipped"),
        ("cassettes", "skipped"),
        ("snapshots", "skipped"),
        ("client-stack", "passed"),
        ("diff", "passed"),
    ]
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["verdict"] == "passed"
    assert isinstance(out.file, io.StringIO)
    assert "harness check: passed" in out.file.getvalue()


def test_a_missing_description_stops_the_gate_with_an_error(tmp_path: Path) -> None:
    result = run_gate(options(tmp_path, description=tmp_path / "nope.yaml"), console())
    assert [(s.name, s.status) for s in result.steps] == [("description", "error")]
    assert result.exit_code == 2
    assert "nope.yaml" in result.steps[0].summary


def test_a_failing_step_fails_the_gate_and_an_erroring_one_is_contained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Step:
        raise UsageError("uv is not installed")

    monkeypatch.setattr(gate_run, "client_stack_step", broken)
    monkeypatch.setattr(
        gate_run, "run_snapshot_tests", lambda root, extra: Step("snapshots").fail("1 snapshot drifted")
    )
    result = run_gate(options(tmp_path), console())
    statuses = {s.name: s.status for s in result.steps}
    assert (statuses["snapshots"], statuses["client-stack"]) == ("failed", "error")
    assert result.exit_code == 2
    assert "uv is not installed" in result.steps[-1].summary


# -- the target: reached and authenticated before any case, whatever form its URL takes --------------

KEY = ApiKey("sk-gate-run-test-key", "option")
WRONG = ApiKey("WRONG", "option")
TARGET_SKIPS = frozenset({"cassettes", "snapshots", "client-stack"})


def never(*args: object, **kwargs: object) -> tuple[Step, None]:
    raise AssertionError("no case may be generated for a target that cannot be tested")


@pytest.fixture(scope="module")
def reference() -> Iterator[str]:
    with serve_in_thread(create_app(config=ServerConfig(api_key=KEY.value))) as running:
        yield running.url


def test_a_wrong_key_stops_the_gate_with_exit_2_before_any_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: str
) -> None:
    monkeypatch.setattr(gate_run, "properties_step", never)
    out = console()
    result = run_gate(options(tmp_path, base_url=reference, api_key=WRONG, skip=frozenset()), out, clock=lambda: 0.0)
    assert result.exit_code == 2
    assert [(s.name, s.status) for s in result.steps] == [("description", "passed"), ("properties", "error")]
    report = tmp_path / "report"
    line = f"the server at {reference} answered 401 to the key given with --api-key: pass a valid key"
    assert rendered(out) == (
        f"✓ description {DESCRIPTION} is valid OpenAPI 3.1.0 (0.0 s)\n"
        f"! properties {line} (0.0 s)\n" + table(result) + f"reports: {report}/junit.xml, {report}/summary.md, "
        f"{report}/summary.json\n"
    )
    assert (report / "summary.md").read_text() == (
        "## ⚠️ harness check: error\n\n"
        f"Target: `{reference}`\n\n"
        "| step | result | summary |\n"
        "|---|---|---|\n"
        f"| description | ✅ passed | {DESCRIPTION} is valid OpenAPI 3.1.0 |\n"
        f"| properties | ⚠️ error | {line} |\n"
    )
    assert not (report / "schemathesis.xml").exists()


def test_an_unreachable_target_is_exit_2_not_a_contract_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate_run, "properties_step", never)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = run_gate(options(tmp_path, base_url=url, api_key=KEY, skip=TARGET_SKIPS), console())
    assert result.exit_code == 2
    assert result.steps[-1].summary == (
        f"cannot reach {url} (connection refused): start the server, or pass the URL it listens on with --base-url"
    )


def test_a_key_from_the_environment_is_named_as_such(tmp_path: Path, reference: str) -> None:
    opts = options(tmp_path, base_url=reference + "/v1", api_key=ApiKey("WRONG", "environment"), skip=TARGET_SKIPS)
    result = run_gate(opts, console())
    assert result.steps[-1].summary == (
        f"the server at {reference} answered 401 to the key in $VLMRUN_API_KEY: "
        "set VLMRUN_API_KEY to a valid key, or pass one with --api-key"
    )


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_the_base_url_is_taken_with_or_without_v1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: str, suffix: str
) -> None:
    seen: list[str] = []

    def properties(opts: RunOptions, **kwargs: object) -> tuple[Step, None]:
        seen.append(opts.base_url)
        return Step("properties", summary="ok"), None

    monkeypatch.setattr(gate_run, "properties_step", properties)
    result = run_gate(options(tmp_path, base_url=reference + suffix, api_key=KEY, skip=TARGET_SKIPS), console())
    assert (seen, result.target, result.exit_code) == ([reference], reference, 0)


def test_the_embedded_server_s_key_is_the_gate_s_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """So a refused key is reported as the gate's, and a failure is reproduced against `harness serve`."""
    seen: list[object] = []

    def properties(opts: RunOptions, **kwargs: object) -> tuple[Step, None]:
        seen.append(kwargs["key_source"])
        return Step("properties", summary="ok"), None

    monkeypatch.setattr(gate_run, "properties_step", properties)
    result = run_gate(options(tmp_path, skip=TARGET_SKIPS, properties="embedded"), console())
    assert (seen, result.exit_code) == (["local"], 0)


def test_the_form_harness_serve_prints_passes_against_a_conforming_server(tmp_path: Path, reference: str) -> None:
    """`--base-url http://host:port/v1` used to request /v1/v1/… : every operation 404ed and the gate failed."""
    opts = options(
        tmp_path, base_url=reference + "/v1", api_key=KEY, max_examples=1, phases=("examples",), seed=1,
        skip=TARGET_SKIPS,
    )  # fmt: skip
    result = run_gate(opts, console())
    properties = result.steps[1]
    assert (properties.status, result.exit_code) == ("passed", 0), properties.details
    assert properties.summary.startswith(f"{reference}: ")


# -- what a failure shows: every check with its meaning, the answer, a curl that runs ----------------


async def _teapot(request: Request) -> PlainTextResponse:
    return PlainTextResponse("teapot", status_code=418)


@pytest.fixture(scope="module")
def teapot() -> Iterator[str]:
    """The reference server, except that skill lookups answer 418 in plain text."""
    reference_app = create_app(config=ServerConfig(api_key=KEY.value))
    app = Starlette(routes=[Route("/v1/skills/lookup", _teapot, methods=["POST"]), Mount("/", app=reference_app)])
    with serve_in_thread(app) as running:
        yield running.url


def test_a_failure_shows_its_checks_their_meaning_the_answer_and_a_curl_command(tmp_path: Path, teapot: str) -> None:
    out = console()
    opts = options(
        tmp_path, base_url=teapot, api_key=KEY, max_examples=1, phases=("examples",), seed=7, skip=TARGET_SKIPS
    )
    result = run_gate(opts, out, clock=lambda: 0.0)
    assert result.exit_code == 1
    report = tmp_path / "report"
    summary = "1 operation breaks the description (26 generated, 1 failing, 2 unique failures, 6 skipped)"
    details = [
        "POST /v1/skills/lookup → 418 I'm a Teapot: teapot",
        "  ST202 Schema-valid request rejected: a request the description allows was rejected: the server or "
        "the description is too strict",
        "      Valid data should have been accepted",
        "      Expected: 2xx, 3xx, 401, 403, 404, 409, 429, 5xx",
        "  ST103 Undocumented status code: the status is not among the responses the description lists for "
        "this operation",
        "      Received: 418",
        "      Documented: 200, 401, 404, 422",
        "  reproduce: curl -X POST -H \"Authorization: Bearer $VLMRUN_API_KEY\" -H 'Content-Type: application/json' "
        f'-d \'{{"name": "invoice-extraction"}}\' {teapot}/v1/skills/lookup',
        f"full schemathesis report: {report}/schemathesis.xml",
    ]
    next_steps = [
        "reproduce a failure with its curl command (with VLMRUN_API_KEY set to the key), then fix the server or "
        "the description",
        "run the same cases again: `harness check --seed 7` with the same options",
    ]
    assert (result.steps[1].summary, result.steps[1].details, result.steps[1].next_steps) == (
        summary,
        details,
        next_steps,
    )
    assert rendered(out) == (
        f"✓ description {DESCRIPTION} is valid OpenAPI 3.1.0 (0.0 s)\n"
        "- cassettes skipped (--skip) (0.0 s)\n"
        "- snapshots skipped (--skip) (0.0 s)\n"
        "- client-stack skipped (--skip) (0.0 s)\n"
        f"✗ properties {summary} (0.0 s)\n"
        + table(result)
        + "properties:\n"
        + "".join(f"  {line}\n" for line in details)
        + "".join(f"  → {hint}\n" for hint in next_steps)
        + f"reports: {report}/junit.xml, {report}/summary.md, {report}/summary.json\n"
    )
    assert (report / "summary.md").read_text() == (
        "## ❌ harness check: failed\n\n"
        f"Target: `{teapot}`\n\n"
        "| step | result | summary |\n"
        "|---|---|---|\n"
        f"| description | ✅ passed | {DESCRIPTION} is valid OpenAPI 3.1.0 |\n"
        f"| properties | ❌ failed | {summary} |\n"
        "| cassettes | ➖ skipped | skipped (--skip) |\n"
        "| snapshots | ➖ skipped | skipped (--skip) |\n"
        "| client-stack | ➖ skipped | skipped (--skip) |\n\n"
        "### properties: failed\n\n"
        "```\n" + "".join(f"{line}\n" for line in details) + "```\n\n"
        "What to do next:\n" + "".join(f"- {hint}\n" for hint in next_steps)
    )


# -- the live line names only the steps still running ----------------------------------------------


class LiveRecorder(Console):
    """A console that records what its live status line said, in order."""

    def __init__(self) -> None:
        super().__init__(file=io.StringIO(), width=120)
        self.live: list[str] = []
        self.changed = threading.Condition()

    def status(self, status: object, **kwargs: object) -> Any:
        recorder = self

        class Live:
            def __enter__(self) -> Live:
                self.update(status)
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def update(self, text: object) -> None:
                with recorder.changed:
                    recorder.live.append(str(text))
                    recorder.changed.notify_all()

        return Live()

    def wait_for(self, n: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.live) >= n, timeout=10)


def test_the_live_line_shows_only_the_steps_still_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = LiveRecorder()

    def finishing(name: str, after: int) -> Callable[..., Step]:
        def step(*args: object) -> Step:
            out.wait_for(after)  # finish only once the line has changed for the step before
            return Step(name, summary="ok")

        return step

    monkeypatch.setattr(gate_run, "cassettes_step", lambda paths, contract: (finishing("cassettes", 2)(), None))
    monkeypatch.setattr(gate_run, "run_snapshot_tests", finishing("snapshots", 3))
    monkeypatch.setattr(gate_run, "client_stack_step", finishing("client-stack", 4))
    result = run_gate(options(tmp_path, cassettes=[]), out)
    assert result.exit_code == 0
    assert out.live == [
        "description…",
        "running cassettes, snapshots, client-stack…",
        "running snapshots, client-stack…",
        "running client-stack…",
        "finishing…",
    ]


def test_an_invalid_description_stops_the_property_step_it_started_beside_the_check(tmp_path: Path) -> None:
    """Against the embedded server the property step starts while the description is checked."""
    document = yaml.safe_load(DESCRIPTION.read_text())
    document["paths"]["/v1/health"]["get"]["responses"] = "not a mapping"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document))
    start = time.monotonic()
    result = run_gate(options(tmp_path, description=broken, skip=TARGET_SKIPS, properties="embedded"), console())
    assert [(s.name, s.status) for s in result.steps] == [("description", "error")]
    assert result.exit_code == 2
    assert not (tmp_path / "report" / "schemathesis.xml").exists()  # stopped before it wrote a report
    assert time.monotonic() - start < 60
