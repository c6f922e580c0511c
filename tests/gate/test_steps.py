"""Each adapter turns a module's result into a step with the right status and next steps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from harness.contract import Contract, default_description_path, load_contract
from harness.gate.steps import cassettes_step, description_step

SCENARIO_CASSETTES = Path(__file__).resolve().parents[1] / "scenarios" / "cassettes"


def copy_cassettes(tmp_path: Path) -> Path:
    target = tmp_path / "cassettes"
    shutil.copytree(SCENARIO_CASSETTES, target)
    return target


def test_recorded_cassettes_pass_one_case_each(tmp_path: Path) -> None:
    step, result = cassettes_step([copy_cassettes(tmp_path)], load_contract())
    assert step.status == "passed"
    assert result is not None
    assert len(step.cases) == result.files == 22


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
    step = description_step(Contract.from_path(path), path)
    assert step.status == "error"
    assert str(path) in step.next_steps[0]
