"""Which recorded bodies and snapshots exercise a change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.compat import Change, Document, Level, exercised_by, snapshot_documents
from harness.compat.exposure import contains, parse_path
from harness.errors import UsageError

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
