"""One pair per rule: the real description and one mutation; exactly the expected changes fire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.specdiff import RULES
from harness.specdiff import rules as rules_module
from tests.specdiff._pairs import CHAT, Doc, Mutation, facts, mutated, prop, real, run, schema

SKILLS = "GET /v1/skills"
LOOKUP = "POST /v1/skills/lookup"
GET_SKILL = "GET /v1/skills/{skill_id}"
UPDATE = "POST /v1/skills/{skill_id}/update"
POLL = "GET /v1/openai/chat/completions"  # pollChatCompletion: its 200 and 201 answer a ChatCompletion too
OK = "response 200 application/json"


@dataclass
class Case:
    rule: str
    level: str
    operation: str
    path: str
    new: Mutation
    old: Mutation = lambda doc: None
    also: set[tuple[str, str, str, str]] = field(default_factory=set)


def _set(*keys: str, value: Any) -> Mutation:
    def apply(doc: Doc) -> None:
        node = doc
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return apply


def _do(fn: Any) -> Mutation:
    return fn  # type: ignore[no-any-return]


def _polled(rule: str, level: str, json_path: str) -> set[tuple[str, str, str, str]]:
    """The same change where the poll answers the completion: a `ChatCompletion` change shows at each response."""
    return {(rule, level, POLL, f"response {status} application/json: {json_path}") for status in ("200", "201")}


def _add_required(doc: Doc, name: str, schema_name: str, default: Any = None) -> None:
    body = schema(doc, schema_name)
    body["properties"][name] = {"type": "string", **({"default": default} if default is not None else {})}
    body["required"] = [*body.get("required", []), name]


CASES = [
    Case(
        "new-required-request-property",
        "ERR",
        CHAT,
        "request body: tenant",
        _do(lambda d: _add_required(d, "tenant", "ChatCompletionRequest")),
    ),
    Case(
        "new-required-request-property-with-default",
        "ERR",
        CHAT,
        "request body: tenant",
        _do(lambda d: _add_required(d, "tenant", "ChatCompletionRequest", default="acme")),
    ),
    Case(
        "request-property-became-required",
        "ERR",
        CHAT,
        "request body: session_id",
        _do(lambda d: schema(d, "ChatCompletionRequest")["required"].append("session_id")),
    ),
    Case(
        "request-property-became-required-with-default",
        "ERR",
        CHAT,
        "request body: model",
        _do(lambda d: schema(d, "ChatCompletionRequest")["required"].append("model")),
    ),
    Case(
        "request-property-enum-value-removed",
        "ERR",
        CHAT,
        "request body: toolsets[*]",
        _do(lambda d: prop(d, "ChatCompletionRequest", "toolsets")["items"]["enum"].remove("viz")),
    ),
    Case(
        "request-body-enum-value-removed",
        "ERR",
        LOOKUP,
        "request body",
        _do(lambda d: _set("components", "schemas", "SkillLookupRequest", value={"type": "string", "enum": ["a"]})(d)),
        old=_do(
            lambda d: _set("components", "schemas", "SkillLookupRequest", value={"type": "string", "enum": ["a", "b"]})(
                d
            )
        ),
    ),
    Case(
        "request-property-type-changed",
        "ERR",
        CHAT,
        "request body: max_tokens",
        _set("components", "schemas", "ChatCompletionRequest", "properties", "max_tokens", "type", value="string"),
    ),
    Case(
        "request-property-max-length-decreased",
        "ERR",
        CHAT,
        "request body: skills[*].skill_name",
        _do(lambda d: prop(d, "SkillReference", "skill_name").update(maxLength=32)),
        old=_do(lambda d: prop(d, "SkillReference", "skill_name").update(maxLength=64)),
    ),
    Case(
        "request-property-max-length-set",
        "ERR",
        CHAT,
        "request body: skills[*].skill_name",
        _do(lambda d: prop(d, "SkillReference", "skill_name").update(maxLength=64)),
    ),
    Case(
        "request-property-pattern-added",
        "ERR",
        CHAT,
        "request body: skills[*].skill_version",
        _do(lambda d: prop(d, "SkillReference", "skill_version").update(pattern="^(latest|[0-9]{8}-[0-9a-f]+)$")),
    ),
    Case(
        "request-property-became-not-nullable",
        "ERR",
        CHAT,
        "request body: skills[*].skill_version",
        _do(lambda d: prop(d, "SkillReference", "skill_version").update(type="string")),
    ),
    Case(
        "request-property-one-of-removed",
        "ERR",
        CHAT,
        "request body: skills[*]",
        _do(lambda d: schema(d, "AgentSkill")["oneOf"].pop()),
    ),
    Case(
        "request-property-any-of-removed",
        "ERR",
        CHAT,
        "request body: skills[*]",
        _do(lambda d: schema(d, "SkillReference")["anyOf"].pop()),
    ),
    Case(
        "request-body-any-of-removed",
        "ERR",
        LOOKUP,
        "request body",
        _do(lambda d: schema(d, "SkillLookupRequest")["anyOf"].pop()),
    ),
    Case(
        "request-body-media-type-removed",
        "ERR",
        CHAT,
        "request body application/json",
        _do(
            lambda d: d["paths"]["/v1/openai/chat/completions"]["post"]["requestBody"].update(
                content={"application/x-ndjson": {"schema": {"type": "object"}}}
            )
        ),
        also={("request-body-media-type-added", "INFO", CHAT, "request body application/x-ndjson")},
    ),
    Case(
        "request-property-removed",
        "WARN",
        CHAT,
        "request body: preview",
        _do(lambda d: schema(d, "ChatCompletionRequest")["properties"].pop("preview")),
    ),
    Case(
        "request-property-default-value-changed",
        "WARN",
        CHAT,
        "request body: skills[*].skill_version",
        _do(lambda d: prop(d, "SkillReference", "skill_version").update(default="20260219-abc123")),
    ),
    Case(
        "request-property-const-changed",
        "ERR",
        CHAT,
        "request body: skills[*].type",
        _do(lambda d: prop(d, "SkillReference", "type").update(const="skill_ref", default="skill_ref")),
        also={("request-property-default-value-changed", "WARN", CHAT, "request body: skills[*].type")},
    ),
    Case(
        "request-property-discriminator-added",
        "INFO",
        CHAT,
        "request body: skills[*]",
        _do(lambda d: schema(d, "AgentSkill").update(discriminator={"propertyName": "type"})),
    ),
    Case(
        "request-property-became-enum",
        "ERR",
        CHAT,
        "request body: models[*]",
        _do(lambda d: prop(d, "ChatCompletionRequest", "models")["items"].update(enum=["a", "b"])),
    ),
    Case(
        "request-property-min-items-increased",
        "ERR",
        CHAT,
        "request body: messages",
        _do(lambda d: prop(d, "ChatCompletionRequest", "messages").update(minItems=2)),
    ),
    Case(
        "request-property-max-decreased",
        "ERR",
        CHAT,
        "request body: temperature",
        _do(lambda d: prop(d, "ChatCompletionRequest", "temperature").update(maximum=1)),
    ),
    Case(
        "request-body-additional-properties-disallowed",
        "ERR",
        CHAT,
        "request body",
        _do(lambda d: schema(d, "ChatCompletionRequest").update(additionalProperties=False)),
    ),
    Case(
        "response-required-property-removed",
        "ERR",
        CHAT,
        f"{OK}: session_id",
        _do(
            lambda d: (
                schema(d, "ChatCompletion")["properties"].pop("session_id"),
                schema(d, "ChatCompletion")["required"].remove("session_id"),
            )
        ),
        also=_polled("response-required-property-removed", "ERR", "session_id"),
    ),
    Case(
        "response-property-became-optional",
        "ERR",
        CHAT,
        f"{OK}: usage",
        _do(lambda d: schema(d, "ChatCompletion")["required"].remove("usage")),
        also=_polled("response-property-became-optional", "ERR", "usage"),
    ),
    Case(
        "response-property-became-nullable",
        "ERR",
        CHAT,
        f"{OK}: session_id",
        _do(lambda d: prop(d, "ChatCompletion", "session_id").update(type=["string", "null"])),
        also=_polled("response-property-became-nullable", "ERR", "session_id"),
    ),
    Case(
        "response-property-type-changed",
        "ERR",
        CHAT,
        f"{OK}: choices[*].index",
        _do(lambda d: schema(d, "Choice")["properties"]["index"].update(type="string")),
        also=_polled("response-property-type-changed", "ERR", "choices[*].index"),
    ),
    Case(
        "response-property-one-of-added",
        "ERR",
        CHAT,
        f"{OK}: usage",
        _do(lambda d: prop(d, "ChatCompletion", "usage")["oneOf"].append({"type": "string"})),
        also=_polled("response-property-one-of-added", "ERR", "usage"),
    ),
    Case(
        "response-body-one-of-added",
        "ERR",
        LOOKUP,
        OK,
        _do(
            lambda d: d["paths"]["/v1/skills/lookup"]["post"]["responses"]["200"]["content"]["application/json"].update(
                schema={
                    "oneOf": [{"$ref": "#/components/schemas/SkillInfo"}, {"$ref": "#/components/schemas/ErrorDetail"}]
                }
            )
        ),
    ),
    Case(
        "response-media-type-removed",
        "ERR",
        CHAT,
        "response 200 text/event-stream",
        _do(
            lambda d: d["paths"]["/v1/openai/chat/completions"]["post"]["responses"]["200"]["content"].pop(
                "text/event-stream"
            )
        ),
    ),
    Case(
        "response-success-status-removed",
        "ERR",
        "GET /v1/health",
        "response 200",
        _do(lambda d: d["paths"]["/v1/health"]["get"]["responses"].pop("200")),
    ),
    Case(
        "response-property-enum-value-added",
        "WARN",
        CHAT,
        f"{OK}: choices[*].finish_reason",
        _do(lambda d: schema(d, "Choice")["properties"]["finish_reason"]["enum"].insert(0, "function_call")),
        also=_polled("response-property-enum-value-added", "WARN", "choices[*].finish_reason"),
    ),
    Case(
        "response-optional-property-removed",
        "WARN",
        CHAT,
        f"{OK}: system_fingerprint",
        _do(lambda d: schema(d, "ChatCompletion")["properties"].pop("system_fingerprint")),
        also=_polled("response-optional-property-removed", "WARN", "system_fingerprint"),
    ),
    Case(
        "response-property-default-value-changed",
        "INFO",
        GET_SKILL,
        f"{OK}: is_public",
        _do(lambda d: prop(d, "SkillInfo", "is_public").update(default=True)),
        old=_do(lambda d: prop(d, "SkillInfo", "is_public").update(default=False)),
        also={
            ("response-property-default-value-changed", "INFO", LOOKUP, f"{OK}: is_public"),
            ("response-property-default-value-changed", "INFO", SKILLS, f"{OK}: [*].is_public"),
            ("response-property-default-value-changed", "INFO", UPDATE, f"{OK}: is_public"),
        },
    ),
    Case(
        "response-property-const-changed",
        "ERR",
        CHAT,
        f"{OK}: object",
        _do(lambda d: prop(d, "ChatCompletion", "object").update(const="chat.completion.v2")),
        also=_polled("response-property-const-changed", "ERR", "object"),
    ),
    Case(
        "response-property-max-length-increased",
        "ERR",
        "GET /v1/health",
        f"{OK}: status",
        _do(lambda d: prop(d, "Health", "status").update(maxLength=20)),
        old=_do(lambda d: prop(d, "Health", "status").update(maxLength=10)),
    ),
    Case(
        "response-property-enum-removed",
        "WARN",
        CHAT,
        f"{OK}: choices[*].finish_reason",
        _do(lambda d: schema(d, "Choice")["properties"]["finish_reason"].pop("enum")),
        also=_polled("response-property-enum-removed", "WARN", "choices[*].finish_reason"),
    ),
    Case(
        "response-property-const-removed",
        "ERR",
        CHAT,
        f"{OK}: choices[*].message.role",
        _do(lambda d: schema(d, "Choice")["properties"]["message"]["properties"].update(role={"type": "string"})),
        also=_polled("response-property-const-removed", "ERR", "choices[*].message.role"),
    ),
    Case(
        "api-removed-without-deprecation",
        "ERR",
        GET_SKILL,
        "endpoint",
        _do(lambda d: d["paths"]["/v1/skills/{skill_id}"].pop("get")),
    ),
    Case(
        "api-path-removed-without-deprecation",
        "ERR",
        GET_SKILL,
        "endpoint",
        _do(lambda d: d["paths"].pop("/v1/skills/{skill_id}")),
    ),
    Case(
        "api-removed-with-deprecation",
        "INFO",
        GET_SKILL,
        "endpoint",
        _do(lambda d: d["paths"]["/v1/skills/{skill_id}"].pop("get")),
        old=_do(lambda d: d["paths"]["/v1/skills/{skill_id}"]["get"].update(deprecated=True)),
    ),
    Case(
        "request-parameter-became-required",
        "ERR",
        SKILLS,
        "query: limit",
        _do(lambda d: d["paths"]["/v1/skills"]["get"]["parameters"][0].update(required=True)),
    ),
    Case(
        "new-required-request-parameter",
        "ERR",
        SKILLS,
        "query: org",
        _do(
            lambda d: d["paths"]["/v1/skills"]["get"]["parameters"].append(
                {"name": "org", "in": "query", "required": True, "schema": {"type": "string"}}
            )
        ),
    ),
    Case(
        "request-parameter-enum-value-removed",
        "ERR",
        SKILLS,
        "query: order_by",
        _do(lambda d: d["paths"]["/v1/skills"]["get"]["parameters"][2]["schema"]["enum"].remove("name")),
    ),
    Case(
        "request-parameter-removed",
        "WARN",
        SKILLS,
        "query: grouped",
        _do(lambda d: d["paths"]["/v1/skills"]["get"]["parameters"].pop()),
    ),
    Case(
        "request-parameter-max-decreased",
        "ERR",
        SKILLS,
        "query: limit",
        _do(lambda d: d["paths"]["/v1/skills"]["get"]["parameters"][0]["schema"].update(maximum=100)),
    ),
    Case(
        "request-parameter-default-value-changed",
        "WARN",
        SKILLS,
        "query: limit",
        _do(lambda d: d["paths"]["/v1/skills"]["get"]["parameters"][0]["schema"].update(default=10)),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_rule_fires(case: Case) -> None:
    changes = run(mutated(case.old), mutated(case.old, case.new))
    assert facts(changes) == {(case.rule, case.level, case.operation, case.path), *case.also}
    assert RULES[case.rule].level.name == case.level


def test_every_case_names_a_known_rule() -> None:
    assert {c.rule for c in CASES} <= set(RULES)


def test_identical_descriptions_have_no_changes() -> None:
    assert run(real(), real()) == []


def test_a_change_carries_its_instance_path_direction_and_branch() -> None:
    new = mutated(lambda d: prop(d, "SkillReference", "skill_version").update(default="20260219-abc123"))
    (change,) = run(real(), new)
    assert change.json_path == "skills[*].skill_version"
    assert change.direction == "request"
    assert change.text == (
        "the request property 'skills[*].skill_version' default value changed from 'latest' to "
        "'20260219-abc123' (in oneOf SkillReference)"
    )


def test_response_changes_name_the_status() -> None:
    changes = run(real(), mutated(lambda d: schema(d, "ChatCompletion")["required"].remove("usage")))
    assert [(c.operation, c.text) for c in changes] == [
        (POLL, "the response property 'usage' became optional for the status 200"),
        (POLL, "the response property 'usage' became optional for the status 201"),
        (CHAT, "the response property 'usage' became optional for the status 200"),
    ]
    assert {(c.json_path, c.direction) for c in changes} == {("usage", "response")}


def test_parameter_and_endpoint_changes_are_not_in_a_body() -> None:
    new = mutated(
        lambda d: d["paths"]["/v1/skills"]["get"]["parameters"][0].update(required=True),
        lambda d: d["paths"].pop("/v1/health"),
    )
    assert {c.json_path for c in run(real(), new)} == {None}


# The rules the harness promises, with oasdiff's default levels (DEVIATION: request default changes are WARN).
PROMISED = {
    "new-required-request-property": "ERR",
    "request-property-became-required": "ERR",
    "request-property-enum-value-removed": "ERR",
    "request-body-enum-value-removed": "ERR",
    "request-property-type-changed": "ERR",
    "request-property-max-length-decreased": "ERR",
    "request-property-pattern-added": "ERR",
    "request-property-became-not-nullable": "ERR",
    "request-property-one-of-removed": "ERR",
    "request-body-media-type-removed": "ERR",
    "request-property-removed": "WARN",
    "response-required-property-removed": "ERR",
    "response-property-became-optional": "ERR",
    "response-property-became-nullable": "ERR",
    "response-property-type-changed": "ERR",
    "response-body-one-of-added": "ERR",
    "response-property-one-of-added": "ERR",
    "response-media-type-removed": "ERR",
    "response-success-status-removed": "ERR",
    "response-property-enum-value-added": "WARN",
    "response-optional-property-removed": "WARN",
    "api-removed-without-deprecation": "ERR",
    "api-path-removed-without-deprecation": "ERR",
    "request-property-default-value-changed": "WARN",
    "response-property-default-value-changed": "INFO",
    "request-property-const-changed": "ERR",
    "response-property-const-changed": "ERR",
    "request-parameter-became-required": "ERR",
    "new-required-request-parameter": "ERR",
    "request-parameter-enum-value-removed": "ERR",
}


def test_the_promised_rules_exist_with_their_levels() -> None:
    assert {rule: RULES[rule].level.name for rule in PROMISED} == PROMISED


@pytest.mark.parametrize("suffix", sorted({**rules_module._SCHEMA, **rules_module._OURS}))
def test_every_schema_check_names_a_rule_wherever_it_fires(suffix: str) -> None:
    for direction, subjects in (("request", ("body", "property", "parameter")), ("response", ("body", "property"))):
        for subject in subjects:
            rule_id = rules_module.schema_rule(suffix, direction, subject)
            assert rule_id is None or rule_id in RULES, (suffix, direction, subject)


def test_stream_chunks_are_walked_through_the_event_content_schema() -> None:
    new = mutated(
        lambda d: schema(d, "ChatCompletionChunk")["properties"]["choices"]["items"]["properties"]["delta"][
            "properties"
        ].pop("content")
    )
    assert facts(run(real(), new)) == {
        (
            "response-optional-property-removed",
            "WARN",
            CHAT,
            "response 200 text/event-stream: data.choices[*].delta.content",
        )
    }
