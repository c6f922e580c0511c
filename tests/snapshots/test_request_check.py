"""A captured request the description in use does not allow fails the test that captured it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness.contract import DescriptionChoice, default_description_path, load_contract, use_description
from harness.errors import ConformanceFailure
from harness.snapshots import Capture, openai_client, vlmrun_completions
from harness.snapshots.capture import BASE_URL

DESCRIPTION = default_description_path()
MODEL = "vlmrun-orion-1:auto"
HI = [{"role": "user", "content": "hi"}]
HOW = "fix the call, or capture with Capture(allow_invalid=True) to snapshot an invalid request on purpose"


def failure(capture: Capture) -> ConformanceFailure:
    with pytest.raises(ConformanceFailure) as raised:
        _ = capture.last
    return raised.value


def test_a_misspelt_skill_key_fails_where_the_test_reads_the_capture_naming_the_field() -> None:
    capture = Capture()
    answer = openai_client(capture).chat.completions.create(
        model=MODEL, messages=HI, extra_body={"skills": [{"skil_name": "invoice-extraction"}]}
    )
    assert answer.choices[0].message.content == "captured"  # the SDK call itself goes through
    raised = failure(capture)
    assert str(raised) == (
        f"POST /v1/openai/chat/completions: the captured request breaks the API description {DESCRIPTION} "
        "(2 findings):\n"
        "  skills[0].skil_name: Unknown field 'skil_name' is not allowed here\n"
        "  skills[0]: Provide at least one of 'skill_id' or 'skill_name'\n" + HOW
    )
    assert raised.location == "skills[0].skil_name"
    with pytest.raises(ConformanceFailure):
        _ = capture.requests  # however the test reads it


def test_the_vlmrun_sdk_path_is_checked_too() -> None:
    capture = Capture()
    vlmrun_completions(capture).create(model="gpt-4o", messages=HI, skills=[{"skill_name": "x"}])
    assert str(failure(capture)).splitlines()[1] == (
        '  model: "gpt-4o" does not match "^vlmrun-orion-[0-9]+(:[a-z0-9][a-z0-9._-]*)?$"'
    )


def test_a_model_id_the_api_may_add_later_is_captured() -> None:
    capture = Capture()
    vlmrun_completions(capture).create(model="vlmrun-orion-2:opus-5", messages=HI, skills=[{"skill_name": "x"}])
    assert capture.last.json()["model"] == "vlmrun-orion-2:opus-5"


def test_an_invalid_request_is_kept_when_the_test_asks_for_it() -> None:
    capture = Capture(allow_invalid=True)
    openai_client(capture).chat.completions.create(model=MODEL, messages=HI, extra_body={"skills": [{"skil": "x"}]})
    assert capture.last.json()["skills"] == [{"skil": "x"}]
    assert len(capture.requests) == 1


def test_a_valid_request_is_captured_as_before() -> None:
    capture = Capture()
    openai_client(capture).chat.completions.create(
        model=MODEL, messages=HI, extra_body={"skills": [{"skill_name": "invoice-extraction"}]}
    )
    assert capture.last.json()["skills"] == [{"skill_name": "invoice-extraction"}]


def _post(capture: Capture, path: str, *, params: dict[str, str] | None = None, **kwargs: object) -> None:
    with httpx.Client(transport=httpx.MockTransport(capture.handler(httpx))) as client:
        client.post(f"{BASE_URL}{path}", params=params, **kwargs)  # type: ignore[arg-type]


def test_an_undocumented_operation_and_a_bad_query_parameter_are_named() -> None:
    capture = Capture()
    _post(capture, "/nowhere", json={})
    assert str(failure(capture)) == (
        f"POST /v1/nowhere: the captured request breaks the API description {DESCRIPTION} (1 finding):\n"
        "  path: POST /v1/nowhere is not a documented operation\n" + HOW
    )
    capture = Capture()
    with httpx.Client(transport=httpx.MockTransport(capture.handler(httpx))) as client:
        client.get(f"{BASE_URL}/skills", params={"limit": "0", "grouped": "maybe"})
    assert str(failure(capture)) == (
        f"GET /v1/skills: the captured request breaks the API description {DESCRIPTION} (2 findings):\n"
        "  query.limit: 0 is less than the minimum of 1\n"
        "  query.grouped: Expected true or false, got 'maybe'\n" + HOW
    )


def test_a_body_that_is_not_json_is_named() -> None:
    capture = Capture()
    _post(capture, "/openai/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert str(failure(capture)).splitlines()[1] == (
        "  <root>: Body is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)): "
        "b'{not json'"
    )


TEAM_TOOLSET_OVERLAY = {
    "overlay": "1.0.0",
    "info": {"title": "Our toolsets", "version": "1"},
    "actions": [
        {"target": "$.components.schemas.ChatCompletionRequest.properties.toolsets.items.enum", "update": "audio"}
    ],
}
TEAM_TOOLSET = {"toolsets": ["audio"]}


@pytest.fixture
def team_overlay(tmp_path: Path) -> Iterator[Path]:
    """The team's overlay, in use for the test (this repository configures none: restored to that after)."""
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(TEAM_TOOLSET_OVERLAY))
    use_description(DescriptionChoice(overlays=(overlay,)))
    try:
        yield overlay
    finally:
        use_description(DescriptionChoice())


def test_the_description_in_use_is_the_one_checked_against(team_overlay: Path) -> None:
    capture = Capture()
    openai_client(capture).chat.completions.create(model=MODEL, messages=HI, extra_body=TEAM_TOOLSET)
    assert capture.last.json()["toolsets"] == ["audio"]  # the overlay allows it
    capture = Capture()
    openai_client(capture).chat.completions.create(model=MODEL, messages=[], extra_body=TEAM_TOOLSET)
    assert str(failure(capture)) == (
        f"POST /v1/openai/chat/completions: the captured request breaks the API description "
        f"{DESCRIPTION} + {team_overlay} (1 finding):\n"
        "  messages: [] has less than 1 item\n" + HOW
    )


def test_another_description_can_be_named_for_one_capture(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(TEAM_TOOLSET_OVERLAY))
    capture = Capture(contract=DescriptionChoice(overlays=(overlay,)).load())
    openai_client(capture).chat.completions.create(model=MODEL, messages=HI, extra_body=TEAM_TOOLSET)
    assert capture.last.json()["toolsets"] == ["audio"]
    assert load_contract().source == str(DESCRIPTION)  # the description in use is untouched
