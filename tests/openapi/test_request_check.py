from __future__ import annotations

from harness.contract import load_contract
from harness.openapi.request_check import operation_of
from harness.openapi.violations import Violation


def test_a_documented_operation_is_found_with_its_template() -> None:
    found = operation_of(load_contract(), "get", "/v1/skills/abc")
    assert not isinstance(found, Violation)
    matched, op = found
    assert (matched.template, matched.path_params) == ("/v1/skills/{skill_id}", {"skill_id": "abc"})
    assert op is load_contract().path_item("/v1/skills/{skill_id}")["get"]


def test_an_undocumented_operation_names_the_methods_its_path_documents() -> None:
    assert operation_of(load_contract(), "DELETE", "/v1/skills/abc") == Violation(
        ("path",),
        "DELETE /v1/skills/abc is not a documented operation (documented: GET /v1/skills/{skill_id})",
        "undocumented",
    )
    assert operation_of(load_contract(), "POST", "/v1/nowhere") == Violation(
        ("path",), "POST /v1/nowhere is not a documented operation", "undocumented"
    )
