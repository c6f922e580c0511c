"""JSON pointers and `$ref`s (RFC 6901, RFC 3986 fragments): one implementation for every caller."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import DescriptionError
from harness.openapi.pointer import (
    RefError,
    deref,
    escape,
    pointer_to,
    ref_chain,
    ref_name,
    resolve_pointer,
    resolve_ref,
    tokens,
    unescape,
)

DOCUMENT: dict[str, Any] = {
    "paths": {"/v1/skills/{id}": {"get": {"operationId": "getSkill"}}},
    "components": {
        "schemas": {
            "a/b": {"type": "string"},
            "m~n": {"type": "integer"},
            "~1": {"const": "tilde-one"},
            "with space": {"type": "null"},
            "Alias": {"$ref": "#/components/schemas/a~1b"},
            "AliasOfAlias": {"$ref": "#/components/schemas/Alias", "description": "outer"},
            "Loop1": {"$ref": "#/components/schemas/Loop2"},
            "Loop2": {"$ref": "#/components/schemas/Loop1"},
            "Self": {"$ref": "#/components/schemas/Self"},
        },
        "list": [{"first": True}, {"second": True}],
    },
}


@pytest.mark.parametrize(
    ("escaped", "plain"),
    [("a~1b", "a/b"), ("m~0n", "m~n"), ("~01", "~1"), ("~10", "/0"), ("~0~1", "~/"), ("plain", "plain")],
)
def test_tokens_unescape_tilde_one_then_tilde_zero(escaped: str, plain: str) -> None:
    assert unescape(escaped) == plain
    assert escape(plain) == escaped


def test_paths_are_named_with_escaped_slashes() -> None:
    ref = pointer_to("paths", "/v1/skills/{id}", "get")
    assert ref == "#/paths/~1v1~1skills~1{id}/get"
    assert resolve_ref(DOCUMENT, ref) == {"operationId": "getSkill"}


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("#/components/schemas/a~1b", {"type": "string"}),
        ("#/components/schemas/m~0n", {"type": "integer"}),
        ("#/components/schemas/~01", {"const": "tilde-one"}),  # `~01` is `~1`, not `/`
        ("#/components/schemas/with%20space", {"type": "null"}),  # the fragment is percent-decoded first
        ("#/components/list/1", {"second": True}),
        ("#", DOCUMENT),
    ],
)
def test_resolve_ref(ref: str, expected: Any) -> None:
    assert resolve_ref(DOCUMENT, ref) == expected


def test_tokens_of_a_fragment() -> None:
    assert tokens("") == []
    assert tokens("#") == []
    assert tokens("/a~1b/c~0d/%7Be%7D") == ["a/b", "c~d", "{e}"]
    assert tokens("#/") == [""]  # RFC 6901: `/` names the key ""


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("#/components/schemas/Nope", "$ref '#/components/schemas/Nope' does not resolve (no 'Nope')"),
        ("#/components/list/2", "$ref '#/components/list/2' does not resolve (no '2')"),
        ("#/components/schemas/a/b", "$ref '#/components/schemas/a/b' does not resolve (no 'a')"),
        ("other.yaml#/A", "$ref 'other.yaml#/A' is not a reference inside the document"),
    ],
)
def test_unresolvable_refs_are_description_errors_naming_the_token(ref: str, message: str) -> None:
    with pytest.raises(RefError) as caught:
        resolve_ref(DOCUMENT, ref)
    assert str(caught.value) == message
    assert isinstance(caught.value, DescriptionError)


def test_resolve_pointer_names_a_bare_fragment() -> None:
    with pytest.raises(RefError) as caught:
        resolve_pointer(DOCUMENT, "/nope")
    assert str(caught.value) == "$ref '#/nope' does not resolve (no 'nope')"


def test_deref_follows_a_chain_and_keeps_its_holders() -> None:
    start = {"$ref": "#/components/schemas/AliasOfAlias"}
    target, holders = ref_chain(DOCUMENT, start)
    assert target == {"type": "string"}
    assert [h["$ref"] for h in holders] == [
        "#/components/schemas/AliasOfAlias",
        "#/components/schemas/Alias",
        "#/components/schemas/a~1b",
    ]
    assert deref(DOCUMENT, start) == {"type": "string"}
    assert deref(DOCUMENT, {"type": "object"}) == {"type": "object"}
    assert deref(DOCUMENT, None) is None


@pytest.mark.parametrize("name", ["Loop1", "Self"])
def test_a_ref_cycle_is_an_error_not_a_hang(name: str) -> None:
    with pytest.raises(RefError) as caught:
        deref(DOCUMENT, {"$ref": f"#/components/schemas/{name}"})
    assert str(caught.value) == f"$ref chain too long or circular at '#/components/schemas/{name}'"


def test_ref_name_is_the_last_token_unescaped() -> None:
    assert ref_name("#/components/schemas/a~1b") == "a/b"
    assert ref_name("#/components/schemas/m~0n") == "m~n"
    assert ref_name("#/components/schemas/X/") == "X"
    assert ref_name("#") is None
    assert ref_name(None) is None
