"""Drift walks the response the description documents for a status: exact, `2XX`, then `default`."""

from __future__ import annotations

import json
from typing import Any

from harness.recording.conformance import check_interaction
from harness.recording.drift import FieldUse, record_response
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse
from tests.openapi._description import small_contract

JSON = {"content-type": ["application/json"]}


def _get(status: int, body: Any, path: str = "/things/7") -> Interaction:
    return Interaction(
        RecordedRequest("GET", f"https://api.example{path}", {}, b""),
        RecordedResponse(status, "", JSON, json.dumps(body).encode()),
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
