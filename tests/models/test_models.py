"""The models' shape equals the description's, its examples pass, and its refusals hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from harness.models import COMPONENTS, ChatCompletionRequest, JSONSchemaResponseFormat, ToolCallFunction
from harness.models.request import MODEL_PATTERN
from tests.models.support import (
    CONTRACT,
    SCHEMA_NAMES,
    SCHEMAS,
    description_accepts,
    model_accepts,
    to_model,
)

# Objects the description spells inline inside a component, each with its own model.
_NESTED: dict[str, tuple[type[BaseModel], dict[str, Any]]] = {
    "ToolCall.function": (ToolCallFunction, SCHEMAS["ToolCall"]["properties"]["function"]),
}


def _object_models() -> dict[str, tuple[type[BaseModel], dict[str, Any]]]:
    pairs = {n: (m, SCHEMAS[n]) for n, m in COMPONENTS.items() if isinstance(m, type) and issubclass(m, BaseModel)}
    return {**pairs, **_NESTED}


OBJECT_MODELS = _object_models()


def test_every_schema_a_request_is_made_of_has_a_model_and_nothing_else_does() -> None:
    """Responses are not modelled: nothing reads them through a model (a second source of truth)."""
    assert set(COMPONENTS) == set(SCHEMA_NAMES)


@pytest.mark.parametrize("where", sorted(OBJECT_MODELS))
def test_model_fields_are_the_schema_properties(where: str) -> None:
    model, schema = OBJECT_MODELS[where]
    fields = {(f.alias or n): f for n, f in model.model_fields.items()}
    assert set(fields) == set(schema.get("properties", {}))
    assert {k for k, f in fields.items() if f.is_required()} == set(schema.get("required", []))
    closed = schema.get("additionalProperties") is False
    assert model.model_config.get("extra") == ("forbid" if closed else "allow")
    assert model.model_config.get("strict") is True


@pytest.mark.parametrize("where", sorted(OBJECT_MODELS))
def test_model_defaults_are_the_schema_defaults(where: str) -> None:
    model, schema = OBJECT_MODELS[where]
    fields = {(f.alias or n): f for n, f in model.model_fields.items()}
    for key, prop in schema.get("properties", {}).items():
        if fields[key].is_required():
            continue
        assert fields[key].default == prop.get("default"), key


def _request_examples() -> list[tuple[str, str, Any]]:
    found = []
    for path, item in CONTRACT.document["paths"].items():
        for method, operation in item.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                name = media["schema"]["$ref"].rsplit("/", 1)[1]
                for key, example in media.get("examples", {}).items():
                    found.append((f"{method.upper()} {path} {key}", name, example["value"]))
    return found


REQUEST_EXAMPLES = _request_examples()


def test_the_description_has_request_examples() -> None:
    assert len(REQUEST_EXAMPLES) >= 8


@pytest.mark.parametrize(("name", "value"), [e[1:] for e in REQUEST_EXAMPLES], ids=[e[0] for e in REQUEST_EXAMPLES])
def test_every_request_example_validates_through_the_model(name: str, value: Any) -> None:
    dumped = to_model(name, value).to_wire()
    assert dumped == value
    assert CONTRACT.is_valid(name, dumped)


def _req(**extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "hi"}], **extra}


def _skill(skill: Any) -> dict[str, Any]:
    return _req(skills=[skill])


_ZIP = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="  # an empty zip, valid base64
_INLINE = {"type": "inline", "source": {"data": _ZIP}}

INVALID: dict[str, tuple[str, Any]] = {
    "stream 0": ("ChatCompletionRequest", _req(stream=0)),
    "stream 'true'": ("ChatCompletionRequest", _req(stream="true")),
    "stream null": ("ChatCompletionRequest", _req(stream=None)),
    "max_tokens '1'": ("ChatCompletionRequest", _req(max_tokens="1")),
    "max_tokens true": ("ChatCompletionRequest", _req(max_tokens=True)),
    "max_tokens 1.5": ("ChatCompletionRequest", _req(max_tokens=1.5)),
    "max_tokens 0": ("ChatCompletionRequest", _req(max_tokens=0)),
    "n 0": ("ChatCompletionRequest", _req(n=0)),
    "temperature 3": ("ChatCompletionRequest", _req(temperature=3)),
    "temperature '0.5'": ("ChatCompletionRequest", _req(temperature="0.5")),
    "top_p 1.5": ("ChatCompletionRequest", _req(top_p=1.5)),
    "model unknown": ("ChatCompletionRequest", _req(model="gpt-4o")),
    "model variant empty": ("ChatCompletionRequest", _req(model="vlmrun-orion-1:")),
    "model variant upper case": ("ChatCompletionRequest", _req(model="vlmrun-orion-1:Pro")),
    "model with a trailing newline": ("ChatCompletionRequest", _req(model="vlmrun-orion-1\n")),
    "model null": ("ChatCompletionRequest", _req(model=None)),
    "toolset unknown": ("ChatCompletionRequest", _req(toolsets=["core", "email"])),
    "metadata a string": ("ChatCompletionRequest", _req(metadata="x")),
    "no messages": ("ChatCompletionRequest", {"skills": [{"skill_name": "x"}]}),
    "empty messages": ("ChatCompletionRequest", {"messages": []}),
    "messages an object": ("ChatCompletionRequest", {"messages": {"role": "user", "content": "hi"}}),
    "role unknown": ("ChatCompletionRequest", {"messages": [{"role": "robot", "content": "hi"}]}),
    "content a number": ("ChatCompletionRequest", {"messages": [{"role": "user", "content": 1}]}),
    "part type unknown": ("Message", {"role": "user", "content": [{"type": "image", "image": "x"}]}),
    "url without scheme": ("ImageUrlPart", {"type": "image_url", "image_url": {"url": "example.com/a.png"}}),
    "url with a space": ("FileUrlPart", {"type": "file_url", "file_url": {"url": "https://exa mple.com/a.pdf"}}),
    "detail unknown": ("MediaUrl", {"url": "https://example.com/a.png", "detail": "medium"}),
    "detail null": ("MediaUrl", {"url": "https://example.com/a.png", "detail": None}),
    "input_file without file": ("InputFilePart", {"type": "input_file"}),
    "json_schema without schema": ("ChatCompletionRequest", _req(response_format={"type": "json_schema"})),
    "response_format type unknown": ("ChatCompletionRequest", _req(response_format={"type": "xml"})),
    "skills an object": ("ChatCompletionRequest", _req(skills={"skill_name": "x"})),
    "skill a string": ("ChatCompletionRequest", _skill("invoice-extraction")),
    "skill unknown key": ("ChatCompletionRequest", _skill({"skill_name": "x", "skil_version": "v1"})),
    "skill neither id nor name": ("ChatCompletionRequest", _skill({"skill_version": "latest"})),
    "skill empty": ("ChatCompletionRequest", _skill({})),
    "skill id and name null": ("ChatCompletionRequest", _skill({"skill_id": None, "skill_name": None})),
    "skill_name empty": ("ChatCompletionRequest", _skill({"skill_name": ""})),
    "skill_version empty": ("ChatCompletionRequest", _skill({"skill_name": "x", "skill_version": ""})),
    "skill_name a number": ("ChatCompletionRequest", _skill({"skill_name": 7})),
    "type inlne": ("ChatCompletionRequest", _skill({**_INLINE, "type": "inlne"})),
    "type null": ("ChatCompletionRequest", _skill({"type": None, "skill_name": "x"})),
    "reference with a name": ("ChatCompletionRequest", _skill({"skill_name": "x", "name": "x"})),
    "reference with a source": ("ChatCompletionRequest", _skill({"skill_name": "x", "source": {"data": _ZIP}})),
    "inline with skill_name": ("ChatCompletionRequest", _skill({**_INLINE, "skill_name": "x"})),
    "inline with skill_id": ("ChatCompletionRequest", _skill({**_INLINE, "skill_id": "x"})),
    "inline with a numeric version": ("ChatCompletionRequest", _skill({**_INLINE, "version": 1})),
    "inline without payload": ("ChatCompletionRequest", _skill({"type": "inline", "name": "x"})),
    "inline with null payloads": ("ChatCompletionRequest", _skill({"type": "inline", "source": None, "bundle": None})),
    "inline unknown key": ("InlineSkill", {**_INLINE, "files": []}),
    "source without data": ("InlineSkill", {"type": "inline", "source": {"type": "base64"}}),
    "source media_type tar": ("InlineSkillSource", {"data": _ZIP, "media_type": "application/x-tar"}),
    "source type base32": ("InlineSkillSource", {"data": _ZIP, "type": "base32"}),
    "source unknown key": ("InlineSkillSource", {"data": _ZIP, "encoding": "base64"}),
    "source data a number": ("InlineSkillSource", {"data": 1}),
    "source data empty": ("InlineSkillSource", {"data": ""}),
    "lookup without id or name": ("SkillLookupRequest", {"skill_version": "latest"}),
    "lookup name empty": ("SkillLookupRequest", {"name": ""}),
}


@pytest.mark.parametrize(("name", "body"), list(INVALID.values()), ids=list(INVALID))
def test_the_description_and_the_model_refuse(name: str, body: Any) -> None:
    assert not CONTRACT.is_valid(name, body)
    assert not model_accepts(name, body)


BAD_BASE64 = {
    "not base64": "not base64!",
    "missing padding": "UEsFBg",
    "line break": "UEsFBgAAAAAAAAAAAAAAAAAA\nAAAAAA==",
    "trailing newline": _ZIP + "\n",
    "urlsafe alphabet": "UEsFBg-_",
    "data after padding": "UQ==UQ==",
}


@pytest.mark.parametrize("data", list(BAD_BASE64.values()), ids=list(BAD_BASE64))
@pytest.mark.parametrize("where", ["source.data", "bundle"])
def test_bad_base64_is_refused(where: str, data: str) -> None:
    """`harness.contract` does not check `format: byte` (jsonschema-rs skips unknown formats)."""
    skill = (
        {"type": "inline", "source": {"data": data}} if where == "source.data" else {"type": "inline", "bundle": data}
    )
    assert not description_accepts("InlineSkill", skill)
    assert not model_accepts("InlineSkill", skill)
    assert not model_accepts("ChatCompletionRequest", _skill(skill))


@pytest.mark.parametrize("model", ["vlmrun-orion-3:fast", "vlmrun-orion-2:opus-5", "vlmrun-orion-12"])
def test_a_model_id_the_api_may_add_later_is_accepted(model: str) -> None:
    """`model` is an open set of ids of one form, not a list: a new one passes both."""
    assert CONTRACT.is_valid("ChatCompletionRequest", _req(model=model))
    assert ChatCompletionRequest.model_validate(_req(model=model)).model == model


def test_a_model_id_of_another_form_is_refused_naming_the_pattern() -> None:
    with pytest.raises(ValidationError) as caught:
        ChatCompletionRequest.model_validate(_req(model="gpt-4o"))
    assert [(e["loc"], e["type"], e["msg"]) for e in caught.value.errors()] == [
        (("model",), "string_pattern_mismatch", f"String should match pattern '{MODEL_PATTERN}'")
    ]


def test_the_model_pattern_is_the_descriptions() -> None:
    assert SCHEMAS["ChatCompletionRequest"]["properties"]["model"]["pattern"] == MODEL_PATTERN


def test_integral_floats_are_integers_as_in_json_schema() -> None:
    body = _req(max_tokens=2048.0, n=1.0)
    assert CONTRACT.is_valid("ChatCompletionRequest", body)
    request = ChatCompletionRequest.model_validate(body)
    assert (request.max_tokens, request.n) == (2048, 1)
    assert isinstance(request.max_tokens, int)


def test_absent_and_null_dump_differently() -> None:
    absent = ChatCompletionRequest.model_validate(_req())
    null = ChatCompletionRequest.model_validate(_req(n=None, skills=None))
    assert absent.n == 1  # the description's default, read but not dumped
    assert absent.to_wire() == _req()
    assert null.to_wire() == _req(n=None, skills=None)


def test_response_format_schema_keeps_its_wire_name() -> None:
    body = _req(response_format={"type": "json_schema", "schema": {"type": "object"}, "name": "Invoice"})
    request = ChatCompletionRequest.model_validate(body)
    assert request.to_wire() == body
    assert isinstance(request.response_format, JSONSchemaResponseFormat)
    assert request.response_format.schema_ == {"type": "object"}


def test_unknown_keys_are_kept_where_the_description_is_open() -> None:
    body = _req(user="u-1", stream_options={"include_usage": True})
    assert CONTRACT.is_valid("ChatCompletionRequest", body)
    assert ChatCompletionRequest.model_validate(body).to_wire() == body


def test_numbers_keep_their_json_spelling() -> None:
    body = _req(temperature=1, top_p=0.5)
    dumped = ChatCompletionRequest.model_validate(body).to_wire()
    assert json.dumps(dumped) == json.dumps(body)
