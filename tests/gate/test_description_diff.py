"""The diff step counts breaking changes in words that agree with the number, and names the
recorded bodies each one touches."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from harness.contract import default_description_path
from harness.gate.description_diff import diff_step
from tests.specdiff._pairs import mutated, schema

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def test_one_breaking_change_is_one_change(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump(mutated(), sort_keys=False))
    new = tmp_path / "new.yaml"
    # `Health` answers one operation only (a `ChatCompletion` change shows at the POST and at the poll's 200 and 201).
    new.write_text(yaml.safe_dump(mutated(lambda d: schema(d, "Health")["required"].remove("status"))))
    step = diff_step(str(old), new, [], tmp_path, None)
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "failed",
        f"1 breaking change against {old}",
        [
            "[ERR] response-property-became-optional GET /v1/health "
            "response 200 application/json: status: the response property 'status' became optional for the status 200"
        ],
        ["fix the description, or accept each break in a waiver file with a reason (`--waivers`)"],
    )


def test_a_break_names_the_recorded_bodies_it_touches_and_what_to_re_record(tmp_path: Path) -> None:
    document = yaml.safe_load(default_description_path().read_text())
    reference = document["components"]["schemas"]["SkillReference"]
    reference["required"] = [*reference.get("required", []), "skill_version"]
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(document, sort_keys=False))
    cassettes = tmp_path / "cassettes"
    shutil.copytree(CASSETTES / "_blobs", cassettes / "_blobs")
    (cassettes / "seed").mkdir()
    shutil.copy(CASSETTES / "test_seed_examples" / "test_raw_httpx.yaml", cassettes / "seed")
    step = diff_step(str(default_description_path()), new, [cassettes], tmp_path, None)
    assert (step.status, step.details, step.next_steps) == (
        "failed",
        [
            "[ERR] request-property-became-required-with-default POST /v1/openai/chat/completions request body: "
            "skills[*].skill_version: the request property 'skills[*].skill_version' with a default value became "
            "required (in oneOf SkillReference)",
            "    exercised by cassettes/seed/test_raw_httpx.yaml#0 (request)",
        ],
        [
            "fix the description, or accept each break in a waiver file with a reason (`--waivers`)",
            "re-record or review cassettes/seed/test_raw_httpx.yaml",
        ],
    )
