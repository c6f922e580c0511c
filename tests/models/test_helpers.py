"""The helpers that resolve what a body means: effective version and data, stream events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from harness.models import (
    DONE,
    AgentSkill,
    ChatCompletionChunk,
    ChatCompletionEvent,
    InlineSkill,
    SkillReference,
)
from tests.models.support import CONTRACT

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
    assert reference.effective_version == expected


def test_skill_id_wins_over_skill_name() -> None:
    assert SkillReference.model_validate({"skill_name": "by-name", "skill_id": "by-id"}).identifier == "by-id"
    assert SkillReference.model_validate({"skill_name": "by-name", "skill_id": None}).identifier == "by-name"


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
    assert InlineSkill.model_validate(skill).effective_data == expected


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


_CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "vlmrun-orion-1:auto",
    "session_id": "s",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": None}],
}


def test_event_data_parses_to_a_chunk() -> None:
    event = ChatCompletionEvent.model_validate({"data": json.dumps(_CHUNK)})
    assert not event.is_done
    chunk = event.parse()
    assert isinstance(chunk, ChatCompletionChunk)
    assert chunk.to_wire() == _CHUNK
    assert CONTRACT.is_valid("ChatCompletionChunk", chunk.to_wire())


def test_event_done_sentinel() -> None:
    event = ChatCompletionEvent.model_validate({"data": "[DONE]"})
    assert event.is_done
    assert event.parse() == DONE


@pytest.mark.parametrize("data", ["not json", json.dumps({**_CHUNK, "object": "chat.completion"}), "[DONE] "])
def test_event_data_that_is_neither_fails_to_parse(data: str) -> None:
    with pytest.raises(ValidationError):
        ChatCompletionEvent.model_validate({"data": data}).parse()
