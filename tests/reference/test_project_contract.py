"""The embedded server judges by the description in use and serves a team's skills beside the seeded ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from harness.contract import DescriptionChoice, load_contract, use_description
from harness.header_names import RESOLVED_HEADER
from harness.reference.app import ServerConfig, create_app
from harness.reference.registry import Registry
from tests.reference.conftest import AUTH, KEY

COMPLETIONS = "/v1/openai/chat/completions"
HELLO = [{"role": "user", "content": "Hello"}]
TEAM_MODEL = "team-orion"  # a model id of a form the packaged description's pattern refuses
TEAM_MODELS = {
    "overlay": "1.0.0",
    "info": {"title": "Our corrections", "version": "1.0.0"},
    "actions": [
        {
            "target": "$.components.schemas.ChatCompletionRequest.properties.model",
            "update": {
                "pattern": f"^(vlmrun-orion-[0-9]+(:[a-z0-9][a-z0-9._-]*)?|{TEAM_MODEL})$",
                "default": TEAM_MODEL,
            },
        }
    ],
}


@pytest.fixture
def overlaid(tmp_path: Path) -> Iterator[TestClient]:
    """An app created while the overlay is in use (as the plugin and `harness serve` make it)."""
    path = tmp_path / "ours.yaml"
    path.write_text(yaml.safe_dump(TEAM_MODELS))
    use_description(DescriptionChoice(overlays=(path,)))
    try:
        with TestClient(create_app(config=ServerConfig(api_key=KEY))) as client:
            yield client
    finally:
        use_description(DescriptionChoice())


def test_a_model_an_overlay_allows_is_answered(overlaid: TestClient) -> None:
    response = overlaid.post(COMPLETIONS, headers=AUTH, json={"model": TEAM_MODEL, "messages": HELLO})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == TEAM_MODEL
    assert load_contract().violations("ChatCompletion", response.json()) == []


def test_the_overlays_default_model_is_the_one_answered(overlaid: TestClient) -> None:
    response = overlaid.post(COMPLETIONS, headers=AUTH, json={"messages": HELLO})
    assert response.json()["model"] == TEAM_MODEL


def test_without_the_overlay_that_model_is_refused(tmp_path: Path) -> None:
    with TestClient(create_app(config=ServerConfig(api_key=KEY))) as client:
        response = client.post(COMPLETIONS, headers=AUTH, json={"model": TEAM_MODEL, "messages": HELLO})
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "model"]]


@pytest.fixture
def team(tmp_path: Path) -> TestClient:
    revision = tmp_path / "skills" / "purchase-orders" / "20260110-c0ffee01"
    revision.mkdir(parents=True)
    (revision / "SKILL.md").write_text("---\nname: purchase-orders\ndescription: Reads purchase orders\n---\n# PO\n")
    (revision / "schema.json").write_text('{"type": "object", "properties": {"po_number": {"type": "string"}}}')
    return TestClient(create_app(config=ServerConfig(api_key=KEY), registry=Registry.seeded(tmp_path / "skills")))


def test_a_team_skill_is_resolved_and_answers_with_its_schema(team: TestClient) -> None:
    body = {"messages": HELLO, "skills": [{"skill_name": "purchase-orders"}]}
    response = team.post(COMPLETIONS, headers=AUTH, json=body)
    assert response.status_code == 200, response.text
    assert response.headers[RESOLVED_HEADER] == "purchase-orders@20260110-c0ffee01"
    content = yaml.safe_load(response.json()["choices"][0]["message"]["content"])
    assert list(content) == ["po_number"]


def test_the_seeded_skills_are_still_served_beside_it(team: TestClient) -> None:
    listed = team.get("/v1/skills", headers=AUTH, params={"grouped": "true", "order_by": "name", "descending": "false"})
    assert [s["name"] for s in listed.json()] == [
        "invoice-extraction",
        "line-item-validation",
        "patient-referral",
        "purchase-orders",
    ]
