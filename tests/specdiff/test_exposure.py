"""Which recorded bodies and snapshots exercise a change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.specdiff import Change, Document, Level, diff_documents, exercised_by, snapshot_documents
from harness.specdiff.exposure import contains, parse_path, removed_enum_value
from tests.specdiff._pairs import mutated, real

CHAT = "POST /v1/openai/chat/completions"


def _change(rule: str, json_path: str | None, direction: str) -> Change:
    return Change(rule, Level.ERR, CHAT, f"x: {json_path}", "t", json_path, direction)


REQUESTS = [
    ("c.yaml#0 (request)", "request", {"messages": [], "skills": [{"skill_name": "a", "skill_version": "latest"}]}),
    ("c.yaml#1 (request)", "request", {"messages": [], "skills": [{"skill_name": "a"}]}),
    ("c.yaml#2 (request)", "request", {"messages": []}),
]
RESPONSES = [
    ("c.yaml#0 (response)", "response", {"choices": [{"message": {"content": "hi"}}], "usage": None}),
    ("c.yaml#1 (response)", "response", {"choices": [], "usage": {"total_tokens": 1}}),
]


def test_parse_path() -> None:
    assert parse_path("skills[*].skill_version") == ["skills", "[*]", "skill_version"]
    assert parse_path("[*].id") == ["[*]", "id"]
    assert parse_path("metadata.*") == ["metadata", "*"]
    assert parse_path("") == []


def test_contains_walks_lists_and_any_key() -> None:
    body = {"metadata": {"k": {"v": 1}}, "a": [[{"b": None}]]}
    assert contains(body, ["metadata", "*", "v"])
    assert contains(body, ["a", "[*]", "[*]", "b"])
    assert not contains(body, ["a", "[*]", "b"])


def test_changes_map_to_the_documents_that_carry_their_path() -> None:
    removed = _change("request-property-pattern-added", "skills[*].skill_version", "request")
    content = _change("response-property-type-changed", "choices[*].message.content", "response")
    usage = _change("response-property-became-nullable", "usage", "response")
    found = exercised_by([removed, content, usage], [*REQUESTS, *RESPONSES])
    assert found == {
        removed: ["c.yaml#0 (request)"],
        content: ["c.yaml#0 (response)"],
        usage: ["c.yaml#0 (response)", "c.yaml#1 (response)"],
    }


def test_where_absence_matters_the_parent_counts() -> None:
    default = _change("request-property-default-value-changed", "skills[*].skill_version", "request")
    required = _change("new-required-request-property", "tenant", "request")
    found = exercised_by([default, required], REQUESTS)
    assert found[default] == ["c.yaml#0 (request)", "c.yaml#1 (request)"]
    assert found[required] == [label for label, _, _ in REQUESTS]


def test_non_body_changes_match_nothing() -> None:
    param = _change("request-parameter-became-required", None, "request")
    assert exercised_by([param], REQUESTS) == {param: []}


def test_body_level_changes_match_every_document_of_their_direction() -> None:
    media = _change("response-media-type-removed", "", "response")
    assert exercised_by([media], [*REQUESTS, *RESPONSES])[media] == ["c.yaml#0 (response)", "c.yaml#1 (response)"]


def _snapshot(root: Path, rel: str, data: object) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_snapshot_documents(tmp_path: Path) -> None:
    _snapshot(
        tmp_path,
        "tests/__snapshots__/test_wire/test_pinned.json",
        {"wire": {"skills": [{"skill_name": "a", "skill_version": "20260219-abc123"}]}},
    )
    _snapshot(
        tmp_path,
        "tests/__snapshots__/test_wire/test_reply.json",
        {"request": {"json": {"messages": []}}, "response": {"body": {"usage": None}}},
    )
    _snapshot(tmp_path, "tests/__snapshots__/test_plain.json", {"usage": {"total_tokens": 3}})
    _snapshot(tmp_path, "tests/not_snapshots/other.json", {"skills": []})
    docs = list(snapshot_documents(tmp_path))
    assert [(d.label, d.direction) for d in docs] == [
        ("tests/__snapshots__/test_plain.json", "any"),
        ("tests/__snapshots__/test_wire/test_pinned.json", "request"),
        ("tests/__snapshots__/test_wire/test_reply.json", "any"),
    ]
    pattern = _change("request-property-pattern-added", "skills[*].skill_version", "request")
    usage = _change("response-property-became-nullable", "usage", "response")
    found = exercised_by([pattern, usage], docs)
    assert found[pattern] == ["tests/__snapshots__/test_wire/test_pinned.json"]
    assert found[usage] == ["tests/__snapshots__/test_plain.json", "tests/__snapshots__/test_wire/test_reply.json"]


def test_a_broken_snapshot_is_named(tmp_path: Path) -> None:
    path = tmp_path / "__snapshots__" / "bad.json"
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.raises(UsageError, match=r"bad\.json"):
        list(snapshot_documents(tmp_path))


def test_documents_may_be_plain_tuples_or_named() -> None:
    change = _change("response-property-became-nullable", "usage", "response")
    named = Document("n", "response", {"usage": 1})
    assert exercised_by([change], [named, ("t", "response", {"usage": 2})]) == {change: ["n", "t"]}


# -- a removed enum value touches only the bodies that hold it ----------------------------------------


def _removed_role(role: str) -> Change:
    def drop(doc: dict) -> None:  # type: ignore[type-arg]
        doc["components"]["schemas"]["Message"]["properties"]["role"]["enum"].remove(role)

    [change] = [c for c in diff_documents(real(), mutated(drop)) if c.id.endswith("enum-value-removed")]
    return change


MESSAGES = [
    ("system.yaml#0 (request)", "request", {"messages": [{"role": "system"}, {"role": "user"}]}),
    ("user.yaml#0 (request)", "request", {"messages": [{"role": "user", "content": "system"}]}),
    ("none.yaml#0 (request)", "request", {"messages": []}),
]


def test_a_removed_enum_value_is_exercised_only_where_it_is_sent() -> None:
    system = _removed_role("system")
    assert (system.id, system.json_path) == ("request-property-enum-value-removed", "messages[*].role")
    assert removed_enum_value(system) == "'system'"
    assert exercised_by([system], MESSAGES) == {system: ["system.yaml#0 (request)"]}
    user = _removed_role("user")
    assert exercised_by([user], MESSAGES) == {user: ["system.yaml#0 (request)", "user.yaml#0 (request)"]}


def test_a_snapshot_holding_the_value_anywhere_counts(tmp_path: Path) -> None:
    _snapshot(tmp_path, "tests/__snapshots__/test_wire/test_sys.json", {"wire": {"messages": [{"role": "system"}]}})
    _snapshot(tmp_path, "tests/__snapshots__/test_wire/test_usr.json", {"wire": {"messages": [{"role": "user"}]}})
    system = _removed_role("system")
    found = exercised_by([system], snapshot_documents(tmp_path))
    assert found == {system: ["tests/__snapshots__/test_wire/test_sys.json"]}


@pytest.mark.parametrize(
    ("text", "json_path", "value"),
    [
        ("removed the enum value '1' from the request property 'n'", "n", "'1'"),
        ("removed the enum value 'a' from 'b' from the request property 'x.y' (in oneOf T)", "x.y", "'a' from 'b'"),
        ("removed the enum value 'low' from the request body", "", "'low'"),
        ("the request property 'n' became required", "n", None),
    ],
)
def test_the_removed_value_is_read_from_the_rule_message(text: str, json_path: str, value: str | None) -> None:
    rule = "request-property-enum-value-removed" if json_path else "request-body-enum-value-removed"
    if value is None:
        rule = "request-property-became-required"
    assert removed_enum_value(Change(rule, Level.ERR, CHAT, "p", text, json_path, "request")) == value


def test_a_removed_number_matches_the_number_and_the_string_alike() -> None:
    """The message quotes 1 and "1" the same way: both are counted (never fewer than hold the value)."""
    change = Change(
        "request-property-enum-value-removed", Level.ERR, CHAT, "request body: n",
        "removed the enum value '1' from the request property 'n'", "n", "request",
    )  # fmt: skip
    docs = [("int", "request", {"n": 1}), ("str", "request", {"n": "1"}), ("other", "request", {"n": 2})]
    assert exercised_by([change], docs) == {change: ["int", "str"]}
