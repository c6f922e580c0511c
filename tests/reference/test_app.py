from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest
from starlette.testclient import TestClient

from harness.contract import load_contract
from harness.docs_examples import PINNED_VERSION, WIRE_FORMS, inline_bundle, seed_examples
from harness.header_names import RESOLVED_HEADER
from harness.reference.registry import Registry
from tests.reference.conftest import AUTH

COMPLETIONS = "/v1/openai/chat/completions"
LATEST = {r.name: r.version for r in Registry.seeded().latest()}


def _body(skills: list[Any], **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "Extract."}], "skills": skills, **extra}


def _zip(entries: dict[str, bytes], *, method: int = zipfile.ZIP_STORED) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return base64.b64encode(buf.getvalue()).decode()


def _expected_labels(expected: tuple[str, ...]) -> list[str]:
    out = []
    for label in expected:
        name, version = label.split("@")
        out.append(f"{name}@{LATEST[name]}" if version == "latest" else label)
    return out


@pytest.mark.parametrize("form", sorted(WIRE_FORMS))
@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_seed_examples_resolve_the_documented_skills(client: TestClient, example: Any, form: str) -> None:
    skills = [WIRE_FORMS[form](s) for s in example.skills]
    response = client.post(
        COMPLETIONS, headers=AUTH, json={"model": "vlmrun-orion-1:auto", "messages": example.messages, "skills": skills}
    )
    assert response.status_code == 200, response.text
    labels = response.headers[RESOLVED_HEADER].split(",")
    assert [label.split(":")[0] for label in labels] == _expected_labels(example.expected)
    assert load_contract().violations("ChatCompletion", response.json()) == []


def test_latest_resolves_to_the_newest_revision_and_a_pin_to_exactly_that_one(client: TestClient) -> None:
    latest = client.post(COMPLETIONS, headers=AUTH, json=_body([{"skill_name": "patient-referral"}]))
    pinned = client.post(
        COMPLETIONS, headers=AUTH, json=_body([{"skill_name": "patient-referral", "skill_version": PINNED_VERSION}])
    )
    assert latest.headers[RESOLVED_HEADER] == "patient-referral@20260408-9c3a43f5"
    assert pinned.headers[RESOLVED_HEADER] == f"patient-referral@{PINNED_VERSION}"
    # each answer follows its own revision's schema.json: only the newer one has `urgency`
    assert "urgency" in json.loads(latest.json()["choices"][0]["message"]["content"])
    assert "urgency" not in json.loads(pinned.json()["choices"][0]["message"]["content"])


def test_skill_id_takes_precedence_and_accepts_a_revision_uuid(client: TestClient) -> None:
    info = client.post(
        "/v1/skills/lookup", headers=AUTH, json={"name": "patient-referral", "skill_version": PINNED_VERSION}
    ).json()
    r = client.post(
        COMPLETIONS, headers=AUTH, json=_body([{"skill_id": info["id"], "skill_name": "invoice-extraction"}])
    )
    assert r.headers[RESOLVED_HEADER] == f"patient-referral@{PINNED_VERSION}"
    clash = client.post(
        COMPLETIONS, headers=AUTH, json=_body([{"skill_id": info["id"], "skill_version": "20260408-9c3a43f5"}])
    )
    assert clash.status_code == 404
    assert PINNED_VERSION in clash.json()["detail"]


@pytest.mark.parametrize(
    ("skill", "words"),
    [
        ({"skill_name": "no-such-skill"}, ["no-such-skill"]),
        (
            {"skill_name": "patient-referral", "skill_version": "20990101-ffffffff"},
            ["patient-referral", "20990101-ffffffff", PINNED_VERSION],
        ),
        ({"skill_id": "00000000-0000-4000-8000-000000000000"}, ["00000000-0000-4000-8000-000000000000"]),
    ],
)
def test_unknown_skills_and_pins_are_404_naming_skill_and_version(
    client: TestClient, skill: Any, words: list[str]
) -> None:
    r = client.post(COMPLETIONS, headers=AUTH, json=_body([skill]))
    assert r.status_code == 404
    for word in words:
        assert word in r.json()["detail"]


