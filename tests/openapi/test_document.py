"""One description object: references, the validator cache, violations, operations, event data."""

from __future__ import annotations

from typing import Any

import pytest

from harness.contract import Contract, load_contract
from harness.errors import DescriptionError
from harness.openapi.pointer import RefError
from harness.openapi.validation import component_ref
from tests.openapi._description import small_contract


@pytest.fixture
def contract() -> Contract:
    return small_contract()


def test_component_names_are_escaped_and_unescaped(contract: Contract) -> None:
    assert component_ref("a/b") == {"$ref": "#/components/schemas/a~1b"}
    assert contract.resolve("#/components/schemas/a~1b") == contract.schema("a/b")
    assert contract.is_valid("a/b", {"queued": True})
    assert not contract.is_valid("a/b", {"queued": "yes"})


def test_one_validator_cache_for_component_and_inline_schemas(contract: Contract) -> None:
    assert contract.validator("Thing") is contract.validator_for({"$ref": "#/components/schemas/Thing"})
    inline = {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}
    assert contract.validator_for(inline) is contract.validator_for(dict(inline))


def test_a_ref_cycle_in_a_description_names_it(contract: Contract) -> None:
    with pytest.raises(RefError) as caught:
        contract.deref({"$ref": "#/components/schemas/Loop"})
    assert str(caught.value) == (
        "API description small.yaml: $ref chain too long or circular at '#/components/schemas/Loop'"
    )
    with pytest.raises(DescriptionError, match=r"^API description small\.yaml: \$ref '#/nope' does not resolve"):
        contract.resolve("#/nope")


def test_an_enum_violation_carries_the_value_and_every_allowed_one(contract: Contract) -> None:
    [violation] = contract.violations("Thing", {"id": "t", "colour": "mauve"})
    assert violation.type == "enum"
    assert violation.msg == '"mauve" is not one of "red", "green", "blue", "cyan", "magenta"'
    assert (violation.input, violation.allowed) == ("mauve", ("red", "green", "blue", "cyan", "magenta"))
    assert violation.as_detail() == {"loc": ["body", "colour"], "msg": violation.msg, "type": "enum"}


def test_inline_schemas_are_worded_like_components(contract: Contract) -> None:
    schema = {"type": "object", "required": ["thing"], "properties": {"thing": {"$ref": "#/components/schemas/Thing"}}}
    found = contract.schema_violations(schema, {"thing": {"id": 1}})
    assert [(v.path, v.msg, v.type) for v in found] == [
        ("thing.colour", "Field required: add 'colour'", "missing"),
        ("thing.id", '1 is not of type "string"', "type_error"),
    ]
    assert [v.msg for v in contract.schema_violations(schema, {})] == ["Field required: add 'thing'"]


def test_lone_surrogates_are_violations_not_a_crash(contract: Contract) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": "^t"}}}
    [violation] = contract.schema_violations(schema, {"id": "\ud800"})
    assert (violation.path, violation.type) == ("id", "string_unicode")


def test_parameters_merge_path_item_and_operation_by_name_and_place(contract: Contract) -> None:
    op = contract.operation("GET", "/things/{thing_id}")
    params = {(p["name"], p["in"]): p["schema"] for p in contract.parameters("/things/{thing_id}", op)}
    assert params == {("thing_id", "path"): {"type": "integer"}, ("verbose", "query"): {"type": "boolean"}}


@pytest.mark.parametrize(
    ("status", "key", "schema"),
    [(200, "200", "Thing"), (202, "2XX", "a~1b"), (500, "default", "Problem"), (404, "default", "Problem")],
)
def test_responses_resolve_exact_then_range_then_default(
    contract: Contract, status: int, key: str, schema: str
) -> None:
    op = contract.operation("GET", "/things/{thing_id}")
    found = contract.response(op, status)
    assert found is not None
    assert found[0] == key
    assert found[1]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{schema}"}


def test_an_undocumented_operation_is_a_description_error(contract: Contract) -> None:
    with pytest.raises(
        DescriptionError, match=r"^API description small\.yaml has no operation POST /things/\{thing_id\}$"
    ):
        contract.operation("post", "/things/{thing_id}")


def test_event_data_schema_of_the_packaged_stream() -> None:
    contract = load_contract()
    event: dict[str, Any] = {"$ref": "#/components/schemas/ChatCompletionEvent"}
    assert contract.event_data_schema(event, '{"id": "c"}') == {"$ref": "#/components/schemas/ChatCompletionChunk"}
    assert contract.event_data_schema(event, "[DONE]") is None
    assert contract.event_data_schema(event, 5) is None
    assert contract.event_data_schema({"type": "object"}, "{}") is None
