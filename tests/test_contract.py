from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.contract import Contract, default_description_path, load_contract
from harness.docs_examples import WIRE_FORMS, seed_examples
from harness.errors import DescriptionError


def test_description_is_valid_openapi_3_1() -> None:
    contract = load_contract()
    contract.check()
    assert contract.document["openapi"] == "3.1.0"
    assert len(contract.sha256) == 64


def test_every_request_example_validates() -> None:
    contract = load_contract()
    checked = 0
    for path, item in contract.document["paths"].items():
        for op in item.values():
            media = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = media.get("schema", {}).get("$ref", "")
            for name, example in media.get("examples", {}).items():
                assert contract.violations(ref.rsplit("/", 1)[1], example["value"]) == [], (path, name)
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize("form", sorted(WIRE_FORMS))
@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_every_wire_form_of_every_seed_example_validates(form: str, example: Any) -> None:
    body = {
        "model": "vlmrun-orion-1:auto",
        "messages": example.messages,
        "skills": [WIRE_FORMS[form](s) for s in example.skills],
    }
    assert load_contract().violations("ChatCompletionRequest", body) == []


def _body(skill: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "hi"}], "skills": [skill]}


@pytest.mark.parametrize(
    ("skill", "loc", "kind"),
    [
        ({}, ("skills", 0), "missing"),
        ({"skill_nam": "x"}, ("skills", 0, "skill_nam"), "extra_forbidden"),
        ({"type": "inlne", "skill_name": "x"}, ("skills", 0, "type"), "union_tag_invalid"),
        ({"type": "inline"}, ("skills", 0), "missing"),
        ({"type": "inline", "skill_name": "x", "source": {"data": "AA=="}}, ("skills", 0, "skill_name"), "type_error"),
        (
            {"type": "inline", "source": {"data": "AA==", "media_type": "application/gzip"}},
            ("skills", 0, "source", "media_type"),
            "literal_error",
        ),
        ({"type": "inline", "source": {}}, ("skills", 0, "source", "data"), "missing"),
        ({"skill_name": ""}, ("skills", 0, "skill_name"), "string_too_short"),
        ({"skill_name": 5}, ("skills", 0, "skill_name"), "type_error"),
    ],
)
def test_violations_name_the_field(skill: Any, loc: tuple[Any, ...], kind: str) -> None:
    found = load_contract().violations("ChatCompletionRequest", _body(skill))
    assert (loc, kind) in [(v.loc, v.type) for v in found], found


def test_violation_messages_read_like_fastapi_details() -> None:
    [violation] = load_contract().violations("ChatCompletionRequest", _body({}))
    assert violation.as_detail() == {
        "loc": ["body", "skills", 0],
        "msg": "Provide at least one of 'skill_id' or 'skill_name'",
        "type": "missing",
    }
    assert violation.path == "skills[0]"


def test_missing_description_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DescriptionError, match=r"missing\.yaml"):
        Contract.from_path(tmp_path / "missing.yaml")


def test_broken_yaml_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [3.1\n")
    with pytest.raises(DescriptionError, match=r"bad\.yaml is not valid YAML"):
        Contract.from_path(bad)


def test_invalid_openapi_names_the_location(tmp_path: Path) -> None:
    text = default_description_path().read_text().replace("operationId: getHealth", "operationId: 12")
    bad = tmp_path / "desc.yaml"
    bad.write_text(text)
    with pytest.raises(DescriptionError, match=r"desc\.yaml is invalid at"):
        Contract.from_path(bad).check()


def test_unknown_schema_is_a_description_error() -> None:
    with pytest.raises(DescriptionError, match="no schema 'Nope'"):
        load_contract().validator("Nope")


def test_the_contract_is_the_openapi_layer_plus_its_source() -> None:
    """Other modules import these names from `harness.contract`; what they mean lives in `harness.openapi`."""
    from harness import contract
    from harness.openapi import validation, violations
    from harness.openapi.document import OpenAPIDocument

    assert issubclass(contract.Contract, OpenAPIDocument)
    assert (contract.Violation, contract.Loc) == (violations.Violation, violations.Loc)
    assert contract.unicode_violations is violations.unicode_violations
    assert contract.OPENAPI_FORMATS is validation.OPENAPI_FORMATS
    assert contract.default_description_path().name == contract.DESCRIPTION_FILENAME


def test_unquoted_status_codes_are_read_as_the_strings_openapi_means() -> None:
    """YAML reads `200:` as an integer; responses, lookups and overlay targets all use `'200'`."""
    from harness.contract import Contract

    raw = (
        b"openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents: {}\npaths:\n  /x:\n    get:\n"
        b"      responses:\n        200: {description: ok}\n        4XX: {description: no}\n"
    )
    contract = Contract.from_bytes(raw, source="t.yaml")
    assert list(contract.document["paths"]["/x"]["get"]["responses"]) == ["200", "4XX"]
