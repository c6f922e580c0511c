"""A request enum replaced by a pattern: a widening when every former value matches, else breaking.

The case that made the rule: `model` went from a closed list of ids to the pattern of their
form, so the API can add models without the description refusing them.
"""

from __future__ import annotations

import pytest

from harness.specdiff.rules import show
from tests.specdiff._pairs import CHAT, Doc, api, facts, mutated, prop, real, run
from tests.specdiff._rule_changes import STRING

PATTERN = "^vlmrun-orion-[0-9]+(:[a-z0-9][a-z0-9._-]*)?$"


def _model(doc: Doc) -> Doc:
    return prop(doc, "ChatCompletionRequest", "model")


def _closed(doc: Doc) -> None:
    """The description as it was: the ids now given as `examples` were the `enum`, with no pattern."""
    model = _model(doc)
    model["enum"] = model.pop("examples")
    del model["pattern"]


def test_the_packaged_model_field_is_the_pattern_with_the_former_ids_as_examples() -> None:
    model = _model(real())
    assert (model["type"], model["pattern"], model["default"]) == ("string", PATTERN, "vlmrun-orion-1:auto")
    assert "enum" not in model
    assert len(model["examples"]) == 8


def test_the_closed_list_replaced_by_the_pattern_is_one_info_finding() -> None:
    changes = run(mutated(_closed), real())
    assert [(c.id, c.level.name, c.operation, c.path, c.text) for c in changes] == [
        (
            "request-property-enum-replaced-by-pattern",
            "INFO",
            CHAT,
            "request body: model",
            f"the request property 'model' was widened from a list of enum values to the pattern '{PATTERN}', "
            "which every former value matches",
        )
    ]
    assert not changes[0].breaking


def test_a_pattern_that_rejects_a_former_id_is_breaking_naming_the_first_one() -> None:
    narrow = "^vlmrun-orion-1(:[a-z]+)?$"
    changes = run(mutated(_closed), mutated(lambda d: _model(d).update(pattern=narrow)))
    assert [(c.id, c.level.name, c.operation, c.path, c.text) for c in changes] == [
        (
            "request-property-enum-value-rejected-by-pattern",
            "ERR",
            CHAT,
            "request body: model",
            f"the request property 'model' was changed from a list of enum values to the pattern '{narrow}', "
            "which rejects the former value 'vlmrun-orion-2:auto'",
        )
    ]
    assert changes[0].breaking


def test_going_back_to_the_closed_list_is_breaking() -> None:
    assert facts(run(real(), mutated(_closed))) == {
        ("request-property-became-enum", "ERR", CHAT, "request body: model"),
        ("request-property-pattern-removed", "INFO", CHAT, "request body: model"),
    }


def _request(old: Doc, new: Doc) -> list[tuple[str, str, str]]:
    return [(c.id, c.level.name, c.text) for c in run(api(request=old), api(request=new))]


def test_patterns_are_judged_as_the_validator_judges_them_ecma_262() -> None:
    """`\\d` is ASCII in ECMA-262 (jsonschema-rs, which judges requests), Unicode in Python's `re`."""
    assert _request({**STRING, "enum": ["1", "١"]}, {**STRING, "pattern": "^\\d$"}) == [
        (
            "request-property-enum-value-rejected-by-pattern",
            "ERR",
            "the request body was changed from a list of enum values to the pattern '^\\d$', "
            "which rejects the former value '١'",
        )
    ]


def test_values_a_pattern_does_not_apply_to_pass_it() -> None:
    """A pattern constrains strings only: a former number or null is still allowed."""
    old = {"type": ["string", "integer", "null"], "enum": ["a", 1, None]}
    new = {"type": ["string", "integer", "null"], "pattern": "^a$"}
    assert [i for i, _, _ in _request(old, new)] == ["request-property-enum-replaced-by-pattern"]


@pytest.mark.parametrize("pattern", ["([", 5])
def test_a_pattern_the_validator_cannot_run_proves_nothing_and_stays_breaking(pattern: object) -> None:
    assert _request({**STRING, "enum": ["a"]}, {**STRING, "pattern": pattern}) == [
        ("request-property-pattern-added", "ERR", f"added the pattern {show(pattern)} to the request body")
    ]


def test_an_enum_kept_beside_the_new_pattern_is_the_pattern_added() -> None:
    """The enum still applies, so only the pattern's own addition is reported, as before."""
    old = {**STRING, "enum": ["a", "b"]}
    assert [i for i, _, _ in _request(old, {**old, "pattern": "^[ab]$"})] == ["request-property-pattern-added"]


def test_in_a_response_the_server_may_now_send_other_values() -> None:
    old, new = {**STRING, "enum": ["a"]}, {**STRING, "pattern": "^[a-z]$"}
    changes = run(api(response=old), api(response=new))
    assert [(c.id, c.level.name) for c in changes] == [
        ("response-property-enum-removed", "WARN"),
        ("response-property-pattern-added", "INFO"),
    ]
