"""Engine defects found while giving every rule id a case (`rule_ids.yaml`), each pinned here."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.specdiff import diff_documents
from tests.specdiff._pairs import (
    REQUEST_BODY,
    RESPONSE_BODY,
    RESPONSE_PROPERTY,
    Doc,
    api,
)

OBJECT_A: Doc = {"type": "object", "properties": {"a": {"type": "string"}}}
OBJECT_B: Doc = {"type": "object", "properties": {"b": {"type": "string"}}}
NULL: Doc = {"type": "null"}


def _facts(old: Doc, new: Doc) -> list[tuple[str, str, str, str]]:
    return [(c.id, c.level.name, c.path, c.text) for c in diff_documents(old, new)]


def _under(path: str, parameter: str, schema: Doc | None = None) -> Doc:
    doc = api()
    doc["paths"] = {path: doc["paths"]["/t"]}
    declared = {"name": parameter, "in": "path", "required": True, "schema": schema or {"type": "string"}}
    doc["paths"][path]["post"]["parameters"] = [declared]
    return doc


def test_renaming_a_path_parameter_changes_nothing() -> None:
    """Was `request-parameter-removed` WARN plus `new-request-path-parameter` ERR: the URL is the same."""
    assert _facts(_under("/t/{id}", "id"), _under("/t/{t_id}", "t_id")) == []


def test_a_renamed_path_parameter_is_still_compared_under_its_new_name() -> None:
    old = _under("/t/{id}", "id", {"type": "string"})
    new = _under("/t/{t_id}", "t_id", {"type": "integer"})
    assert _facts(old, new) == [
        (
            "request-parameter-type-changed",
            "ERR",
            "path: t_id",
            "the path request parameter 't_id' type/format changed from 'string' to 'integer'",
        )
    ]


def test_a_response_union_that_gains_a_null_branch_became_nullable() -> None:
    """Was silent: a union of typed branches was treated as saying nothing about null."""
    old = RESPONSE_BODY.doc({"oneOf": [OBJECT_A, OBJECT_B]})
    new = RESPONSE_BODY.doc({"oneOf": [OBJECT_A, OBJECT_B, NULL]})
    assert _facts(old, new) == [
        (
            "response-body-became-nullable",
            "ERR",
            "response 200 application/json",
            "the response body became nullable for the status 200",
        )
    ]


def test_a_request_union_that_loses_its_null_branch_became_not_nullable() -> None:
    old = REQUEST_BODY.doc({"anyOf": [OBJECT_A, OBJECT_B, NULL]})
    new = REQUEST_BODY.doc({"anyOf": [OBJECT_A, OBJECT_B]})
    assert _facts(old, new) == [
        ("request-body-became-not-nullable", "ERR", "request body", "the request body became not nullable")
    ]


def test_a_union_with_an_untyped_branch_already_admitted_null() -> None:
    """`{}` lets null through, so spelling null out as a branch changes nothing."""
    old = RESPONSE_PROPERTY.doc({"oneOf": [OBJECT_A, {}]})
    new = RESPONSE_PROPERTY.doc({"oneOf": [OBJECT_A, {}, NULL]})
    assert _facts(old, new) == []


def test_a_discriminator_mapping_that_is_not_a_mapping_maps_nothing() -> None:
    """Was AttributeError: 'list' object has no attribute 'keys'."""
    old = REQUEST_BODY.doc({"type": "object", "discriminator": {"propertyName": "k", "mapping": ["a"]}})
    new = REQUEST_BODY.doc({"type": "object", "discriminator": {"propertyName": "k", "mapping": {"a": "A"}}})
    assert _facts(old, new) == [
        (
            "request-body-discriminator-mapping-added",
            "INFO",
            "request body",
            """added '["a"]' discriminator mapping keys to the request body""",
        )
    ]


def test_a_default_behind_a_ref_counts_for_a_new_required_property() -> None:
    """Was `new-required-request-property`: only a `default` written inline was seen."""
    old = REQUEST_BODY.doc({"type": "object", "properties": {}})
    new = REQUEST_BODY.doc(
        {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/X"}}, "required": ["x"]}
    )
    new["components"] = {"schemas": {"X": {"type": "string", "default": "a"}}}
    assert _facts(old, new) == [
        (
            "new-required-request-property-with-default",
            "ERR",
            "request body: x",
            "added the new required request property 'x' with a default value",
        )
    ]


def _json(doc: Doc, side: str) -> Doc:
    post = doc["paths"]["/t"]["post"]
    found: Doc = (post["requestBody"] if side == "request" else post["responses"]["200"])["content"]["application/json"]
    return found


_JSON_200 = "response 200 application/json"
# A malformed part reads as absent: the change is what its absence would be.
MALFORMED: dict[str, tuple[Any, tuple[str, str, str, str]]] = {
    "request content a list": (
        lambda d: d["paths"]["/t"]["post"]["requestBody"].update(content=["x"]),
        (
            "request-body-media-type-removed",
            "ERR",
            "request body application/json",
            "removed the media type 'application/json' from the request body",
        ),
    ),
    "responses a list": (
        lambda d: d["paths"]["/t"]["post"].update(responses=["x"]),
        (
            "response-success-status-removed",
            "ERR",
            "response 200",
            "removed the success response with the status '200'",
        ),
    ),
    "response content a list": (
        lambda d: d["paths"]["/t"]["post"]["responses"]["200"].update(content=["x"]),
        (
            "response-media-type-removed",
            "ERR",
            _JSON_200,
            "removed the media type 'application/json' for the response with the status '200'",
        ),
    ),
    "properties a list": (
        lambda d: _json(d, "request").update(schema={"type": "object", "properties": ["x"]}),
        (
            "request-body-type-changed",
            "ERR",
            "request body",
            "the request body type/format changed from 'any' to 'object'",
        ),
    ),
    "required a string": (
        lambda d: _json(d, "response").update(schema={"type": "object", "required": "xy"}),
        (
            "response-body-type-specialized",
            "INFO",
            _JSON_200,
            "the response body type/format was narrowed from 'any' to 'object' for the status 200",
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_part_reads_as_absent_instead_of_crashing(name: str) -> None:
    """Were AttributeError/TypeError tracebacks (and `required: "xy"` required properties
    `x` and `y`): the diff does not validate, so a part of the wrong shape constrains nothing."""
    mutate, expected = MALFORMED[name]
    old = api()
    new = copy.deepcopy(old)
    mutate(new)
    assert _facts(old, new) == [expected]


@pytest.mark.parametrize(
    "malformed",
    [
        {"type": 5},
        {"allOf": [{"properties": ["x"]}], "properties": ["y"]},
        {"allOf": [{"required": "xy"}], "required": 3},
    ],
    ids=["type-not-a-string", "properties-a-list", "required-not-a-list"],
)
def test_a_malformed_schema_reads_as_absent_parts_not_a_crash(malformed: dict[str, Any]) -> None:
    """The diff does not validate descriptions: a part of the wrong shape is simply not there."""
    old = api(request={"type": "object", "properties": {"x": {"type": "string"}}})
    new = api(request={"type": "object", "properties": {"x": malformed}})
    assert isinstance(_facts(old, new), list)
