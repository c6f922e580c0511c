"""`harness verify` proposes an overlay: what cassettes show and the description lacks, as Overlay 1.0 actions."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.contract import Contract, DescriptionChoice, default_description_path, load_contract
from harness.errors import UsageError
from harness.openapi.overlay import apply_overlay
from harness.recording.cassette_io import save_interactions
from harness.recording.overlay_proposal import propose_overlay, render, write_overlay
from harness.recording.schema_nodes import jsonpath
from harness.recording.shapes import infer_schema
from harness.recording.verify import format_result, verify
from harness.specdiff import diff_documents
from harness.yaml_load import load_yaml
from tests.recording._cassettes import COMPLETION, JSON, SSE, compact, completion_request, interaction, stream

SCENARIO_CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
CHUNK: dict[str, Any] = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1767225600,
    "model": "vlmrun-orion-1:auto",
    "choices": [{"index": 0, "delta": {"content": "Done."}, "finish_reason": None}],
}
REQUEST = completion_request({"skill_name": "invoice-extraction"})


@pytest.fixture(scope="module")
def packaged() -> Contract:
    return load_contract(str(default_description_path()))


def _completion(**extra: Any) -> dict[str, Any]:
    body = copy.deepcopy(COMPLETION)
    choice = extra.pop("choice", {})
    body["choices"][0].update(choice)
    return {**body, **extra}


def drifted_cassettes(tmp_path: Path) -> Path:
    """Two cassettes: a field, a header and an enum value the description lacks on 200, a field in a
    stream chunk, and a status it does not document (with a header of its own)."""
    first = _completion(x_vendor_trace={"steps": 3, "region": None}, choice={"logprobs": None})
    first["choices"][0]["finish_reason"] = "paused_by_policy"
    headers = {**JSON, "x-request-id": ["req-1"], "date": ["Tue, 24 Nov 2026 17:58:49 GMT"], "server": ["uvicorn"]}
    folder = tmp_path / "cassettes"
    save_interactions(
        folder / "chat.yaml",
        [
            interaction(REQUEST, compact(first).encode(), response_headers=headers),
            interaction(REQUEST, compact(_completion(x_vendor_trace={"steps": 4.5})).encode()),
            interaction(
                {**REQUEST, "stream": True}, stream([{**CHUNK, "service_tier": "default"}]), response_headers=SSE
            ),
        ],
    )
    limited = compact({"detail": "Slow down", "retry_after": 2}).encode()
    save_interactions(
        folder / "limits.yaml",
        [interaction(REQUEST, limited, status=429, response_headers={**JSON, "retry-after": ["2"]})],
    )
    return folder


PROPOSAL = """\
# Proposed by `harness verify --propose-overlay`: what recorded traffic shows and the API description lacks.
# Review every action before using this file as an overlay (`overlays` in [tool.vlmrun-harness], or
# --vlmrun-overlay); list it after the overlays in use when it was proposed, since its targets point
# into the description with them applied. Types come from the recorded values; nothing is required.
# While this file is unchanged, the next proposal may replace it; once edited, it is never overwritten.
# proposal-sha256: 63ff4e81cbd2439ee2c3e4895aaa5cd2bf21f35b0b76c4c52e1991ef53b96ef5
overlay: 1.0.0
info:
  title: Corrections proposed by harness verify from recorded traffic
  version: 1.0.0
actions:
- target: $.components.schemas.ChatCompletion
  description: 'Response fields seen in recorded traffic: x_vendor_trace (chat.yaml#0)'
  update:
    properties:
      x_vendor_trace:
        type: object
        properties:
          region:
            type: 'null'
          steps:
            type: number
- target: $.components.schemas.ChatCompletionChunk
  description: 'Response fields seen in recorded traffic: service_tier (chat.yaml#2)'
  update:
    properties:
      service_tier:
        type: string
- target: $.components.schemas.Choice
  description: 'Response fields seen in recorded traffic: logprobs (chat.yaml#0)'
  update:
    properties:
      logprobs:
        type: 'null'
- target: $.components.schemas.Choice.properties.finish_reason
  description: 'Enum values seen in recorded traffic: "paused_by_policy" (chat.yaml#0)'
  update:
    enum:
    - paused_by_policy
