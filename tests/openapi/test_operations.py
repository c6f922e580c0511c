"""Operation, status and media-type resolution: the facts every traffic check shares."""

from __future__ import annotations

from typing import Any

import pytest

from harness.openapi.operations import (
    OperationMatch,
    documented_methods,
    is_json_media,
    match_path,
    parameter_value,
    pick_media,
    request_media,
    response_key,
)

PATHS: dict[str, Any] = {
    "/v1/skills": {"get": {}, "post": {}},
    "/v1/skills/{skill_id}": {"get": {}, "delete": {}},
    "/v1/skills/lookup": {"post": {}},
    "/v1/skills/{skill_id}/versions/{version}": {"get": {}},
}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v1/skills", OperationMatch("/v1/skills", {})),
        ("POST", "/v1/skills/lookup", OperationMatch("/v1/skills/lookup", {})),  # literal beats a template
        ("GET", "/v1/skills/lookup", OperationMatch("/v1/skills/{skill_id}", {"skill_id": "lookup"})),  # method wins
        ("GET", "/v1/skills/a%2Fb", OperationMatch("/v1/skills/{skill_id}", {"skill_id": "a/b"})),
        (
            "GET",
            "/v1/skills/x/versions/3",
            OperationMatch("/v1/skills/{skill_id}/versions/{version}", {"skill_id": "x", "version": "3"}),
        ),
        ("GET", "/gateway/v1/skills", OperationMatch("/v1/skills", {})),  # a proxy prefix
        (
            "PUT",
            "/v1/skills",
            OperationMatch("/v1/skills", {}),
        ),  # the path matches; the method is the caller's to judge
        ("GET", "/gatewayv1/skills", None),
        ("GET", "/v2/skills", None),
    ],
)
def test_match_path(method: str, path: str, expected: OperationMatch | None) -> None:
    assert match_path(PATHS, method, path) == expected


def test_documented_methods_in_the_specification_order() -> None:
    assert documented_methods({"post": {}, "get": {}, "parameters": [], "summary": "x"}) == ["GET", "POST"]


RESPONSES: dict[Any, Any] = {200: {}, "201": {}, "4XX": {}, "5xx": {}, "default": {}}


@pytest.mark.parametrize(
    ("status", "key"),
    [(200, "200"), (201, "201"), (404, "4XX"), (422, "4XX"), (503, "5xx"), (302, "default"), ("200", "200")],
)
def test_status_resolves_exact_then_range_then_default(status: int | str, key: str) -> None:
    assert response_key(RESPONSES, status) == key


def test_status_without_range_or_default_is_undocumented() -> None:
    assert response_key({"200": {}, "4XX": {}}, 500) is None
    assert response_key({}, 200) is None


CONTENT: dict[str, dict[str, Any]] = {"application/json": {}, "text/*": {}, "application/problem+json": {}}


@pytest.mark.parametrize(
    ("content_type", "media"),
    [
        ("application/json", "application/json"),
        ("Application/JSON; charset=utf-8", "application/json"),
        ("text/event-stream; charset=utf-8", "text/*"),
        ("application/problem+json", "application/problem+json"),
        ("image/png", None),
        ("", None),
        (None, None),
    ],
)
def test_pick_media(content_type: str | None, media: str | None) -> None:
    assert pick_media(CONTENT, content_type) == media


def test_any_media_type_is_the_last_resort() -> None:
    assert pick_media({"*/*": {}, "text/plain": {}}, "text/plain") == "text/plain"
    assert pick_media({"*/*": {}, "text/plain": {}}, "image/png") == "*/*"


def test_a_request_without_content_type_is_read_as_its_json_media() -> None:
    assert request_media({"text/plain": {}, "application/json": {}}, None) == "application/json"
    assert request_media({"text/plain": {}}, None) is None
    assert request_media({"text/plain": {}}, "text/plain") == "text/plain"


def test_is_json_media() -> None:
    assert is_json_media("application/json")
    assert is_json_media("application/vnd.api+JSON")
    assert not is_json_media("text/event-stream")


@pytest.mark.parametrize(
    ("raw", "schema", "value"),
    [
        ("10", {"type": "integer"}, 10),
        ("-1.5e3", {"type": "number"}, -1500.0),
        ("true", {"type": "boolean"}, True),
        ("false", {"type": ["boolean", "null"]}, False),
        ("name", {"type": "string"}, "name"),
        ("10", {}, "10"),
    ],
)
def test_parameter_values_take_their_declared_type(raw: str, schema: dict[str, Any], value: Any) -> None:
    assert parameter_value(raw, schema) == value


@pytest.mark.parametrize(
    ("raw", "schema", "message"),
    [
        ("ten", {"type": "integer"}, "Expected an integer, got 'ten'"),
        ("1.5", {"type": "integer"}, "Expected an integer, got '1.5'"),
        ("yes", {"type": "boolean"}, "Expected true or false, got 'yes'"),
        ("1,5", {"type": "number"}, "Expected a number, got '1,5'"),
    ],
)
def test_parameter_values_of_the_wrong_type_say_what_was_expected(
    raw: str, schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(") + "$"):
        parameter_value(raw, schema)
