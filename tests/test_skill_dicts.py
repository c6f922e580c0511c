"""`to_wire_dicts`: any vlmrun version's AgentSkill (or a dict) as the dict form the API accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, Field, model_validator
from vlmrun.client.types import AgentSkill, InlineSkillSource

from harness.canonical import canonicalize
from harness.contract import load_contract
from harness.docs_examples import PINNED_VERSION, dict_form, inline_bundle, seed_examples
from harness.skill_dicts import to_wire_dict, to_wire_dicts

DATA = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="


class Source(BaseModel):
    type: str = "base64"
    media_type: str = "application/zip"
    data: str


class SkillV092(BaseModel):
    """vlmrun 0.9.2's shape: `skill_version` (default latest), `version` folded and excluded."""

    type: str = "skill_reference"
    skill_id: str | None = None
    skill_name: str | None = None
    skill_version: str | None = "latest"
    version: str | None = Field(default=None, exclude=True)
    name: str | None = None
    description: str | None = None
    source: Source | None = None
    bundle: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _fold(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("version") and not values.get("skill_version"):
            values["skill_version"] = values["version"]
        return values


class SkillV058(BaseModel):
    """vlmrun 0.5.8's shape: only `version` (default latest), always dumped."""

    type: str = "skill_reference"
    skill_id: str | None = None
    skill_name: str | None = None
    version: str | None = "latest"
    name: str | None = None
    description: str | None = None
    source: Source | None = None
    bundle: str | None = None


class SkillBoth(BaseModel):
    """A shape with both fields dumped and nothing folded (what `skill_version wins` is for)."""

    skill_name: str
    skill_version: str | None = "latest"
    version: str | None = None


def _validate(skills: list[dict[str, Any]]) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "skills": skills}
    assert load_contract().violations("ChatCompletionRequest", body) == []


@pytest.mark.parametrize("model", [SkillV092, SkillV058, AgentSkill], ids=["v0.9.2-like", "v0.5.8-like", "real"])
@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_every_shape_gives_the_vlmrun_dict_form(model: Any, example: Any) -> None:
    source_model = InlineSkillSource if model is AgentSkill else Source
    objects = [model(**{**s, "source": source_model(**s["source"])} if "source" in s else s) for s in example.skills]
    wire = to_wire_dicts(objects)
    assert wire == [dict_form(s) for s in example.skills]
    assert json.loads(json.dumps(wire)) == wire  # plain JSON: no objects left for openai<2.17 to choke on
    _validate(wire)


def test_key_order_is_the_vlmrun_dict_form() -> None:
    inline = {"type": "inline", "name": "n", "description": "d", "source": {"data": DATA}}
    assert list(to_wire_dict(inline)) == list(dict_form(inline))
    assert list(to_wire_dict(SkillV058(skill_id="pillow"))) == ["type", "skill_id", "skill_version"]


def test_skill_version_wins_over_the_deprecated_version() -> None:
    assert to_wire_dict(SkillBoth(skill_name="x", skill_version="v2", version="v1"))["skill_version"] == "v2"
    assert to_wire_dict({"skill_name": "x", "version": "v1"}) == {
        "type": "skill_reference",
        "skill_name": "x",
        "skill_version": "v1",
    }
    assert to_wire_dict(SkillV058(skill_name="x", version=PINNED_VERSION))["skill_version"] == PINNED_VERSION
    assert "version" not in to_wire_dict(SkillBoth(skill_name="x", version="v1"))


def test_bundle_is_folded_into_source_data_which_wins() -> None:
    legacy = to_wire_dict({"type": "inline", "name": "n", "description": "d", "bundle": DATA})
    assert legacy["source"] == {"type": "base64", "media_type": "application/zip", "data": DATA}
    assert "bundle" not in legacy
    both = to_wire_dict(SkillV092(type="inline", name="n", source=Source(data=DATA), bundle="other"))
    assert both["source"]["data"] == DATA
    assert "bundle" not in both
    _validate([legacy, both])


def test_nulls_are_dropped_and_mixed_inputs_work() -> None:
    null_form = {"type": "skill_reference", "skill_id": None, "skill_name": "x", "source": None, "bundle": None}
    wire = to_wire_dicts([null_form, AgentSkill(skill_id="pillow"), {"skill_name": "y", "skill_version": None}])
    assert wire == [
        {"type": "skill_reference", "skill_name": "x", "skill_version": "latest"},
        {"type": "skill_reference", "skill_id": "pillow", "skill_version": "latest"},
        {"type": "skill_reference", "skill_name": "y", "skill_version": "latest"},
    ]


def test_the_real_sdk_object_form_canonicalizes_like_the_dict_form() -> None:
    skill = AgentSkill(type="inline", name="invoice", description="d", source=InlineSkillSource(data=inline_bundle()))
    body = {"messages": [{"role": "user", "content": "hi"}]}
    helper = canonicalize({**body, "skills": to_wire_dicts([skill])})
    sdk = canonicalize({**body, "skills": [skill.model_dump(exclude_none=True)]})
    assert helper.key == sdk.key


def test_unknown_keys_are_kept_for_the_api_to_judge() -> None:
    assert to_wire_dict({"skill_name": "x", "skil_version": "1"})["skil_version"] == "1"


def test_anything_else_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="mapping or a pydantic model, got str"):
        to_wire_dicts(["invoice-extraction"])
