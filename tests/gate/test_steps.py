"""Each adapter turns a module's result into a step with the right status and next steps."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.contract import Contract, default_description_path, load_contract
from harness.gate import steps
from harness.gate.steps import cassettes_step, description_step, properties_step
from harness.proptests.runner import OperationResult, RunOptions, RunResult, SchemathesisJsonReport
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread

SCENARIO_CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def copy_cassettes(tmp_path: Path) -> Path:
    target = tmp_path / "cassettes"
    shutil.copytree(SCENARIO_CASSETTES, target)
    return target


def test_recorded_cassettes_pass_one_case_each(tmp_path: Path) -> None:
    step, result = cassettes_step([copy_cassettes(tmp_path)], load_contract())
    assert step.status == "passed"
    assert result is not None
    assert len(step.cases) == result.files == 28


def test_a_drifted_cassette_fails_and_names_what_to_re_record(tmp_path: Path) -> None:
    cassettes = copy_cassettes(tmp_path)
    target = cassettes / "test_seed_examples" / "test_raw_httpx.yaml"
    data = yaml.safe_load(target.read_text())
    stored = data["interactions"][0]["response"]["body"]
    body = json.loads(stored["string"])
    del body["choices"]
    stored["string"] = json.dumps(body, indent=2)
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    step, _ = cassettes_step([cassettes], load_contract())
    assert step.status == "failed"
    assert [c.name for c in step.cases if c.status == "failed"] == [str(target)]
    assert any(str(target) in hint and "--record-mode=rewrite" in hint for hint in step.next_steps)


def test_an_unreadable_cassette_is_an_error(tmp_path: Path) -> None:
    cassettes = copy_cassettes(tmp_path)
    (cassettes / "broken.yaml").write_text("interactions: [\n")
    step, _ = cassettes_step([cassettes], load_contract())
    assert step.status == "error"


def test_no_cassettes_is_skipped() -> None:
    step, result = cassettes_step([], load_contract())
    assert (step.status, result) == ("skipped", None)


def test_an_invalid_description_is_an_error_naming_the_file(tmp_path: Path) -> None:
    document = yaml.safe_load(default_description_path().read_text())
    document["paths"]["/v1/health"]["get"]["responses"] = "not a mapping"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document))
    step = description_step(Contract.from_path(path))
    assert step.status == "error"
    assert step.next_steps == [f"fix {path}, then run the gate again"]


# -- the property step never passes a run in which no request was served -------------------------------

KEY = "sk-steps-test-key"


def run_options(tmp_path: Path, url: str, key: str, phases: tuple[str, ...] = ("examples", "fuzzing")) -> RunOptions:
    return RunOptions(
        description=default_description_path(),
        base_url=url,
        api_key=key,
        max_examples=1,
        phases=phases,
        seed=3,
        junit_path=tmp_path / "schemathesis.xml",
    )


@pytest.fixture(scope="module")
def reference() -> Iterator[str]:
    with serve_in_thread(create_app(config=ServerConfig(api_key=KEY))) as running:
        yield running.url


def test_a_run_in_which_every_answer_was_401_is_an_error_not_a_pass(tmp_path: Path, reference: str) -> None:
    """401 is a described response: without this, a wrong key made every check hold (exit 0)."""
    step, result = properties_step(run_options(tmp_path, reference, "WRONG"))
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "error",
        f"the server at {reference} answered only 401/403 to the key given with --api-key, on every operation: "
        "pass a valid key",
        [],
        [],
    )
    assert result is not None
    assert result.refused == [
        "GET /v1/health",
        "GET /v1/openai/chat/completions",
        "GET /v1/skills",
        "GET /v1/skills/{skill_id}",
        "GET /v1/skills/{skill_id}/download",
        "POST /v1/openai/chat/completions",
        "POST /v1/skills/create",
        "POST /v1/skills/lookup",
        "POST /v1/skills/{skill_id}/update",
    ]


def test_a_run_in_which_no_request_got_an_answer_is_an_error_not_a_contract_failure(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    step, result = properties_step(run_options(tmp_path, url, KEY, phases=("examples",)))
    assert (step.status, step.summary) == (
        "error",
        f"cannot reach {url} (no request got an answer): start the server, or pass the URL it listens on with "
        "--base-url",
    )
    assert result is not None
    assert result.unreachable


FAILURE = """1. Test Case ID: abc

- ST101 Server error

[500] Internal Server Error:

    `boom`

Reproduce with:

    curl -X GET -H 'Authorization: [Filtered]' http://127.0.0.1:40001/v1/skills"""


def test_a_failure_of_the_embedded_server_says_how_to_reproduce_it_and_names_both_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = RunResult(
        1,
        [OperationResult("GET /v1/skills", failures=[FAILURE])],
        "Test cases:\n  3 generated, 1 found, 1 unique failure\n",
        5,
    )
    monkeypatch.setattr(steps, "run", lambda opts, started: failing)
    opts = RunOptions(
        description=Path("d.yaml"), base_url="http://127.0.0.1:40001", api_key="k", junit_path=tmp_path / "s.xml"
    )
    step, _ = properties_step(opts, key_source="local")
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "failed",
        "1 operation breaks the description (3 generated, 1 failing, 1 unique failure)",
        [
            "GET /v1/skills → 500 Internal Server Error: boom",
            "  ST101 Server error: the server answered 5xx: it crashed on a request it should have handled or "
            "rejected with a 4xx",
            "  reproduce: curl -X GET -H 'Authorization: Bearer harness-local-key' http://127.0.0.1:8765/v1/skills",
            f"full schemathesis reports: {tmp_path}/s.xml, {tmp_path}/s-coverage.xml",
        ],
        [
            "reproduce a failure: start `harness serve --api-key harness-local-key` (it listens on 127.0.0.1:8765), "
            "run the failure's curl command, then fix the server or the description",
            "run the same cases again: `harness check --seed 5` with the same options",
        ],
    )


def test_some_operations_refusing_the_key_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = RunResult(
        0,
        [OperationResult("GET /v1/skills"), OperationResult("GET /v1/health"), OperationResult("Stateful tests")],
        "",
        5,
        [SchemathesisJsonReport(generated=9, refused=frozenset({"GET /v1/skills"}))],
    )
    monkeypatch.setattr(steps, "run", lambda opts, started: refused)
    opts = RunOptions(description=Path("d.yaml"), base_url="http://h", api_key="k")
    step, _ = properties_step(opts, key_source="environment")
    assert (step.status, step.summary) == (
        "error",
        "the server at http://h answered only 401/403 to the key in $VLMRUN_API_KEY on 1 operation "
        "(GET /v1/skills): pass a key that may call them",
    )


def test_the_gate_s_own_key_refused_is_named_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = RunResult(
        0, [OperationResult("GET /v1/skills")], "", 5, [SchemathesisJsonReport(refused=frozenset({"GET /v1/skills"}))]
    )
    monkeypatch.setattr(steps, "run", lambda opts, started: refused)
    opts = RunOptions(description=Path("d.yaml"), base_url="http://127.0.0.1:40001", api_key="k")
    step, _ = properties_step(opts, key_source="local")
    assert (step.status, step.summary) == (
        "error",
        "the server at http://127.0.0.1:40001 answered only 401/403 to the gate's own key, on every operation: "
        "pass a valid key",
    )