- target: $.paths['/v1/openai/chat/completions'].post
  description: 'Statuses seen in recorded traffic: 429 (limits.yaml#0)'
  update:
    responses:
      '429':
        description: Proposed by `harness verify` from recorded traffic (limits.yaml#0).
        headers:
          retry-after:
            schema:
              type: string
        content:
          application/json:
            schema:
              type: object
              properties:
                detail:
                  type: string
                retry_after:
                  type: integer
- target: $.paths['/v1/openai/chat/completions'].post.responses['200']
  description: 'Response headers seen in recorded traffic: x-request-id (chat.yaml#0)'
  update:
    headers:
      x-request-id:
        schema:
          type: string
"""


def test_the_proposal_adds_each_kind_of_drift_at_the_node_that_owns_it(tmp_path: Path, packaged: Contract) -> None:
    """`$ref`s are followed to components; one action per node and kind; values merged across
    interactions (an integer and a fraction make a number); HTTP's own headers are not drift."""
    result = verify([drifted_cassettes(tmp_path)], packaged)
    assert result.failed
    overlay = propose_overlay(result, packaged)
    assert overlay is not None
    assert render(overlay) == PROPOSAL
    write_overlay(tmp_path / "proposal.yaml", overlay)
    assert (tmp_path / "proposal.yaml").read_text() == PROPOSAL
    assert load_yaml(PROPOSAL) == overlay


def test_applying_the_proposal_leaves_no_drift(tmp_path: Path, packaged: Contract) -> None:
    folder = drifted_cassettes(tmp_path)
    overlay = propose_overlay(verify([folder], packaged), packaged)
    assert overlay is not None
    write_overlay(tmp_path / "proposal.yaml", overlay)
    corrected = DescriptionChoice(None, (tmp_path / "proposal.yaml",)).load()  # as `overlays = [...]` loads it
    again = verify([folder], corrected)
    assert not again.failed
    assert not again.gaps
    assert (again.findings, again.undescribed, again.enums) == ([], [], {})
    report = [line for line in format_result(again).splitlines() if not line.startswith("note: ")]
    assert report == ["2 cassette(s), 4 interaction(s) checked against the description"]
    assert propose_overlay(again, corrected) is None


def test_the_description_diff_shows_exactly_the_additions(tmp_path: Path, packaged: Contract) -> None:
    """Headers are added too, but the description diff compares no response headers. A new enum
    value in a response is what clients must be told about, and the diff says so. `ChatCompletion`
    answers both the completions POST (200) and its poll (GET, 200 and 201): one proposed action
    changes each of those responses, and the diff reports each one."""
    overlay = propose_overlay(verify([drifted_cassettes(tmp_path)], packaged), packaged)
    changes = diff_documents(packaged.document, apply_overlay(packaged.document, overlay, source="proposal.yaml"))
    post, poll = "POST /v1/openai/chat/completions", "GET /v1/openai/chat/completions"
    added, enum = "response-optional-property-added", "response-property-enum-value-added"
    assert sorted((c.id, c.operation, c.path) for c in changes) == [
        ("response-non-success-status-added", post, "response 429"),
        (added, poll, "response 200 application/json: choices[*].logprobs"),
        (added, poll, "response 200 application/json: x_vendor_trace"),
        (added, poll, "response 201 application/json: choices[*].logprobs"),
        (added, poll, "response 201 application/json: x_vendor_trace"),
        (added, post, "response 200 application/json: choices[*].logprobs"),
        (added, post, "response 200 application/json: x_vendor_trace"),
        (added, post, "response 200 text/event-stream: data.service_tier"),
        (enum, poll, "response 200 application/json: choices[*].finish_reason"),
        (enum, poll, "response 201 application/json: choices[*].finish_reason"),
        (enum, post, "response 200 application/json: choices[*].finish_reason"),
    ]
    assert sorted((c.operation, c.path) for c in changes if c.breaking) == [  # clients meet a new value
        (poll, "response 200 application/json: choices[*].finish_reason"),
        (poll, "response 201 application/json: choices[*].finish_reason"),
        (post, "response 200 application/json: choices[*].finish_reason"),
    ]
    assert {(c.id, c.json_path) for c in changes} == {
        ("response-non-success-status-added", ""),
        (added, "choices[*].logprobs"),
        (added, "data.service_tier"),
        (added, "x_vendor_trace"),
        (enum, "choices[*].finish_reason"),
    }


def test_no_drift_proposes_nothing(packaged: Contract) -> None:
    result = verify([SCENARIO_CASSETTES], packaged)
    assert (result.files, result.interactions) == (28, 50)
    assert propose_overlay(result, packaged) is None


def test_enum_values_are_added_where_the_description_keeps_them(tmp_path: Path, packaged: Contract) -> None:
    """A query parameter's schema, an inline schema inside a stream chunk's component; one action
    per enum, its values merged and sorted across interactions."""
    chunk = copy.deepcopy(CHUNK)
    chunk["choices"][0]["finish_reason"] = "paused"
    other = copy.deepcopy(CHUNK)
    other["choices"][0]["finish_reason"] = "moderated"
    skills = "http://127.0.0.1:43125/v1/skills"
    save_interactions(
        tmp_path / "cassettes" / "enums.yaml",
        [
            interaction(None, b"[]", method="GET", uri=f"{skills}?order_by=size"),
            interaction({**REQUEST, "stream": True}, stream([chunk, other]), response_headers=SSE),
        ],
    )
    overlay = propose_overlay(verify([tmp_path / "cassettes"], packaged), packaged)
    assert overlay is not None
    assert [(a["target"], a["description"], a["update"]) for a in overlay["actions"]] == [
        (
            "$.components.schemas.ChatCompletionChunk.properties.choices.items.properties.finish_reason",
            'Enum values seen in recorded traffic: "moderated" (enums.yaml#1), "paused" (enums.yaml#1)',
            {"enum": ["moderated", "paused"]},
        ),
        (
            "$.paths['/v1/skills'].get.parameters[2].schema",
            'Enum values seen in recorded traffic: "size" (enums.yaml#0)',
            {"enum": ["size"]},
        ),
    ]
    corrected = Contract(apply_overlay(packaged.document, overlay, source="p.yaml"), source="p", sha256="0" * 64)
    assert not verify([tmp_path / "cassettes"], corrected).failed


# -- the file --------------------------------------------------------------------------------------


def _overlay(title: str = "x") -> dict[str, Any]:
    return {"overlay": "1.0.0", "info": {"title": title, "version": "1"}, "actions": [{"target": "$", "remove": True}]}


def test_an_unchanged_earlier_proposal_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "proposal.yaml"
    write_overlay(path, _overlay("first"))
    write_overlay(path, _overlay("second"))
    assert load_yaml(path.read_text())["info"]["title"] == "second"


def test_an_edited_proposal_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "proposal.yaml"
    write_overlay(path, _overlay())
    edited = path.read_text().replace("title: x", "title: reviewed")
    path.write_text(edited)
    with pytest.raises(UsageError) as raised:
        write_overlay(path, _overlay("second"))
    assert str(raised.value) == (
        f"Overlay proposal not written: {path} is an earlier proposal edited since, and edits are kept; "
        "choose another file, or delete it first"
    )
    assert path.read_text() == edited


def test_a_file_the_harness_did_not_propose_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "vlmrun-overlay.yaml"
    path.write_text("overlay: 1.0.0\n")
    with pytest.raises(UsageError) as raised:
        write_overlay(path, _overlay())
    assert str(raised.value) == (
        f"Overlay proposal not written: {path} exists and was not proposed by harness verify; "
        "choose another file, or delete it first"
    )
    assert path.read_text() == "overlay: 1.0.0\n"


def test_an_overlay_in_use_is_kept_even_when_unchanged(tmp_path: Path) -> None:
    """A proposal is computed with the overlays in use applied: replacing one of them drops its corrections."""
    path = tmp_path / "proposal.yaml"
    write_overlay(path, _overlay())
    before = path.read_text()
    with pytest.raises(UsageError) as raised:
        write_overlay(path, _overlay("second"), in_use=[tmp_path / "." / "proposal.yaml"])
    assert str(raised.value) == (
        f"Overlay proposal not written: {path} is an overlay in use, and the proposal was computed with it "
        "applied, so replacing it would drop its corrections; choose another file"
    )
    assert path.read_text() == before


# -- the pieces ------------------------------------------------------------------------------------


def test_targets_are_rfc_9535_paths_quoted_where_shorthand_cannot_name_the_key() -> None:
    document = {"paths": {"/v1/x": {"get": {"parameters": [{"schema": {}}]}}}, "a'b\\c": {"x-y": {"\n": {}}}}
    assert jsonpath(document, "#/paths/~1v1~1x/get/parameters/0/schema") == "$.paths['/v1/x'].get.parameters[0].schema"
    assert jsonpath(document, "#/a'b\\c/x-y/%0A") == "$['a\\'b\\\\c']['x-y']['\\n']"


def test_inferred_schemas_say_types_and_nulls_only() -> None:
    assert infer_schema(1, 2.5, None) == {"type": ["number", "null"]}
    assert infer_schema(True, 1) == {"type": ["integer", "boolean"]}
    assert infer_schema([{"a": 1}, {"b": "x"}], []) == {
        "type": "array",
        "items": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}},
    }
    assert infer_schema([]) == {"type": "array"}
    assert infer_schema() == {}
