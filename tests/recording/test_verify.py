from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.contract import Violation, load_contract
from harness.recording.conformance import Finding
from harness.recording.verify import VerifyResult, discover_cassette_dirs, enum_line, format_result, verify

SCENARIO_CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


@pytest.fixture
def cassettes(tmp_path: Path) -> Path:
    target = tmp_path / "cassettes"
    shutil.copytree(SCENARIO_CASSETTES, target)
    return target


def _edit(path: Path, edit: object) -> None:
    data = yaml.safe_load(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_recorded_scenarios_conform_and_list_what_was_never_seen(cassettes: Path) -> None:
    result = verify([cassettes], load_contract())
    assert (result.files, result.interactions) == (28, 50)
    assert not result.failed
    assert "POST /v1/openai/chat/completions 200 application/json: usage.credits_used" in result.unseen
    assert not any(line.endswith(": choices") for line in result.unseen)


def test_fields_and_statuses_not_described_are_failures(cassettes: Path) -> None:
    target = cassettes / "test_seed_examples" / "test_raw_httpx.yaml"

    def drift(data: dict) -> None:  # type: ignore[type-arg]
        stored = data["interactions"][0]["response"]["body"]
        body = json.loads(stored["string"])
        body["x_vendor_trace"] = {"steps": 3}
        body["choices"][0]["logprobs"] = None
        stored["string"] = json.dumps(body, indent=2)

    _edit(target, drift)
    result = verify([cassettes], load_contract())
    assert result.failed
    text = format_result(result)
    assert "Seen in traffic but not described:" in text
    assert "x_vendor_trace (e.g. test_raw_httpx.yaml#0)" in text
    assert "choices[].logprobs" in text
    _edit(target, lambda d: d["interactions"][0]["response"]["status"].update(code=500))
    assert "Status codes seen but not described" in format_result(verify([cassettes], load_contract()))


def test_cli_exit_codes(cassettes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(cassettes)]) == 0
    assert capsys.readouterr() == ("28 cassette(s), 50 interaction(s) checked against the description\n", "")
    (cassettes / "broken.yaml").write_text("interactions: [\n")
    assert main(["verify", str(cassettes)]) == 2
    out, err = capsys.readouterr()
    assert out == "28 cassette(s), 50 interaction(s) checked against the description\n"  # the report: stdout
    assert err == (  # what went wrong: stderr, one line
        f"error: Cassette {cassettes / 'broken.yaml'} is not valid YAML (line 2, column 1): "
        "did not find expected node content\n"
    )


def test_coverage_is_listed_only_when_asked(cassettes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--coverage", str(cassettes)]) == 0
    chat, poll = "POST /v1/openai/chat/completions 200", "GET /v1/openai/chat/completions 200"
    assert capsys.readouterr() == (  # per response seen: the poll's 201 was never answered, so it lists nothing
        "28 cassette(s), 50 interaction(s) checked against the description\n"
        "Described but never seen in any cassette (10):\n"
        f"  {poll} application/json: system_fingerprint\n"
        f"  {poll} application/json: usage.credits\n"
        f"  {poll} application/json: usage.credits_used\n"
        f"  {chat} application/json: system_fingerprint\n"
        f"  {chat} application/json: usage.credits\n"
        f"  {chat} application/json: usage.credits_used\n"
        f"  {chat} text/event-stream: data.usage.credits\n"
        f"  {chat} text/event-stream: data.usage.credits_used\n"
        f"  {chat} text/event-stream: event\n"
        f"  {chat} text/event-stream: id\n",
        "",
    )


def test_usage_errors_are_one_line_before_any_cassette_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr() == ("", f"error: No such cassette folder or file: {tmp_path / 'nope'}\n")
    assert main(["verify", "--description", str(tmp_path / "nope.yaml"), str(tmp_path)]) == 2
    assert capsys.readouterr() == ("", f"error: --description: no such file: {tmp_path / 'nope.yaml'}\n")


def test_an_enum_value_not_described_is_shown_whole(cassettes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Conformance messages are cut at 300 characters; the enum section shows the value and every allowed one."""
    reason = "stopped_by_the_upstream_provider_" * 12  # 396 characters

    def drift(data: dict) -> None:  # type: ignore[type-arg]
        stored = data["interactions"][0]["response"]["body"]
        body = json.loads(stored["string"])
        body["choices"][0]["finish_reason"] = reason
        stored["string"] = json.dumps(body, indent=2)

    _edit(cassettes / "test_seed_examples" / "test_raw_httpx.yaml", drift)
    assert main(["verify", str(cassettes)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    section = out[out.index("Enum values seen but not described:") :]
    assert section == (
        "Enum values seen but not described:\n"
        f'  response choices[0].finish_reason: "{reason}" is not one of '
        '["stop", "length", "tool_calls", "content_filter", null] (e.g. test_raw_httpx.yaml#0)\n'
    )


def test_discovery_skips_virtualenvs(tmp_path: Path) -> None:
    (tmp_path / "tests" / "cassettes").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "cassettes").mkdir(parents=True)
    assert discover_cassette_dirs(tmp_path) == [tmp_path / "tests" / "cassettes"]


def test_coverage_with_nothing_unseen_says_so() -> None:
    assert format_result(VerifyResult(), coverage=True) == (
        "0 cassette(s), 0 interaction(s) checked against the description\n"
        "Described but never seen in any cassette: none"
    )


def test_enum_findings_are_recognised_by_their_violation_not_their_wording() -> None:
    enum = Violation(("order_by",), "cut …", "enum", input="size", allowed=("name", "created_at"))
    worded_alike = Violation(("x",), '"a" is not one of "b"', "const")
    assert enum_line(Finding(0, "request", "query.order_by", enum.msg, "schema", enum)) == (
        'request query.order_by: "size" is not one of ["name", "created_at"]'
    )
    assert enum_line(Finding(0, "response", "x", worded_alike.msg, "schema", worded_alike)) is None
    assert enum_line(Finding(0, "response", "x", '"a" is not one of "b"', "schema")) is None


def test_response_headers_not_described_are_failures(cassettes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """HTTP's own headers (date, server, content-length …) and the reference server's markers are
    not the API's; a header of the API's that the description lacks is drift like a field."""

    def drift(data: dict) -> None:  # type: ignore[type-arg]
        data["interactions"][0]["response"]["headers"]["X-Request-Id"] = ["req-1"]

    _edit(cassettes / "test_seed_examples" / "test_raw_httpx.yaml", drift)
    assert main(["verify", str(cassettes)]) == 1
    assert capsys.readouterr() == (
        "28 cassette(s), 50 interaction(s) checked against the description\n"
        "Seen in traffic but not described:\n"
        "  POST /v1/openai/chat/completions 200 application/json: header x-request-id (e.g. test_raw_httpx.yaml#0)\n",
        "",
    )