BAD_BUNDLES = {
    "not_base64": ("not base64!", "bundle.invalid_base64"),  # fails the description's `format: byte` first
    "url_safe_alphabet": (base64.urlsafe_b64encode(b"\xfb\xff" * 30).decode(), "bundle.invalid_base64"),
    "not_a_zip": (base64.b64encode(b"plain text").decode(), "bundle.not_a_zip"),
    "no_skill_md": (_zip({"README.md": b"hi"}), "bundle.missing_skill_md"),
    "zip_slip": (_zip({"SKILL.md": b"---\nname: a\ndescription: b\n---\n", "../evil.sh": b"x"}), "bundle.unsafe_path"),
    "absolute_path": (
        _zip({"SKILL.md": b"---\nname: a\ndescription: b\n---\n", "/etc/passwd": b"x"}),
        "bundle.unsafe_path",
    ),
    "broken_yaml": (_zip({"SKILL.md": b"---\nname: [a\ndescription: b\n---\n"}), "bundle.invalid_yaml"),
    "no_description": (_zip({"SKILL.md": b"---\nname: a\n---\n"}), "bundle.missing_description"),
    "bomb": (
        _zip(
            {"SKILL.md": b"---\nname: a\ndescription: b\n---\n", "zeros.bin": b"\0" * 20_000_000},
            method=zipfile.ZIP_DEFLATED,
        ),
        "bundle.compression_ratio",
    ),
    "empty": ("", "bundle.empty"),  # fails the description's `minLength: 1` first
}


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_bad_bundles_are_422_naming_source_data(client: TestClient, case: str) -> None:
    data, kind = BAD_BUNDLES[case]
    r = client.post(
        COMPLETIONS,
        headers=AUTH,
        json=_body([{"skill_name": "invoice-extraction"}, {"type": "inline", "source": {"data": data}}]),
    )
    assert r.status_code == 422, r.text
    [detail] = r.json()["detail"]
    assert detail["loc"] == ["body", "skills", 1, "source", "data"]
    assert detail["type"] == kind
    assert load_contract().violations("HTTPValidationError", r.json()) == []


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        (
            "not base64!",
            "Invalid skill bundle: base64 has whitespace or a line break at offset 3: send it unwrapped "
            "(base64.b64encode)",
        ),
        (
            base64.urlsafe_b64encode(b"\xfb\xff" * 30).decode(),
            "Invalid skill bundle: base64 uses the URL-safe alphabet ('-' at offset 0): use '+' and '/' instead",
        ),
        ("", "Invalid skill bundle: bundle is empty: source.data must be a base64-encoded zip"),
    ],
    ids=["not_base64", "url_safe_alphabet", "empty"],
)
def test_bundles_the_schema_refuses_are_bundle_errors_too(client: TestClient, data: str, msg: str) -> None:
    """`format: byte` and `minLength` refuse these before the decoder runs; the 422 still says why in bundle terms."""
    r = client.post(COMPLETIONS, headers=AUTH, json=_body([{"type": "inline", "bundle": data}]))
    kind = "bundle.empty" if not data else "bundle.invalid_base64"
    assert r.json() == {"detail": [{"loc": ["body", "skills", 0, "bundle"], "msg": msg, "type": kind}]}


def test_bad_bundle_under_the_legacy_key_names_bundle(client: TestClient) -> None:
    r = client.post(
        COMPLETIONS, headers=AUTH, json=_body([{"type": "inline", "bundle": base64.b64encode(b"nope").decode()}])
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "skills", 0, "bundle"]


@pytest.mark.parametrize(
    ("content", "loc"),
    [
        (b"{not json", ["body"]),
        (b"[]", ["body"]),
        (json.dumps({"skills": []}).encode(), ["body", "messages"]),
        (json.dumps({"messages": [], "stream": 0}).encode(), ["body", "messages"]),
        (json.dumps({"messages": [{"role": "user"}], "stream": 0}).encode(), ["body", "stream"]),
        (json.dumps({"messages": [{"role": "user"}], "toolsets": ["web", "3d"]}).encode(), ["body", "toolsets", 1]),
        (b"[" * 100_000, ["body"]),
        (b'{"messages": [{"role": "user"}], "metadata": ' + b'{"a": ' * 500 + b"1" + b"}" * 501, ["body"]),
    ],
)
def test_invalid_bodies_are_422_never_5xx(client: TestClient, content: bytes, loc: list[Any]) -> None:
    r = client.post(COMPLETIONS, headers={**AUTH, "content-type": "application/json"}, content=content)
    assert r.status_code == 422, r.text
    assert loc in [d["loc"] for d in r.json()["detail"]]


@pytest.mark.parametrize("model", ["vlmrun-orion-2:opus-5", "vlmrun-orion-3:fast"])
def test_a_model_id_the_api_may_add_later_is_answered_as_sent(client: TestClient, model: str) -> None:
    """The description's `model` is a pattern, not a list: an unknown id of that form is the live API's to refuse."""
    r = client.post(COMPLETIONS, headers=AUTH, json=_body([], model=model))
    assert r.status_code == 200, r.text
    assert r.json()["model"] == model


def test_a_model_id_of_another_form_is_422_naming_the_pattern(client: TestClient) -> None:
    r = client.post(COMPLETIONS, headers=AUTH, json=_body([], model="gpt-4o"))
    assert (r.status_code, r.json()) == (
        422,
        {
            "detail": [
                {
                    "loc": ["body", "model"],
                    "msg": '"gpt-4o" does not match "^vlmrun-orion-[0-9]+(:[a-z0-9][a-z0-9._-]*)?$"',
                    "type": "string_pattern_mismatch",
                }
            ]
        },
    )


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdA=="}])
@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/health"), ("POST", COMPLETIONS), ("GET", "/v1/skills")])
def test_missing_or_invalid_keys_are_401(client: TestClient, headers: dict[str, str], method: str, path: str) -> None:
    r = client.request(method, path, headers=headers, json=_body([]))
    assert r.status_code == 401
    assert "API key" in r.json()["detail"]


