"""What a typed skill means (version, bundle and where it sits) is `harness.wire`'s answer."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from harness import wire
from harness.models import AgentSkill, ChatCompletionRequest, InlineSkill, SkillLookupRequest, SkillReference

_ZIP = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="
_OTHER = "UEsDBAo="
SKILLS: TypeAdapter[SkillReference | InlineSkill] = TypeAdapter(AgentSkill)


@pytest.mark.parametrize(
    ("skill", "expected"),
    [
        ({"skill_name": "x"}, "latest"),
        ({"skill_name": "x", "skill_version": "v2"}, "v2"),
        ({"skill_name": "x", "version": "v1"}, "v1"),
        ({"skill_name": "x", "skill_version": "v2", "version": "v1"}, "v2"),
        ({"skill_name": "x", "skill_version": None, "version": "v1"}, "v1"),
        ({"skill_name": "x", "skill_version": None}, "latest"),
        ({"skill_name": "x", "skill_version": "latest", "version": "v1"}, "latest"),
        ({"skill_id": "x", "version": None}, "latest"),
    ],
)
def test_effective_version(skill: dict[str, Any], expected: str) -> None:
    reference = SkillReference.model_validate(skill)
    assert reference.effective_version == expected == wire.effective_version(skill)


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        ({"name": "x"}, "latest"),
        ({"name": "x", "version": "v1"}, "v1"),
        ({"name": "x", "skill_version": "v2", "version": "v1"}, "v2"),
        ({"id": "x", "skill_version": None, "version": "v1"}, "v1"),
    ],
)
def test_lookup_effective_version(lookup: dict[str, Any], expected: str) -> None:
    assert SkillLookupRequest.model_validate(lookup).effective_version == expected == wire.effective_version(lookup)


@pytest.mark.parametrize(
    ("skill", "expected"),
    [
        ({"type": "inline", "source": {"data": _ZIP}}, _ZIP),
        ({"type": "inline", "bundle": _ZIP}, _ZIP),
        ({"type": "inline", "source": {"data": _ZIP}, "bundle": _OTHER}, _ZIP),
        ({"type": "inline", "source": None, "bundle": _OTHER}, _OTHER),
        ({"type": "inline", "source": {"data": _ZIP}, "bundle": None}, _ZIP),
    ],
)
def test_effective_data(skill: dict[str, Any], expected: str) -> None:
    inline = InlineSkill.model_validate(skill)
    assert inline.effective_data == expected == wire.effective_bundle(skill)
    assert inline.data_path == wire.effective_bundle_path(skill)


@pytest.mark.parametrize(
    ("skill", "kind"),
    [
        ({"skill_name": "x"}, SkillReference),
        ({"type": "skill_reference", "skill_id": "x"}, SkillReference),
        ({"type": "inline", "bundle": _ZIP}, InlineSkill),
    ],
)
def test_agent_skill_is_picked_by_type(skill: dict[str, Any], kind: type[object]) -> None:
    assert isinstance(SKILLS.validate_python(skill), kind)


def test_a_misspelt_type_fails_on_type_not_on_shape() -> None:
    with pytest.raises(ValidationError) as caught:
        SKILLS.validate_python({"type": "inlne", "source": {"data": _ZIP}})
    locs = {err["loc"][1:2] for err in caught.value.errors()}
    assert ("type",) in locs


def test_anyof_rules_explain_themselves() -> None:
    with pytest.raises(ValidationError, match="needs 'skill_id' or 'skill_name'"):
        SkillReference.model_validate({"skill_version": "latest"})
    with pytest.raises(ValidationError, match="needs 'source'"):
        InlineSkill.model_validate({"type": "inline", "name": "x"})


def test_inline_defaults_are_read_but_not_sent() -> None:
    skill = InlineSkill.model_validate({"type": "inline", "source": {"data": _ZIP}})
    assert skill.source is not None
    assert (skill.source.type, skill.source.media_type) == ("base64", "application/zip")
    assert skill.to_wire() == {"type": "inline", "source": {"data": _ZIP}}


def test_a_body_the_description_accepted_skips_the_format_checks_it_already_made() -> None:
    """`from_accepted` is for bodies `harness.contract` has judged: base64 and URIs are not checked twice."""
    body = {
        "messages": [{"role": "user", "content": [{"type": "file_url", "file_url": {"url": "no scheme"}}]}],
        "skills": [{"type": "inline", "source": {"data": "not base64!"}}],
    }
    with pytest.raises(ValidationError):
        ChatCompletionRequest.model_validate(body)
    assert ChatCompletionRequest.from_accepted(body).to_wire() == body
    with pytest.raises(ValidationError):
        ChatCompletionRequest.from_accepted({**body, "stream": "yes"})  # types are still checked


WIDER = {
    "model": "gpt-4o",  # not of the packaged description's form: a proxy's description may allow it
    "messages": [
        {"role": "critic", "content": [{"type": "image_url", "image_url": {"url": "https://x.test", "detail": "max"}}]}
    ],
    "max_tokens": 0,
    "n": 0,
    "temperature": 3,
    "top_p": 2,
    "toolsets": ["core", "audio"],
}


def test_the_models_refuse_values_outside_the_packaged_description() -> None:
    with pytest.raises(ValidationError) as caught:
        ChatCompletionRequest.model_validate(WIDER)
    assert sorted({".".join(map(str, e["loc"][:2])) for e in caught.value.errors()}) == [
        "max_tokens",
        "messages.0",
        "model",
        "n",
        "temperature",
        "toolsets.1",
        "top_p",
    ]


def test_a_body_a_wider_description_accepted_keeps_its_values() -> None:
    """An overlay may widen the model ids or add a role: the description in use judged them, the model holds them."""
    request = ChatCompletionRequest.from_accepted(WIDER)
    assert (request.model, request.messages[0].role, request.max_tokens) == ("gpt-4o", "critic", 0)
    assert request.toolsets == ["core", "audio"]
    assert request.to_wire() == WIDER


@pytest.mark.parametrize(
    "body",
    [
        {**WIDER, "stream": "yes"},  # a type
        {**WIDER, "n": "0"},
        {**WIDER, "messages": [{"role": "user", "content": [{"type": "audio", "audio": {}}]}]},  # a shape
        {**WIDER, "skills": [{"skill_name": "x", "skil_version": "latest"}]},
    ],
)
def test_types_and_shapes_are_still_the_models(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ChatCompletionRequest.from_accepted(body)
