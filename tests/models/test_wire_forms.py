"""The wire forms real clients send (vlmrun dict form, openai>=2.17 object form, Node `toJSON()`,
explicit nulls, legacy keys) pass both the description and the models, and the models dump
them back unchanged."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import openai
import pytest
from vlmrun.client.agent import _patch_create
from vlmrun.client.types import AgentSkill as SdkSkill
from vlmrun.client.types import InlineSkillSource as SdkSource

from harness.docs_examples import MODEL, PINNED_VERSION, WIRE_FORMS, seed_examples
from harness.models import ChatCompletionRequest, InlineSkill, SkillReference
from tests.models.support import CONTRACT, description_accepts

MESSAGES = [{"role": "user", "content": "Extract data from this document."}]
DATA = "UEsDBBQAAAAIA" + "A" * 15  # a base64 prefix like the docs' "UEsDB…", padded to a valid length

# Verbatim shapes as the clients send them: vlmrun's dict form and the openai>=2.17 object form of
# the docs examples, the Node SDK's toJSON(), `model_dump()` with explicit nulls, and legacy keys.
LITERAL_FORMS: dict[str, dict[str, Any]] = {
    "a dict": {"type": "skill_reference", "skill_name": "invoice-extraction", "skill_version": "latest"},
    "a object": {"skill_name": "invoice-extraction"},
    "b dict": {"type": "skill_reference", "skill_id": "pillow", "skill_version": "latest"},
    "b object": {"skill_id": "pillow"},
    "c dict": {
        "type": "inline",
        "skill_version": "latest",
        "name": "invoice-extraction",
        "description": "Extract structured data from invoices",
        "source": {"type": "base64", "media_type": "application/zip", "data": DATA},
    },
    "c object": {"type": "inline", "name": "n", "description": "d", "source": {"data": DATA}},
    "d dict": {"type": "skill_reference", "skill_name": "patient-referral", "skill_version": PINNED_VERSION},
    "d object": {"skill_name": "patient-referral", "skill_version": PINNED_VERSION},
    "cli skill-id": {"type": "skill_reference", "skill_id": "my-skill", "skill_version": "3"},
    "explicit nulls": {
        "type": "skill_reference",
        "skill_id": None,
        "skill_name": "invoice-extraction",
        "skill_version": "latest",
        "name": None,
        "description": None,
        "source": None,
        "bundle": None,
    },
    "legacy version": {"skill_name": "patient-referral", "version": PINNED_VERSION},
    "legacy bundle": {"type": "inline", "bundle": DATA},
    "node reference": {"type": "skill_reference", "skill_name": "invoice-extraction", "skill_version": "latest"},
    "node inline": {
        "type": "inline",
        "name": "n",
        "description": "d",
        "source": {"type": "base64", "media_type": "application/zip", "data": DATA},
    },
}


def _check(skill: Any) -> None:
    body = {"model": MODEL, "messages": MESSAGES, "skills": [skill]}
    assert CONTRACT.is_valid("ChatCompletionRequest", body), CONTRACT.violations("ChatCompletionRequest", body)
    assert description_accepts("ChatCompletionRequest", body)
    request = ChatCompletionRequest.model_validate(body)
    assert request.to_wire() == body
    assert request.skills is not None
    kind = InlineSkill if skill.get("type") == "inline" else SkillReference
    assert isinstance(request.skills[0], kind)


@pytest.mark.parametrize("skill", list(LITERAL_FORMS.values()), ids=list(LITERAL_FORMS))
def test_literal_wire_forms(skill: dict[str, Any]) -> None:
    _check(skill)


def test_legacy_version_is_the_effective_version() -> None:
    request = ChatCompletionRequest.model_validate({"messages": MESSAGES, "skills": [LITERAL_FORMS["legacy version"]]})
    assert request.skills is not None
    reference = request.skills[0]
    assert isinstance(reference, SkillReference)
    assert reference.effective_version == PINNED_VERSION


@pytest.mark.parametrize("form", sorted(WIRE_FORMS))
@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_harness_wire_forms_of_the_seed_examples(form: str, example: Any) -> None:
    body = {"model": MODEL, "messages": example.messages, "skills": [WIRE_FORMS[form](s) for s in example.skills]}
    assert CONTRACT.is_valid("ChatCompletionRequest", body)
    assert ChatCompletionRequest.model_validate(body).to_wire() == body


def _sdk_skill(kwargs: dict[str, Any]) -> Any:
    if "source" in kwargs:
        kwargs = {**kwargs, "source": SdkSource(**kwargs["source"])}
    return SdkSkill(**kwargs)


SDK_DUMPS = {
    "exclude_none": lambda s: s.model_dump(exclude_none=True),
    "model_dump": lambda s: s.model_dump(),
    "openai>=2.17": lambda s: s.model_dump(exclude_unset=True, mode="json", by_alias=True),
}
SDK_SEEDS = [(e.name, s) for e in seed_examples() for s in e.skills]


@pytest.mark.parametrize("dump", sorted(SDK_DUMPS))
@pytest.mark.parametrize("kwargs", [s for _, s in SDK_SEEDS], ids=[n for n, _ in SDK_SEEDS])
def test_vlmrun_sdk_dumps(dump: str, kwargs: dict[str, Any]) -> None:
    _check(SDK_DUMPS[dump](_sdk_skill(kwargs)))


@pytest.mark.parametrize("dump", sorted(SDK_DUMPS))
def test_vlmrun_sdk_from_directory(tmp_path: Path, dump: str) -> None:
    (tmp_path / "SKILL.md").write_text("---\nname: invoice-extraction\ndescription: Invoices\n---\n# Invoices\n")
    (tmp_path / "schema.json").write_text('{"type": "object"}')
    _check(SDK_DUMPS[dump](SdkSkill.from_directory(tmp_path)))


_COMPLETION = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": None,
    "session_id": "s1",
}


def _sent_by_openai(skills: list[Any]) -> dict[str, Any]:
    """The body openai-python puts on the wire for `completions.create(skills=...)` as vlmrun wraps it."""
    major = int(openai.__version__.split(".", 1)[0])
    hx: Any = importlib.import_module("httpx2" if major >= 3 else "httpx")
    sent: list[dict[str, Any]] = []

    def handler(request: Any) -> Any:
        sent.append(json.loads(request.content))
        return hx.Response(200, json=_COMPLETION)

    http_client = hx.Client(transport=hx.MockTransport(handler))
    client = openai.OpenAI(api_key="test", base_url="http://vlm.test/v1/openai", max_retries=0, http_client=http_client)
    create = _patch_create(client.chat.completions.create)
    create(model=MODEL, messages=MESSAGES, skills=skills)
    return sent[0]


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_what_openai_sends_for_sdk_objects(example: Any) -> None:
    body = _sent_by_openai([_sdk_skill(s) for s in example.skills])
    assert CONTRACT.is_valid("ChatCompletionRequest", body), CONTRACT.violations("ChatCompletionRequest", body)
    assert ChatCompletionRequest.model_validate(body).to_wire() == body
    assert body["skills"] == [SDK_DUMPS["openai>=2.17"](_sdk_skill(s)) for s in example.skills]