def test_health_answers_for_a_valid_key(client: TestClient) -> None:
    assert client.get("/v1/health", headers=AUTH).json() == {"status": "ok"}


def _events(text: str) -> list[str]:
    return [line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data: ")]


def test_streaming_sends_openai_chunks_then_done(client: TestClient) -> None:
    body = _body([{"skill_name": "invoice-extraction"}])
    plain = client.post(COMPLETIONS, headers=AUTH, json=body).json()
    stream = client.post(COMPLETIONS, headers=AUTH, json={**body, "stream": True})
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = _events(stream.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        assert load_contract().violations("ChatCompletionChunk", chunk) == []
    assert chunks[0]["session_id"] == plain["session_id"]
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        == plain["choices"][0]["message"]["content"]
    )
    assert chunks[-1]["usage"] == plain["usage"]


def test_answers_are_deterministic_and_follow_the_skill_schema(client: TestClient) -> None:
    body = _body([{"type": "inline", "source": {"data": inline_bundle()}}])
    first, second = (client.post(COMPLETIONS, headers=AUTH, json=body).json() for _ in range(2))
    assert first == second
    content = json.loads(first["choices"][0]["message"]["content"])
    assert set(content) == {"invoice_id", "date", "total_amount"}


def test_response_format_schema_wins_over_skill_schema(client: TestClient) -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    body = _body([{"skill_name": "invoice-extraction"}], response_format={"type": "json_schema", "schema": schema})
    content = client.post(COMPLETIONS, headers=AUTH, json=body).json()["choices"][0]["message"]["content"]
    assert set(json.loads(content)) == {"ok"}


def test_skills_list_lookup_and_get(client: TestClient) -> None:
    everything = client.get("/v1/skills", headers=AUTH).json()
    grouped = client.get("/v1/skills?grouped=true&order_by=name&descending=false", headers=AUTH).json()
    assert len(everything) == 4
    assert [s["name"] for s in grouped] == ["invoice-extraction", "line-item-validation", "patient-referral"]
    info = client.post(
        "/v1/skills/lookup", headers=AUTH, json={"name": "patient-referral", "version": PINNED_VERSION}
    ).json()
    assert info["skill_version"] == PINNED_VERSION
    assert client.get(f"/v1/skills/{info['id']}", headers=AUTH).json() == info
    assert client.get("/v1/skills/patient-referral", headers=AUTH).json()["skill_version"] == "20260408-9c3a43f5"
    for item in [*everything, info]:
        assert load_contract().violations("SkillInfo", item) == []


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("grouped=yes", "grouped"),
        ("order_by=size", "order_by"),
    ],
)
def test_bad_list_queries_are_422_naming_the_parameter(client: TestClient, query: str, name: str) -> None:
    r = client.get(f"/v1/skills?{query}", headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", name]


def test_lookup_needs_a_name_or_id(client: TestClient) -> None:
    r = client.post("/v1/skills/lookup", headers=AUTH, json={"skill_version": PINNED_VERSION})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "Provide at least one of 'name' or 'id'"


@pytest.mark.parametrize(
    ("path", "allow"), [("/v1/skills/lookup", {"POST"}), ("/v1/skills/x/download", {"GET", "HEAD"})]
)
def test_unsupported_methods_are_405_with_allow_as_fastapi_answers(
    client: TestClient, path: str, allow: set[str]
) -> None:
    r = client.delete(path, headers=AUTH)
    allowed = set(r.headers["allow"].split(", "))  # Starlette lists them from a set: any order
    assert (r.status_code, r.json(), allowed) == (405, {"detail": "Method Not Allowed"}, allow)


@pytest.mark.parametrize("headers", [AUTH, {}])
def test_unknown_routes_are_404_as_fastapi_answers(client: TestClient, headers: dict[str, str]) -> None:
    """Routing comes before the key check, as in FastAPI."""
    r = client.get("/v1/skills/x/versions", headers=headers)
    assert (r.status_code, r.json(), r.headers["content-type"]) == (404, {"detail": "Not Found"}, "application/json")


def test_the_embedded_server_turns_off_nagle_on_its_connections() -> None:
    """Without TCP_NODELAY every kept-alive answer waits ~40 ms for a delayed ACK (benchmarks P6)."""
    import socket

    from harness.reference.server import _bind

    listener = _bind("127.0.0.1", 0)
    try:
        assert listener.proto == socket.IPPROTO_TCP  # what asyncio checks before setting TCP_NODELAY
    finally:
        listener.close()
