"""Drift walks the response the description documents for a status: exact, `2XX`, then `default`,
and notes each gap against the node of the description that would describe it."""

from __future__ import annotations

import json
from typing import Any

from harness.contract import Contract
from harness.recording.conformance import check_interaction
from harness.recording.drift import FieldUse, record_response
from harness.recording.gaps import Gaps, note_enum
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse
from tests.openapi._description import small_contract

JSON = {"content-type": ["application/json"]}


def _get(status: int, body: Any, path: str = "/things/7", headers: dict[str, list[str]] | None = None) -> Interaction:
    return Interaction(
        RecordedRequest("GET", f"https://api.example{path}", {}, b""),
        RecordedResponse(status, "", {**JSON, **(headers or {})}, json.dumps(body).encode()),
    )


def test_statuses_resolve_through_ranges_and_default_as_conformance_does() -> None:
    contract = small_contract()
    exchanges = [
        (_get(200, {"id": "t", "colour": "red", "shade": 3}), "GET /things/{thing_id} 200 application/json"),
        (_get(202, {"queued": True, "eta": 5}), "GET /things/{thing_id} 2XX application/json"),
        (_get(503, {"detail": "busy", "retry": 1}), "GET /things/{thing_id} default application/json"),
        (_get(404, {"detail": "gone"}), "GET /things/{thing_id} default application/json"),
    ]
    uses: dict[str, FieldUse] = {}
    for index, (exchange, _) in enumerate(exchanges):
        assert check_interaction(exchange, contract) == []
        record_response(contract, exchange, f"c.yaml#{index}", uses)
    assert sorted(uses) == sorted({kind for _, kind in exchanges})
    assert uses["GET /things/{thing_id} 200 application/json"].undeclared == {"shade": "c.yaml#0"}
    assert uses["GET /things/{thing_id} 2XX application/json"].undeclared == {"eta": "c.yaml#1"}
    assert uses["GET /things/{thing_id} 2XX application/json"].declared == {"queued"}
    assert uses["GET /things/{thing_id} default application/json"].undeclared == {"retry": "c.yaml#2"}
    assert uses["GET /things/{thing_id} default application/json"].seen == {"detail": "c.yaml#2"}


def test_undocumented_operations_are_left_to_conformance() -> None:
    contract = small_contract()
    uses: dict[str, FieldUse] = {}
    record_response(contract, _get(200, {}, path="/elsewhere"), "c.yaml#0", uses)
    post = Interaction(RecordedRequest("POST", "https://api.example/things/7"), RecordedResponse(200, "", JSON, b"{}"))
    record_response(contract, post, "c.yaml#1", uses)
    assert uses == {}


def test_parameters_of_the_operation_override_the_path_items() -> None:
    [finding] = check_interaction(_get(200, {"id": "t", "colour": "red"}, path="/things/seven"), small_contract())
    assert str(finding) == "request path.thing_id: Expected an integer, got 'seven' [schema]"


def _gaps(contract: Contract, *exchanges: Interaction) -> tuple[dict[str, FieldUse], Gaps]:
    uses: dict[str, FieldUse] = {}
    gaps = Gaps()
    for index, exchange in enumerate(exchanges):
        record_response(contract, exchange, f"c.yaml#{index}", uses, gaps=gaps)
    return uses, gaps


def test_gaps_name_the_component_a_reference_leads_to() -> None:
    """Through `responses: {200: {$ref: …}}` and escaped component names (`a/b` is `a~1b`)."""
    contract = small_contract()
    _, gaps = _gaps(
        contract,
        _get(200, {"id": "t", "colour": "red", "shade": 3, "tags": [{"k": "v"}]}),
        _get(202, {"queued": True, "eta": None}),
        _get(202, {"queued": False, "eta": 5}),
    )
    found = {key: (seen.where, seen.shape.schema()) for key, seen in gaps.properties.items()}
    assert found == {
        ("#/components/schemas/Thing", "shade"): ("c.yaml#0", {"type": "integer"}),
        ("#/components/schemas/Thing", "tags"): (
            "c.yaml#0",
            {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
        ),
        ("#/components/schemas/a~1b", "eta"): ("c.yaml#1", {"type": ["integer", "null"]}),
    }


def test_headers_neither_http_nor_the_description_defines_are_drift() -> None:
    contract = small_contract()
    contract.document["components"]["responses"]["Thing"]["headers"] = {"X-Described": {"schema": {"type": "string"}}}
    headers = {
        "x-described": ["1"],  # described, in another case
        "Date": ["Tue, 24 Nov 2026 17:58:49 GMT"],
        "cf-ray": ["8f0c"],
        "access-control-allow-origin": ["*"],
        "x-harness-reference-server": ["vlmrun-skills-harness reference server"],
        "X-Request-Id": ["r-1"],
    }
    uses, gaps = _gaps(contract, _get(200, {"id": "t", "colour": "red"}, headers=headers))
    assert uses["GET /things/{thing_id} 200 application/json"].headers == {"x-request-id": "c.yaml#0"}
    assert gaps.headers == {("#/components/responses/Thing", "x-request-id"): "c.yaml#0"}


def test_a_bodiless_response_is_checked_for_headers_only() -> None:
    contract = small_contract()
    contract.document["components"]["responses"]["Thing"].pop("content")
    exchange = _get(200, {}, headers={"etag": ["x"]})
    quiet = Interaction(exchange.request, RecordedResponse(200, "", {"etag": ["x"]}, b""))
    assert _gaps(contract, quiet)[0] == {}
    loud = Interaction(exchange.request, RecordedResponse(200, "", {"x-trace": ["t"]}, b""))
    uses, gaps = _gaps(contract, loud)
    assert {kind: use.headers for kind, use in uses.items()} == {"GET /things/{thing_id} 200": {"x-trace": "c.yaml#0"}}
    assert gaps.headers == {("#/components/responses/Thing", "x-trace"): "c.yaml#0"}


def test_an_enum_value_is_noted_against_the_schema_holding_the_enum() -> None:
    contract = small_contract()
    exchange = _get(200, {"id": "t", "colour": "purple"})
    [finding] = check_interaction(exchange, contract)
    gaps = Gaps()
    note_enum(gaps, contract, exchange, finding, "c.yaml#0")
    assert gaps.enums == {("#/components/schemas/Thing/properties/colour", '"purple"'): ("purple", "c.yaml#0")}
