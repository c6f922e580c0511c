"""Schema normalisation and the walk: nullability spellings, allOf, $ref cycles, branch matching."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.errors import DescriptionError
from harness.specdiff import diff_documents
from harness.specdiff.schemas import Resolver, view

Doc = dict[str, Any]


def _doc(schema: Any, components: Doc | None = None) -> Doc:
    body = {"content": {"application/json": {"schema": schema}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "post": {
                    "requestBody": body,
                    "responses": {"200": {"description": "ok", **copy.deepcopy(body)}},
                }
            }
        },
        "components": {"schemas": components or {}},
    }


def _ids(old: Any, new: Any, components: Doc | None = None) -> set[str]:
    return {c.id for c in diff_documents(_doc(old, components), _doc(new, components))}


NULLABLE_STRING = [
    {"type": ["string", "null"]},
    {"type": "string", "nullable": True},
    {"anyOf": [{"type": "string"}, {"type": "null"}]},
    {"oneOf": [{"type": "null"}, {"type": "string"}]},
]


@pytest.mark.parametrize("a", range(len(NULLABLE_STRING)))
@pytest.mark.parametrize("b", range(len(NULLABLE_STRING)))
def test_every_spelling_of_nullable_is_the_same(a: int, b: int) -> None:
    assert (
        _ids(
            {"type": "object", "properties": {"p": NULLABLE_STRING[a]}},
            {"type": "object", "properties": {"p": NULLABLE_STRING[b]}},
        )
        == set()
    )


@pytest.mark.parametrize("spelling", NULLABLE_STRING)
def test_each_spelling_makes_a_property_nullable(spelling: Doc) -> None:
    old = {"type": "object", "properties": {"p": {"type": "string"}}}
    new = {"type": "object", "properties": {"p": spelling}}
    assert _ids(old, new) == {"request-property-became-nullable", "response-property-became-nullable"}


def test_a_ref_wrapped_in_a_nullable_one_of_is_still_the_ref() -> None:
    components = {"Usage": {"type": "object", "properties": {"n": {"type": "integer"}}}}
    old = {"type": "object", "properties": {"u": {"$ref": "#/components/schemas/Usage"}}}
    new = {"type": "object", "properties": {"u": {"oneOf": [{"$ref": "#/components/schemas/Usage"}, {"type": "null"}]}}}
    assert _ids(old, new, components) == {"request-property-became-nullable", "response-property-became-nullable"}


def test_view_folds_null_branches_and_flattens_all_of() -> None:
    doc = {"components": {"schemas": {"A": {"type": "object", "properties": {"a": {}}, "required": ["a"]}}}}
    v = view(
        {"allOf": [{"$ref": "#/components/schemas/A"}, {"properties": {"b": {}}, "required": ["b"]}]}, Resolver(doc)
    )
    assert sorted(v.raw["properties"]) == ["a", "b"]
    assert v.raw["required"] == ["a", "b"]
    n = view({"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]}, Resolver(doc))
    assert n.nullable
    assert (n.name, n.types) == ("A", frozenset({"object"}))


def test_moving_a_property_between_all_of_branches_is_no_change() -> None:
    old = {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}]}
    new = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"properties": {"b": {"type": "string"}}},
        ]
    }
    assert _ids(old, new) == set()


def test_a_requirement_added_in_an_all_of_branch_is_found() -> None:
    old = {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}}]}
    new = {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"required": ["a"]}]}
    assert _ids(old, new) == {"request-property-became-required", "response-property-became-required"}


def test_recursive_schemas_terminate_and_still_report() -> None:
    node: Doc = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    }
    changed = copy.deepcopy(node)
    changed["properties"]["name"]["maxLength"] = 3
    changes = diff_documents(
        _doc({"$ref": "#/components/schemas/Node"}, {"Node": node}),
        _doc({"$ref": "#/components/schemas/Node"}, {"Node": changed}),
    )
    assert {(c.id, c.json_path) for c in changes} == {("request-property-max-length-set", "name")}


def test_mutually_recursive_schemas_terminate() -> None:
    components: Doc = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}, "n": {"type": "integer"}}},
    }
    changed = copy.deepcopy(components)
    changed["B"]["properties"]["n"]["type"] = "string"
    changes = diff_documents(
        _doc({"$ref": "#/components/schemas/A"}, components), _doc({"$ref": "#/components/schemas/A"}, changed)
    )
    assert {(c.id, c.json_path) for c in changes} == {
        ("request-property-type-changed", "b.n"),
        ("response-property-type-changed", "b.n"),
    }


def test_boolean_schemas_and_ref_siblings() -> None:
    components = {"S": {"type": "string"}}
    old = {"type": "object", "properties": {"a": True, "s": {"$ref": "#/components/schemas/S", "default": "x"}}}
    new = {"type": "object", "properties": {"a": True, "s": {"$ref": "#/components/schemas/S", "default": "y"}}}
    assert _ids(old, new, components) == {
        "request-property-default-value-changed",
        "response-property-default-value-changed",
    }


BRANCHES: Doc = {
    "Cat": {"type": "object", "properties": {"kind": {"const": "cat"}, "lives": {"type": "integer"}}},
    "Dog": {"type": "object", "properties": {"kind": {"const": "dog"}, "bark": {"type": "string"}}},
}


@pytest.mark.parametrize(
    "new",
    [
        {"oneOf": [{"$ref": "#/components/schemas/Dog"}, {"$ref": "#/components/schemas/Cat"}]},
        {
            "oneOf": [{"$ref": "#/components/schemas/Dog"}, {"$ref": "#/components/schemas/Cat"}],
            "discriminator": {"propertyName": "kind"},
        },
    ],
)
def test_reordered_branches_pair_up(new: Doc) -> None:
    old = {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]}
    ids = _ids(old, new, BRANCHES)
    assert ids <= {"request-body-discriminator-added", "response-body-discriminator-added"}


def test_inline_branches_pair_by_const_then_report_inside() -> None:
    old = {"oneOf": [dict(BRANCHES["Cat"]), dict(BRANCHES["Dog"])]}
    dog = copy.deepcopy(BRANCHES["Dog"])
    dog["properties"]["bark"]["maxLength"] = 5
    new = {"oneOf": [dog, copy.deepcopy(BRANCHES["Cat"])]}
    changes = diff_documents(_doc(old), _doc(new))
    assert {(c.id, c.json_path) for c in changes} == {("request-property-max-length-set", "bark")}
    assert changes[0].text.endswith("(in oneOf kind=dog)")


def test_branches_pair_by_type_for_unions_of_scalars() -> None:
    old = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    new = {"oneOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "string"}]}
    assert _ids(old, new) == {"request-property-type-changed", "response-property-type-changed"}


def test_a_single_schema_becoming_a_union_is_a_branch_added() -> None:
    old = {"type": "object", "properties": {"c": {"type": "string"}}}
    new = {"type": "object", "properties": {"c": {"oneOf": [{"type": "string"}, {"type": "array"}]}}}
    assert _ids(old, new) == {"request-property-one-of-added", "response-property-one-of-added"}


def test_a_const_implies_its_type() -> None:
    old = {"type": "object", "properties": {"kind": {"const": "text"}}}
    new = {"type": "object", "properties": {"kind": {"type": "string", "const": "text"}}}
    assert _ids(old, new) == set()


def test_branches_pair_by_discriminator_mapping_across_a_rename() -> None:
    cat = {"type": "object", "properties": {"lives": {"type": "integer"}}}
    feline = {"type": "object", "properties": {"lives": {"type": "integer", "maximum": 9}}}
    dog = {"type": "object", "properties": {"bark": {"type": "string"}}}

    def union(cat_name: str, mapping_style: str) -> Doc:
        ref = f"#/components/schemas/{cat_name}"
        target = ref if mapping_style == "ref" else cat_name
        return {
            "oneOf": [{"$ref": ref}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "kind", "mapping": {"cat": target, "dog": "#/components/schemas/Dog"}},
        }

    components = {"Cat": cat, "Feline": feline, "Dog": dog}
    for style in ("ref", "name"):
        ids = _ids(union("Cat", style), union("Feline", style), components)
        assert ids == {
            "request-property-max-set",  # found inside the paired branch, not a branch removed and added
            "request-body-discriminator-mapping-changed",
            "response-body-discriminator-mapping-changed",
        }


def test_siblings_of_each_ref_are_laid_over_the_target_the_outermost_winning() -> None:
    doc = {
        "components": {
            "schemas": {
                "A": {"type": "string", "description": "a"},
                "B": {"$ref": "#/components/schemas/A", "description": "b", "default": "x"},
            }
        }
    }
    raw, ref = Resolver(doc).deref({"$ref": "#/components/schemas/B", "description": "outer"})
    assert raw == {"type": "string", "description": "outer", "default": "x"}
    assert ref == "#/components/schemas/A"


def test_a_local_ref_cycle_is_a_description_error() -> None:
    doc = {
        "components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}}
    }
    with pytest.raises(DescriptionError) as caught:
        view({"$ref": "#/components/schemas/A"}, Resolver(doc))
    assert str(caught.value) == "$ref chain too long or circular at '#/components/schemas/A'"
