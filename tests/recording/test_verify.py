from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.contract import load_contract
from harness.recording.verify import discover_cassette_dirs, format_result, verify

SCENARIO_CASSETTES = Path(__file__).resolve().parents[1] / "scenarios" / "cassettes"


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
    assert result.files == 22
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
    (cassettes / "broken.yaml").write_text("interactions: [\n")
    assert main(["verify", str(cassettes)]) == 2
    assert "broken.yaml" in capsys.readouterr().err


def test_discovery_skips_virtualenvs(tmp_path: Path) -> None:
    (tmp_path / "tests" / "cassettes").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "cassettes").mkdir(parents=True)
    assert discover_cassette_dirs(tmp_path) == [tmp_path / "tests" / "cassettes"]
