"""Replay-time conformance: recorded interactions judged against the API description."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from harness.contract import Contract, load_contract
from harness.docs_examples import MODEL, WIRE_FORMS, inline_bundle, seed_examples
from harness.errors import CassetteError, ConformanceFailure
from harness.openapi.operations import OperationMatch
from harness.openapi.sse import parse_sse
from harness.recording.cassette_check import ConformanceReport, check_cassette, description_drift, raise_for
from harness.recording.conformance import Finding, check_interaction
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse
from harness.reference.app import ServerConfig, create_app

API = "https://api.vlm.run"
COMPLETIONS = f"{API}/v1/openai/chat/completions"
JSON = "application/json"
SSE = "text/event-stream; charset=utf-8"
REQUEST: dict[str, Any] = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "Extract data from this document."}],
    "skills": [{"skill_name": "invoice-extraction"}],
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def interaction(
    method: str = "POST",
    uri: str = COMPLETIONS,
    request: Any = None,
    *,
    status: int = 200,
    response: Any = None,
    content_type: str | None = JSON,
    raw: bytes | None = None,
    index: int = 0,
) -> Interaction:
    req_body = b"" if request is None else (request if isinstance(request, bytes) else json.dumps(request).encode())
    req_headers = {"Content-Type": [JSON]} if req_body else {}
    body = raw if raw is not None else (b"" if response is None else json.dumps(response).encode())
    headers = {"Content-Type": [content_type]} if content_type else {}
    return Interaction(
        RecordedRequest(method, uri, req_headers, req_body), RecordedResponse(status, "", headers, body), index
    )


def completion(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1767225600,
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Done."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        "session_id": "0b9b1c0e-5d1f-4f55-8b53-2a5f0f6c6c3e",
    }
    body.update(overrides)
    return body


def chunks() -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1767225600, "model": MODEL}
    return [
        {**base, "session_id": "s-1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": None}]},
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        },
    ]


def sse(events: list[Any], *, done: bool = True, newline: str = "\n") -> bytes:
    datas = [e if isinstance(e, str) else json.dumps(e) for e in events] + (["[DONE]"] if done else [])
    return "".join(f"data: {d}{newline}{newline}" for d in datas).encode()


def stream(events: list[Any], **kwargs: Any) -> Interaction:
    return interaction(request={**REQUEST, "stream": True}, content_type=SSE, raw=sse(events, **kwargs))


def kinds(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.side, f.location, f.kind) for f in findings]


# -- conforming traffic ----------------------------------------------------------


def test_valid_completion_has_no_findings(contract: Contract) -> None:
    assert check_interaction(interaction(request=REQUEST, response=completion()), contract) == []


def test_valid_stream_has_no_findings(contract: Contract) -> None:
    ix = stream(chunks())
    events, truncated = parse_sse(ix.response.body)
    assert [e["data"] for e in events][-1] == "[DONE]"
    assert len(events) == 5
    assert not truncated
    assert check_interaction(ix, contract) == []


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (422, {"detail": [{"loc": ["body", "skills", 0, "source", "data"], "msg": "Not valid base64", "type": "x"}]}),
        (404, {"detail": "Skill 'nope' not found"}),
        (401, {"detail": "Invalid API key"}),
    ],
)
def test_valid_error_responses(contract: Contract, status: int, body: dict[str, Any]) -> None:
    assert check_interaction(interaction(request=REQUEST, status=status, response=body), contract) == []


def test_valid_skill_endpoints(contract: Contract) -> None:
    info = {
        "id": "sk-1",
        "name": "invoice-extraction",
        "description": "Extract structured data from invoices",
        "skill_version": "20260301-4c1d9e07",
        "status": "completed",
    }
    listing = interaction("GET", f"{API}/v1/skills?limit=10&offset=0&order_by=name&descending=false&grouped=true")
    listing = Interaction(
        listing.request, RecordedResponse(200, "OK", {"content-type": [JSON]}, json.dumps([info]).encode())
    )
    lookup = interaction("POST", f"{API}/v1/skills/lookup", {"name": "invoice-extraction"}, response=info)
    get = interaction("GET", f"{API}/v1/skills/sk-1", response=info)
    for ix in (listing, lookup, get):
        assert check_interaction(ix, contract) == [], ix.request.uri


def test_lookup_is_not_mistaken_for_a_skill_id(contract: Contract) -> None:
    assert contract.match_operation("POST", "/v1/skills/lookup") == OperationMatch("/v1/skills/lookup", {})
    assert contract.match_operation("GET", "/v1/skills/a%20b") == OperationMatch(
        "/v1/skills/{skill_id}", {"skill_id": "a b"}
    )


# -- drift -----------------------------------------------------------------------


def test_undocumented_status_names_the_documented_ones(contract: Contract) -> None:
    [finding] = check_interaction(interaction(request=REQUEST, status=500, response={"detail": "boom"}), contract)
    assert (finding.side, finding.location, finding.kind) == ("response", "status", "undocumented_status")
    assert finding.message == (
        "Status 500 is not documented for POST /v1/openai/chat/completions (documented: 200, 303, 401, 404, 422)"
    )


def test_wrong_media_type(contract: Contract) -> None:
    ix = interaction(request=REQUEST, content_type="text/html; charset=utf-8", raw=b"<html></html>")
    [finding] = check_interaction(ix, contract)
    assert finding.kind == "undocumented_media_type"
    assert "text/html" in finding.message
    assert "application/json" in finding.message


def test_response_missing_session_id(contract: Contract) -> None:
    body = completion()
    del body["session_id"]
    findings = check_interaction(interaction(request=REQUEST, response=body), contract)
    assert kinds(findings) == [("response", "session_id", "schema")]
    assert "session_id" in findings[0].message


def test_wrong_role_is_located(contract: Contract) -> None:
    choices = [{"index": 0, "message": {"role": "user", "content": "x"}, "finish_reason": "stop"}]
    findings = check_interaction(interaction(request=REQUEST, response=completion(choices=choices)), contract)
    assert kinds(findings) == [("response", "choices[0].message.role", "schema")]


def test_response_not_json(contract: Contract) -> None:
    findings = check_interaction(interaction(request=REQUEST, raw=b"{oops"), contract)
    assert kinds(findings) == [("response", "<root>", "not_json")]


def test_sse_chunk_missing_id(contract: Contract) -> None:
    events = chunks()
    del events[1]["id"]
    findings = check_interaction(stream(events), contract)
    assert kinds(findings) == [("response", "events[1].data.id", "schema")]


def test_sse_chunk_with_wrong_delta(contract: Contract) -> None:
    events = chunks()
    events[2]["choices"][0]["delta"]["role"] = "user"
    findings = check_interaction(stream(events), contract)
    assert kinds(findings) == [("response", "events[2].data.choices[0].delta.role", "schema")]


def test_sse_data_neither_json_nor_done(contract: Contract) -> None:
    findings = check_interaction(stream([*chunks(), "DONE"]), contract)
    assert kinds(findings) == [("response", "events[4].data", "not_json")]
    assert "DONE" in findings[0].message


def test_truncated_stream(contract: Contract) -> None:
    ix = stream(chunks(), done=False)
    cut = Interaction(ix.request, RecordedResponse(200, "", ix.response.headers, ix.response.body + b'data: {"id"'))
    findings = check_interaction(cut, contract)
    assert kinds(findings) == [("response", "events[4]", "incomplete_event")]


def test_request_with_unknown_skill_key(contract: Contract) -> None:
    body = {**REQUEST, "skills": [{"skill_name": "invoice-extraction", "skil_version": "latest"}]}
    findings = check_interaction(interaction(request=body, status=422, response={"detail": []}), contract)
    assert kinds(findings) == [("request", "skills[0].skil_version", "schema")]
    assert "Unknown field" in findings[0].message


def test_request_with_invalid_base64_bundle(contract: Contract) -> None:
    bad = inline_bundle()[:-4] + "!!!="
    body = {**REQUEST, "skills": [{"type": "inline", "source": {"data": bad}}]}
    findings = check_interaction(interaction(request=body, status=422, response={"detail": []}), contract)
    assert kinds(findings) == [("request", "skills[0].source.data", "schema")]
    assert "base64" in findings[0].message


def test_request_not_json(contract: Contract) -> None:
    findings = check_interaction(interaction(request=b"{not json", status=422, response={"detail": []}), contract)
    assert kinds(findings) == [("request", "<root>", "not_json")]


@pytest.mark.parametrize(("method", "path"), [("GET", "/v2/widgets"), ("DELETE", "/v1/openai/chat/completions")])
def test_unknown_operation(contract: Contract, method: str, path: str) -> None:
    findings = check_interaction(interaction(method, f"{API}{path}", response={}), contract)
    assert kinds(findings) == [("request", "path", "undocumented_operation")]
    assert f"{method} {path}" in findings[0].message


def test_unknown_method_names_documented_ones(contract: Contract) -> None:
    [finding] = check_interaction(interaction("PUT", f"{API}/v1/skills/lookup", response={}), contract)
    assert "POST /v1/skills/lookup" in finding.message


def test_proxy_prefix_still_resolves(contract: Contract) -> None:
    uri = "https://gateway.example/proxy/v1/openai/chat/completions"
    assert check_interaction(interaction(uri=uri, request=REQUEST, response=completion()), contract) == []
    drifted = check_interaction(interaction(uri=uri, request=REQUEST, response=completion(object="x")), contract)
    assert kinds(drifted) == [("response", "object", "schema")]
    assert contract.match_operation("GET", "/proxy/v1/skills/abc") == OperationMatch(
        "/v1/skills/{skill_id}", {"skill_id": "abc"}
    )
    assert contract.match_operation("GET", "/proxyv1/skills") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("limit=0", "0 is less than the minimum of 1"),
        ("limit=1001", "1001 is greater than the maximum of 1000"),
        ("limit=ten", "Expected an integer, got 'ten'"),
        ("descending=yes", "Expected true or false, got 'yes'"),
        # Every allowed value, as for a body's enum (jsonschema-rs's own wording names two and "N other candidates").
        ("order_by=size", '"size" is not one of "created_at", "updated_at", "name"'),
        ("offset=-1", "-1 is less than the minimum of 0"),
    ],
)
def test_bad_query_parameters(contract: Contract, query: str, expected: str) -> None:
    ix = interaction("GET", f"{API}/v1/skills?{query}", status=422, response={"detail": []})
    [finding] = check_interaction(ix, contract)
    assert (finding.side, finding.location, finding.kind) == ("request", f"query.{query.split('=')[0]}", "schema")
    assert finding.message == expected


def test_messages_stay_short_for_huge_instances(contract: Contract) -> None:
    huge = "x" * 1_000_000
    choices = [{"index": 0, "message": {"role": huge, "content": "x"}, "finish_reason": "stop"}]
    ix = interaction(request={**REQUEST, "skills": [{"type": "inline", "source": {"data": huge + "!"}}]})
    ix = Interaction(ix.request, interaction(response=completion(choices=choices)).response)
    findings = check_interaction(ix, contract)
    assert {f.location for f in findings} == {"skills[0].source.data", "choices[0].message.role"}
    assert all(len(f.message) < 400 for f in findings)
    report = check_cassette([ix], contract)
    assert len(report.format()) < 2000


def test_schema_violations_for_inline_array_schema(contract: Contract) -> None:
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/SkillInfo"}}
    violations = contract.schema_violations(schema, [{"id": "a", "name": "b"}, {"id": "c"}])
    assert [(v.path, v.msg, v.type) for v in violations] == [
        ("[0].description", "Field required: add 'description'", "missing"),
        ("[1].name", "Field required: add 'name'", "missing"),
        ("[1].description", "Field required: add 'description'", "missing"),
    ]
    [v] = contract.schema_violations(schema, {"id": "a"})
    assert (v.path, v.msg, v.type) == ("<root>", '{"id":"a"} is not of type "array"', "type_error")


# -- SSE parsing -----------------------------------------------------------------


def test_sse_parser_semantics() -> None:
    body = (
        ": keep-alive\r\n\r\n"
        "event: chunk\r\nid: 7\r\ndata: line one\r\ndata:line two\r\n\r\n"
        "retry: 100\rdata\r\r"
        "id: 8\n\n"
        "data: last\n\n"
        "data: cut"
    )
    events, truncated = parse_sse(body.encode())
    assert events == [
        {"data": "line one\nline two", "event": "chunk", "id": "7"},
        {"data": ""},
        {"data": "last"},
    ]
    assert truncated


def test_sse_crlf_stream_conforms(contract: Contract) -> None:
    ix = interaction(request={**REQUEST, "stream": True}, content_type=SSE, raw=sse(chunks(), newline="\r\n"))
    assert len(parse_sse(ix.response.body)[0]) == 5
    assert check_interaction(ix, contract) == []


# -- reports ---------------------------------------------------------------------


def test_report_format_and_raise_for(contract: Contract) -> None:
    good = interaction(request=REQUEST, response=completion(), index=0)
    body = completion(choices=[{"index": 0, "message": {"role": "user", "content": "x"}, "finish_reason": "stop"}])
    bad = interaction(request=REQUEST, response=body, index=1)
    report = check_cassette([good, bad], contract)
    assert not report.ok
    assert list(report.by_interaction()) == [1]
    text = report.format(cassette="cassettes/test_x.yaml")
    for part in ("cassettes/test_x.yaml", "interaction 1", "POST /v1/openai/chat/completions", "response"):
        assert part in text
    assert "choices[0].message.role" in text
    with pytest.raises(ConformanceFailure) as caught:
        raise_for(report, cassette="cassettes/test_x.yaml")
    assert caught.value.location == "choices[0].message.role"
    assert "cassettes/test_x.yaml" in str(caught.value)
    raise_for(check_cassette([good], contract), cassette="c.yaml")  # no findings, no raise


def test_report_caps_findings_per_interaction() -> None:
    findings = tuple(Finding(0, "response", f"x[{i}]", "bad", "schema") for i in range(25))
    text = ConformanceReport("c.yaml", findings, {0: "GET /v1/skills -> 200"}).format()
    assert "… and 15 more" in text
    assert text.count("bad") == 10


def test_description_drift(contract: Contract) -> None:
    assert description_drift(None, contract) is None
    assert description_drift(contract.sha256, contract) is None
    assert description_drift(f"sha256:{contract.sha256.upper()}", contract) is None
    message = description_drift("0" * 64, contract)
    assert message is not None
    assert "000000000000" in message
    assert contract.sha256[:12] in message


def _vcr_cassette(path: Path, ixs: list[Interaction]) -> None:
    data = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": ix.request.method,
                    "uri": ix.request.uri,
                    "body": ix.request.body.decode(),
                    "headers": ix.request.headers,
                },
                "response": {
                    "status": {"code": ix.response.status, "message": "OK"},
                    "headers": ix.response.headers,
                    "body": {"string": ix.response.body.decode()},
                },
            }
            for ix in ixs
        ],
    }
    path.write_text(yaml.safe_dump(data))


def test_check_cassette_reads_a_vcr_file(contract: Contract, tmp_path: Path) -> None:
    path = tmp_path / "cassette.yaml"
    body = completion()
    del body["session_id"]
    _vcr_cassette(path, [stream(chunks()), interaction(request=REQUEST, response=body)])
    report = check_cassette(path, contract)
    assert [(f.interaction, f.location) for f in report.findings] == [(1, "session_id")]
    assert report.labels == {0: "POST /v1/openai/chat/completions -> 200", 1: "POST /v1/openai/chat/completions -> 200"}
    assert str(path) in report.format()
    with pytest.raises(CassetteError, match=r"missing\.yaml"):
        check_cassette(tmp_path / "missing.yaml", contract)


# -- genuine traffic from the reference server -------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(config=ServerConfig(api_key="k")), headers={"authorization": "Bearer k"}) as c:
        yield c


def recorded(response: Any) -> Interaction:
    """A TestClient exchange (an httpx or httpx2 `Response`) as a recording would store it."""
    request = response.request
    req_headers: dict[str, list[str]] = {}
    for key, value in request.headers.multi_items():
        req_headers.setdefault(key, []).append(value)
    headers: dict[str, list[str]] = {}
    for key, value in response.headers.multi_items():
        headers.setdefault(key, []).append(value)
    return Interaction(
        RecordedRequest(request.method, str(request.url), req_headers, request.content),
        RecordedResponse(response.status_code, response.reason_phrase, headers, response.content),
    )


SEEDS = [(ex.name, form, stream) for ex in seed_examples() for form in WIRE_FORMS for stream in (False, True)]


@pytest.mark.parametrize(("seed", "form", "streaming"), SEEDS, ids=["-".join(map(str, s)) for s in SEEDS])
def test_reference_completions_conform(
    contract: Contract, client: TestClient, seed: str, form: str, streaming: bool
) -> None:
    [example] = [ex for ex in seed_examples() if ex.name == seed]
    skills = [WIRE_FORMS[form](skill) for skill in example.skills]
    body = {"model": MODEL, "messages": example.messages, "skills": skills, "stream": streaming}
    response = client.post("/v1/openai/chat/completions", json=body)
    assert response.status_code == 200, response.text
    ix = recorded(response)
    assert ix.response.is_event_stream is streaming
    if streaming:
        assert len(parse_sse(ix.response.body)[0]) >= 4
    assert check_interaction(ix, contract) == []


def _bad_bundle() -> str:
    return base64.b64encode(b"not a zip").decode()


ERROR_CASES: list[tuple[str, str, str, Any, dict[str, str] | None, int, list[str]]] = [
    # (id, method, path, json body, headers, expected status, request-side finding locations)
    ("no-key", "POST", "/v1/openai/chat/completions", REQUEST, {"authorization": ""}, 401, []),
    ("bad-key", "GET", "/v1/skills", None, {"authorization": "Bearer nope"}, 401, []),
    (
        "unknown-skill",
        "POST",
        "/v1/openai/chat/completions",
        {**REQUEST, "skills": [{"skill_name": "nope"}]},
        None,
        404,
        [],
    ),
    (
        "unknown-version",
        "POST",
        "/v1/openai/chat/completions",
        {**REQUEST, "skills": [{"skill_name": "patient-referral", "skill_version": "20000101-0000000"}]},
        None,
        404,
        [],
    ),
    ("no-messages", "POST", "/v1/openai/chat/completions", {"model": MODEL}, None, 422, ["messages"]),
    (
        "bundle-not-zip",
        "POST",
        "/v1/openai/chat/completions",
        {**REQUEST, "skills": [{"type": "inline", "source": {"data": _bad_bundle()}}]},
        None,
        422,
        [],
    ),
    ("list", "GET", "/v1/skills", None, None, 200, []),
    (
        "list-query",
        "GET",
        "/v1/skills?limit=2&offset=1&order_by=name&descending=false&grouped=true",
        None,
        None,
        200,
        [],
    ),
    ("list-limit-0", "GET", "/v1/skills?limit=0", None, None, 422, ["query.limit"]),
    (
        "lookup",
        "POST",
        "/v1/skills/lookup",
        {"name": "patient-referral", "skill_version": "20260219-abc123"},
        None,
        200,
        [],
    ),
    ("lookup-missing", "POST", "/v1/skills/lookup", {"name": "nope"}, None, 404, []),
    ("lookup-empty", "POST", "/v1/skills/lookup", {}, None, 422, ["<root>"]),
    ("get-by-name", "GET", "/v1/skills/invoice-extraction", None, None, 200, []),
    ("get-missing", "GET", "/v1/skills/nope", None, None, 404, []),
    ("health", "GET", "/v1/health", None, None, 200, []),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "request_findings"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_reference_errors_and_skill_endpoints_conform(
    contract: Contract,
    client: TestClient,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str] | None,
    status: int,
    request_findings: list[str],
) -> None:
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    findings = check_interaction(recorded(response), contract)
    assert [f.location for f in findings if f.side == "request"] == request_findings
    assert [f for f in findings if f.side == "response"] == []


def test_recorded_traffic_may_send_bad_requests_the_api_rejected() -> None:
    from harness.contract import load_contract
    from harness.recording.conformance import check_recorded
    from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse

    body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "skills": [{"skil_name": "x"}]}).encode()
    headers = {"content-type": ["application/json"]}
    request = RecordedRequest("POST", "http://h/v1/openai/chat/completions", headers, body)
    item = {"loc": ["body", "skills", 0, "skil_name"], "msg": "Unknown field", "type": "extra_forbidden"}
    rejected = Interaction(request, RecordedResponse(422, "", headers, json.dumps({"detail": [item]}).encode()))
    contract = load_contract()
    assert any(f.side == "request" for f in check_interaction(rejected, contract))
    assert check_recorded(rejected, contract) == []
    not_found = Interaction(request, RecordedResponse(404, "", headers, b'{"detail": "x"}'))
    assert check_recorded(not_found, contract) == []
    ok = Interaction(request, RecordedResponse(200, "", headers, b"{}"))
    sides = {f.side for f in check_recorded(ok, contract)}
    assert sides == {"request", "response"}


def _long_request(headers: dict[str, list[str]]) -> Interaction:
    return Interaction(
        RecordedRequest("POST", COMPLETIONS, {"Content-Type": [JSON]}, json.dumps(REQUEST).encode()),
        RecordedResponse(303, "", headers, b""),
    )


def test_a_required_response_header_must_be_there(contract: Contract) -> None:
    """A 303 tells the client where to poll: without its `Location` the recording is not the API's answer."""
    [finding] = check_interaction(_long_request({}), contract)
    assert str(finding) == "response headers.Location: Required header 'Location' is missing [missing_header]"


def test_a_response_header_is_found_in_any_case_and_its_value_checked(contract: Contract) -> None:
    where = "/v1/openai/chat/completions?__modal_function_call_id=fc-1"
    assert check_interaction(_long_request({"location": [where]}), contract) == []
    [finding] = check_interaction(_long_request({"Location": [""]}), contract)
    assert (finding.location, finding.kind) == ("headers.Location", "schema")
