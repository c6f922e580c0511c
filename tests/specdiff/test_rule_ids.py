"""Every rule id the engine can emit fires alone, at its level, with its whole message.

The table is `rule_ids.yaml`, one row per id, each with the smallest pair of descriptions
that makes the engine emit that id and nothing else. Every id in the catalogue can be
emitted (ids nothing emits are removed, not kept), and an emit site naming an id outside the
catalogue fails in `make_change`; so the catalogue is the set the engine can emit, and a
rule added without a row fails here. Each row also runs its emit site's message fields
against its template: a field the site did not pass raises instead of printing "".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.specdiff import RULES, diff_documents
from harness.specdiff.rules import make_change
from harness.specdiff.sites import Sink, Site
from harness.yaml_load import load_yaml
from tests.specdiff._pairs import OP
from tests.specdiff._rule_changes import EDITED, PLACED, PLACES, docs

_TABLE: dict[str, list[list[str]]] = load_yaml(Path(__file__).with_name("rule_ids.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Row:
    id: str
    level: str
    change: str
    path: str
    text: str
    operation: str = OP

    def expected(self) -> list[tuple[str, str, str, str, str]]:
        return [(self.id, self.level, self.operation, self.path, self.text)]


ROWS = [Row(*row) for row in _TABLE["rules"]]
FALLBACKS = [Row(*row) for row in _TABLE["fallbacks"]]


def _emitted(row: Row) -> list[tuple[str, str, str, str, str]]:
    old, new = docs(row.change, row.path)
    return [(c.id, c.level.name, c.operation, c.path, c.text) for c in diff_documents(old, new)]


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_the_rule_fires_alone_at_its_level_with_its_message(row: Row) -> None:
    assert _emitted(row) == row.expected()


@pytest.mark.parametrize("row", FALLBACKS, ids=lambda row: f"{row.id} at {row.path}")
def test_a_subject_without_its_own_id_reports_under_the_property_rule(row: Row) -> None:
    assert _emitted(row) == row.expected()


def test_the_table_has_one_row_for_each_rule_the_engine_can_emit() -> None:
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), "an id has two rows"
    assert set(ids) == set(RULES)


def test_the_table_levels_are_the_catalogue_levels() -> None:
    assert {row.id: row.level for row in ROWS} == {rule_id: rule.level.name for rule_id, rule in RULES.items()}


def test_every_named_edit_is_used_and_every_place_exists() -> None:
    used = {row.change for row in (*ROWS, *FALLBACKS)}
    assert used == PLACED.keys() | EDITED.keys()
    assert {row.path for row in (*ROWS, *FALLBACKS) if row.change in PLACED} <= PLACES.keys()


# What a site can tell a message (`Site.message_fields`) and what checks add (old, new, value, media).
_FIELDS = {"subject", "prop", "status", "status_code", "param_in", "param", "old", "new", "value", "media"}


def test_every_template_asks_only_for_fields_an_emit_site_can_pass() -> None:
    assert set().union(*(rule.fields for rule in RULES.values())) <= _FIELDS


def _make(rule_id: str, **fields: Any) -> Any:
    return make_change(rule_id, operation=OP, path="request body", json_path="", direction="request", **fields)


def test_a_template_field_the_caller_did_not_pass_fails_loudly() -> None:
    with pytest.raises(TypeError) as raised:
        _make("request-property-pattern-changed", subject="the request body", new="'^b'")
    assert str(raised.value) == "rule 'request-property-pattern-changed' needs the message field(s) old"


def test_a_property_rule_at_a_place_with_no_property_fails_loudly() -> None:
    """The old formatting printed "removed the request property " here."""
    with pytest.raises(TypeError) as raised:
        Sink().rule("request-property-removed", Site("request", OP, "request body", "body"))
    assert str(raised.value) == "rule 'request-property-removed' needs the message field(s) prop"


def test_a_site_passes_only_what_it_knows() -> None:
    endpoint = Site("request", OP, "endpoint", "endpoint")
    parameter = Site("request", OP, "query: p", "parameter", param_in="query", param="p")
    response = Site("response", OP, "response 200 application/json", "body", status="200")
    assert endpoint.message_fields() == {}
    assert parameter.message_fields() == {
        "subject": "the query request parameter 'p'",
        "param_in": "query",
        "param": "'p'",
    }
    assert response.child("x").message_fields() == {
        "subject": "the response property 'x'",
        "prop": "'x'",
        "status": " for the status 200",
        "status_code": "'200'",
    }


_ENUM_TO_PATTERN = ("enum-replaced-by-pattern", "enum-value-rejected-by-pattern")


def test_ids_of_our_own_are_marked() -> None:
    """Ids oasdiff does not define are flagged, so a report can say which are ours."""
    from harness.specdiff.rules import RULES

    ours = sorted(rule_id for rule_id, rule in RULES.items() if rule.ours)
    assert ours == sorted(
        [
            *(
                f"{d}-{s}-{suffix}"
                for d in ("request", "response")
                for s in ("body", "property")
                for suffix in ("additional-properties-disallowed", "additional-properties-allowed")
            ),
            "response-property-enum-removed",
            *(f"request-{s}-{suffix}" for s in ("property", "parameter") for suffix in _ENUM_TO_PATTERN),
            "request-body-max-items-set",
            "request-body-max-items-decreased",
            "request-body-max-items-increased",
            "request-property-max-items-set",
            "request-property-max-items-decreased",
            "request-property-max-items-increased",
            "request-property-min-items-decreased",
            "response-body-max-items-increased",
            "response-property-max-items-increased",
        ]
    )
