"""The create and update bodies' own rules, as the models word them (the description says the same)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from harness.models import SkillCreateRequest, SkillUpdateRequest
from tests.models.support import description_accepts

ZIP = {"data": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}  # an empty zip: base64 is all the model checks


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "Extract totals.", "json_schema": {"type": "object"}},
        {"file_id": "file-1", "name": "n", "description": "d"},
        {"session_id": "s", "file_id": None, "prompt": None, "source": None},
        {"source": ZIP, "is_public": True},
    ],
)
def test_one_source_is_a_body(body: dict[str, Any]) -> None:
    assert SkillCreateRequest.model_validate(body).to_wire() == body
    assert description_accepts("SkillCreateRequest", body)


@pytest.mark.parametrize(
    "body",
    [{}, {"prompt": "a", "source": ZIP}, {"file_id": "file-1", "name": "n"}, {"is_public": None, "prompt": "a"}],
    ids=["none", "two", "file_id_without_description", "null_is_public"],
)
def test_other_bodies_are_refused_both_ways(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SkillCreateRequest.model_validate(body)
    assert not description_accepts("SkillCreateRequest", body)


def test_the_refusal_says_what_to_send() -> None:
    with pytest.raises(ValidationError) as caught:
        SkillCreateRequest.model_validate({"prompt": "a", "session_id": "b"})
    assert [e["msg"] for e in caught.value.errors()] == [
        "Value error, Provide exactly one of 'file_id' (with 'name' and 'description'), 'prompt', 'session_id' "
        "or 'source'"
    ]
    with pytest.raises(ValidationError) as caught:
        SkillUpdateRequest.model_validate({"file_id": "file-1", "source": ZIP})
    assert [e["msg"] for e in caught.value.errors()] == ["Value error, Provide 'file_id' or 'source', not both"]


@pytest.mark.parametrize("body", [{}, {"description": "v2"}, {"file_id": "file-1"}, {"source": ZIP, "file_id": None}])
def test_an_update_may_bring_a_zip_or_not(body: dict[str, Any]) -> None:
    assert SkillUpdateRequest.model_validate(body).to_wire() == body
    assert description_accepts("SkillUpdateRequest", body)
