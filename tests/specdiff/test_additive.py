"""Additive, compatible changes produce INFO at most; diff(x, x) is empty."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.specdiff._pairs import Doc, Mutation, breaking, mutated, prop, real, run, schema

_SILENT = {"description and summary text", "examples and info", "unused component"}


def _chat(doc: Doc) -> Doc:
    found: Doc = doc["paths"]["/v1/openai/chat/completions"]["post"]
    return found


ADDITIVE: dict[str, Mutation] = {
    "new optional request property": lambda d: schema(d, "ChatCompletionRequest")["properties"].update(
        user={"type": "string"}
    ),
    "new optional property in a closed skill schema": lambda d: schema(d, "SkillReference")["properties"].update(
        pin_policy={"type": ["string", "null"]}
    ),
    "new response property": lambda d: schema(d, "ChatCompletion")["properties"].update(
        service_tier={"type": "string"}
    ),
    "new required response property": lambda d: (
        schema(d, "Usage")["properties"].update(cached_tokens={"type": "integer"}),
        schema(d, "Usage")["required"].append("cached_tokens"),
    ),
    "new operation": lambda d: d["paths"].update(
        {"/v1/skills/{skill_id}/versions": {"get": {"responses": {"200": {"description": "ok"}}}}}
    ),
    "new optional query parameter": lambda d: d["paths"]["/v1/skills"]["get"]["parameters"].append(
        {"name": "tag", "in": "query", "schema": {"type": "string"}}
    ),
    "description and summary text": lambda d: (
        _chat(d).update(summary="Create a chat completion", description="Rewritten."),
        prop(d, "SkillReference", "skill_version").update(description="Rewritten."),
        schema(d, "ChatCompletion").update(description="Rewritten."),
    ),
    "new enum value in a request": lambda d: prop(d, "Message", "role")["enum"].append("critic"),
    "parameter enum replaced by a pattern every former value matches": lambda d: (
        d["paths"]["/v1/skills"]["get"]["parameters"][2]["schema"].pop("enum"),
        d["paths"]["/v1/skills"]["get"]["parameters"][2]["schema"].update(pattern="^[a-z_]+$"),
    ),
    "new toolset in a request": lambda d: prop(d, "ChatCompletionRequest", "toolsets")["items"]["enum"].append("audio"),
    "new non-success status": lambda d: _chat(d)["responses"].update(
        {"429": {"description": "Too many requests", "content": {"application/json": {"schema": {"type": "object"}}}}}
    ),
    "new oneOf branch in a request": lambda d: schema(d, "AgentSkill")["oneOf"].append(
        {
            "type": "object",
            "required": ["type", "url"],
            "properties": {"type": {"const": "url"}, "url": {"type": "string"}},
        }
    ),
    "request property became nullable": lambda d: prop(d, "ChatCompletionRequest", "stream").update(
        type=["boolean", "null"]
    ),
    "request property became optional": lambda d: schema(d, "InlineSkillSource").update(required=[]),
    "request bound widened": lambda d: prop(d, "ChatCompletionRequest", "temperature").update(maximum=3),
    "parameter minimum lowered": lambda d: d["paths"]["/v1/skills"]["get"]["parameters"][0]["schema"].update(minimum=0),
    "response enum value removed": lambda d: schema(d, "Choice")["properties"]["finish_reason"]["enum"].remove(
        "content_filter"
    ),
    "examples and info": lambda d: (
        d["info"].update(version="2026-12-01.0"),
        _chat(d)["requestBody"]["content"]["application/json"]["examples"].pop("streaming"),
    ),
    "unused component": lambda d: d["components"]["schemas"].update(Unused={"type": "object"}),
    "nullable source gets another branch": lambda d: prop(d, "InlineSkill", "source")["oneOf"].insert(
        1, {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}
    ),
}


@pytest.mark.parametrize("name", sorted(ADDITIVE))
def test_additive_change_is_not_breaking(name: str) -> None:
    changes = run(real(), mutated(ADDITIVE[name]))
    if name not in _SILENT:
        assert changes, "the mutation should be visible at INFO level"
    assert breaking(changes) == []


@pytest.mark.parametrize("name", sorted(_SILENT))
def test_documentation_only_changes_are_silent(name: str) -> None:
    assert run(real(), mutated(ADDITIVE[name])) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(sorted(ADDITIVE)), min_size=1))
def test_any_combination_of_additive_changes_is_not_breaking(names: set[str]) -> None:
    changes = run(real(), mutated(*(ADDITIVE[n] for n in sorted(names))))
    assert breaking(changes) == []


def test_the_real_description_against_itself_is_empty() -> None:
    doc = real()
    assert run(doc, doc) == []
    assert run(doc, real()) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(sorted(ADDITIVE))))
def test_any_variant_against_itself_is_empty(names: set[str]) -> None:
    doc = mutated(*(ADDITIVE[n] for n in sorted(names)))
    assert run(doc, doc) == []
