"""Skill management on the reference server: create, update (a new version), download; per-process state."""

from __future__ import annotations

import base64
import io
import itertools
import json
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from vlmrun.client import VLMRun
from vlmrun.client.exceptions import ResourceNotFoundError

from harness.bundles import build_bundle, decode_bundle, encode_bundle
from harness.contract import load_contract
from harness.docs_examples import PINNED_VERSION
from harness.header_names import RESOLVED_HEADER
from harness.reference import skill_admin
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread
from tests.reference.conftest import AUTH, KEY

COMPLETIONS = "/v1/openai/chat/completions"
CREATE = "/v1/skills/create"
NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
STAMP = "2026-11-27T12:00:00.000000Z"  # the first revision made; each next one a second later
SKILL_MD = "---\nname: {name}\ndescription: {description}\n---\nDo {name} things.\n"
SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}


def skill_zip(name: str = "receipts", description: str = "Reads receipts", **extra: bytes) -> bytes:
    files = {"SKILL.md": SKILL_MD.format(name=name, description=description).encode(), **extra}
    return build_bundle(files)


def deflated_zip(entries: dict[str, bytes]) -> bytes:
    """A zip our builder would not write (DEFLATE, zipfile's timestamps): it must come back unchanged."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def source(zip_bytes: bytes) -> dict[str, Any]:
    return {"source": {"data": encode_bundle(zip_bytes)}}


def downloaded(client: TestClient, skill_id: str) -> bytes:
    response = client.get(f"/v1/skills/{skill_id}/download", headers=AUTH)
    assert response.status_code == 200, response.text
    assert load_contract().violations("SkillDownloadResponse", response.json()) == []
    with urllib.request.urlopen(response.json()["download_url"]) as found:  # a data: URL
        data: bytes = found.read()
    return data


def resolved(client: TestClient, skill: dict[str, Any]) -> str:
    body = {"messages": [{"role": "user", "content": "Read it."}], "skills": [skill]}
    response = client.post(COMPLETIONS, headers=AUTH, json=body)
    assert response.status_code == 200, response.text
    return response.headers[RESOLVED_HEADER]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A fresh server each test (create and update change its state), its clock a second further each time."""
    ticks = itertools.count()
    monkeypatch.setattr(skill_admin, "utc_now", lambda: NOW + timedelta(seconds=next(ticks)))
    with TestClient(create_app(config=ServerConfig(api_key=KEY))) as c:
        yield c


def test_a_skill_created_from_a_zip_is_its_first_version(client: TestClient) -> None:
    response = client.post(CREATE, headers=AUTH, json=source(skill_zip()))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": "4f52f38c-3fe5-5503-a2f8-7d434088973b",
        "name": "receipts",
        "description": "Reads receipts",
        "skill_version": "20261127-f7e0e20c",
        "skill_uri": "skills/receipts/20261127-f7e0e20c",
        "status": "completed",
        "is_public": False,
        "created_at": STAMP,
        "updated_at": STAMP,
    }
    assert load_contract().violations("SkillCreateResponse", response.json()) == []
    assert client.get(f"/v1/skills/{response.json()['id']}", headers=AUTH).json() == response.json()
    assert resolved(client, {"skill_name": "receipts"}) == "receipts@20261127-f7e0e20c"


def test_name_description_and_visibility_in_the_body_win_over_skill_md(client: TestClient) -> None:
    body = {**source(skill_zip()), "name": "till-slips", "description": "Reads till slips", "is_public": True}
    info = client.post(CREATE, headers=AUTH, json=body).json()
    assert (info["name"], info["description"], info["is_public"]) == ("till-slips", "Reads till slips", True)


def test_update_moves_latest_while_the_old_pin_and_id_still_resolve(client: TestClient) -> None:
    first = client.post(CREATE, headers=AUTH, json=source(skill_zip())).json()
    update = client.post(
        f"/v1/skills/{first['id']}/update", headers=AUTH, json=source(skill_zip(description="Reads receipts, v2"))
    )
    assert update.status_code == 200, update.text
    second = update.json()
    assert second == {
        "id": "7d472eb9-9a73-598f-9e63-7ef1fa1e38dd",
        "name": "receipts",
        "description": "Reads receipts, v2",
        "skill_version": "20261127-e7cb13be",
        "skill_uri": "skills/receipts/20261127-e7cb13be",
        "status": "completed",
        "is_public": False,
        "created_at": "2026-11-27T12:00:01.000000Z",
        "updated_at": "2026-11-27T12:00:01.000000Z",
    }
    assert load_contract().violations("SkillInfo", second) == []
    assert resolved(client, {"skill_name": "receipts"}) == f"receipts@{second['skill_version']}"
    pinned = {"skill_name": "receipts", "skill_version": first["skill_version"]}
    assert resolved(client, pinned) == f"receipts@{first['skill_version']}"
    assert resolved(client, {"skill_id": first["id"]}) == f"receipts@{first['skill_version']}"
    listed = client.get("/v1/skills?grouped=false&order_by=name", headers=AUTH).json()
    assert [s["skill_version"] for s in listed if s["name"] == "receipts"] == [
        second["skill_version"],
        first["skill_version"],
    ]


def test_each_update_is_a_new_version_even_with_the_same_files(client: TestClient) -> None:
    first = client.post(CREATE, headers=AUTH, json=source(skill_zip())).json()
    versions = [first["skill_version"]]
    for _ in range(2):
        versions.append(client.post("/v1/skills/receipts/update", headers=AUTH, json={}).json()["skill_version"])
    assert len(set(versions)) == 3
    assert all(v.startswith("20261127-") for v in versions)
    assert client.get("/v1/skills/receipts", headers=AUTH).json()["skill_version"] == versions[-1]


def test_download_is_the_uploaded_zip_byte_for_byte(client: TestClient) -> None:
    entries = {"SKILL.md": SKILL_MD.format(name="receipts", description="Reads receipts").encode(), "a.txt": b"a"}
    uploaded = deflated_zip(entries)
    info = client.post(CREATE, headers=AUTH, json=source(uploaded)).json()
    assert downloaded(client, info["id"]) == uploaded
    assert (
        decode_bundle(encode_bundle(downloaded(client, "receipts"))).digest
        == decode_bundle(encode_bundle(build_bundle(entries))).digest
    )


def test_a_pinned_download_is_that_versions_zip(client: TestClient) -> None:
    old, new = skill_zip(), skill_zip(description="Reads receipts, v2")
    first = client.post(CREATE, headers=AUTH, json=source(old)).json()
    second = client.post(f"/v1/skills/{first['id']}/update", headers=AUTH, json=source(new)).json()
    assert downloaded(client, first["id"]) == old
    assert downloaded(client, second["id"]) == new
    assert downloaded(client, "receipts") == new  # a name: the latest version


def test_an_update_without_a_zip_keeps_the_files_and_may_change_the_description(client: TestClient) -> None:
    uploaded = deflated_zip({"SKILL.md": SKILL_MD.format(name="receipts", description="Reads receipts").encode()})
    first = client.post(CREATE, headers=AUTH, json=source(uploaded)).json()
    second = client.post(f"/v1/skills/{first['id']}/update", headers=AUTH, json={"description": "Now v2"}).json()
    assert second["description"] == "Now v2"
    assert downloaded(client, second["id"]) == uploaded


def test_a_skill_written_from_a_prompt_and_schema(client: TestClient) -> None:
    body = {"prompt": "Extract the total.\nAs a number.", "json_schema": SCHEMA}
    info = client.post(CREATE, headers=AUTH, json=body).json()
    assert (info["name"], info["description"]) == ("skill-9c449f63", "Extract the total.")
    bundle = decode_bundle(encode_bundle(downloaded(client, info["id"])))
    assert dict(bundle.files) == {
        "SKILL.md": b"---\nname: skill-9c449f63\ndescription: Extract the total.\n---\n"
        b"Extract the total.\nAs a number.\n",
        "schema.json": json.dumps(SCHEMA, indent=2, sort_keys=True).encode(),
    }
    completion = client.post(
        COMPLETIONS,
        headers=AUTH,
        json={"messages": [{"role": "user", "content": "Go."}], "skills": [{"skill_id": info["id"]}]},
    ).json()
    assert set(json.loads(completion["choices"][0]["message"]["content"])) == {"total"}


def test_a_skill_written_from_a_chat_this_server_answered(client: TestClient) -> None:
    chat = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Sum the invoice."}]}]}
    session_id = client.post(COMPLETIONS, headers=AUTH, json=chat).json()["session_id"]
    info = client.post(CREATE, headers=AUTH, json={"session_id": session_id, "name": "summing"}).json()
    assert (info["name"], info["description"]) == ("summing", "user: Sum the invoice.")
    skill_md = decode_bundle(encode_bundle(downloaded(client, info["id"]))).files["SKILL.md"]
    assert skill_md == b"---\nname: summing\ndescription: 'user: Sum the invoice.'\n---\nuser: Sum the invoice.\n"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"file_id": "file-123", "name": "receipts", "description": "Reads receipts"},
            "File not found: file_id 'file-123' (the reference server has no Files API: send the zip itself as "
            "'source': {'data': '<base64 zip>'})",
        ),
        (
            {"session_id": "no-such-chat"},
            "Session not found: session_id 'no-such-chat' is no chat this server answered (or no longer keeps)",
        ),
    ],
    ids=["file_id", "session_id"],
)
def test_unknown_files_and_sessions_are_404(client: TestClient, body: dict[str, Any], detail: str) -> None:
    response = client.post(CREATE, headers=AUTH, json=body)
    assert (response.status_code, response.json()) == (404, {"detail": detail})


def test_a_name_already_taken_is_409(client: TestClient) -> None:
    response = client.post(CREATE, headers=AUTH, json=source(skill_zip(name="patient-referral")))
    newest = client.get("/v1/skills/patient-referral", headers=AUTH).json()
    assert newest["skill_version"] == "20260408-9c3a43f5" != PINNED_VERSION
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": f"Skill 'patient-referral' already exists (latest version '20260408-9c3a43f5', id "
            f"'{newest['id']}'): POST /v1/skills/{newest['id']}/update makes a new version of it"
        },
    )


CREATE_SOURCES = "Provide exactly one of 'file_id' (with 'name' and 'description'), 'prompt', 'session_id' or 'source'"


@pytest.mark.parametrize(
    "body",
    [{}, {"prompt": "a", "session_id": "b"}, {"file_id": "f"}, {"name": "x", "description": "y"}],
    ids=["none", "two", "file_id_alone", "no_source"],
)
def test_create_needs_exactly_one_source(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post(CREATE, headers=AUTH, json=body)
    assert (response.status_code, response.json()) == (
        422,
        {"detail": [{"loc": ["body"], "msg": CREATE_SOURCES, "type": "value_error"}]},
    )


def test_update_takes_file_id_or_source_not_both(client: TestClient) -> None:
    body = {"file_id": "file-123", **source(skill_zip())}
    response = client.post("/v1/skills/invoice-extraction/update", headers=AUTH, json=body)
    assert (response.status_code, response.json()) == (
        422,
        {"detail": [{"loc": ["body"], "msg": "Provide 'file_id' or 'source', not both", "type": "value_error"}]},
    )


@pytest.mark.parametrize(
    ("data", "msg", "kind"),
    [
        (
            "bm90IGEgemlw\n",
            "Invalid skill bundle: base64 has whitespace or a line break at offset 12: send it unwrapped "
            "(base64.b64encode)",
            "bundle.invalid_base64",
        ),
        (
            base64.b64encode(b"not a zip").decode(),
            "Invalid skill bundle: bundle is not a valid zip archive: File is not a zip file",
            "bundle.not_a_zip",
        ),
    ],
    ids=["bad_base64", "not_a_zip"],
)
@pytest.mark.parametrize("path", [CREATE, "/v1/skills/invoice-extraction/update"])
def test_bad_zips_are_422_bundle_errors_naming_source_data(
    client: TestClient, path: str, data: str, msg: str, kind: str
) -> None:
    response = client.post(path, headers=AUTH, json={"source": {"data": data}})
    assert (response.status_code, response.json()) == (
        422,
        {"detail": [{"loc": ["body", "source", "data"], "msg": msg, "type": kind}]},
    )


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v1/skills/no-such-skill/update"), ("GET", "/v1/skills/no-such-skill/download")]
)
def test_updating_or_downloading_an_unknown_skill_is_404(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers=AUTH, json={})
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "Skill not found: skill_id 'no-such-skill' matches no skill id or name"},
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", CREATE), ("POST", "/v1/skills/receipts/update"), ("GET", "/v1/skills/receipts/download")],
)
def test_skill_management_needs_the_key(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={})
    assert (response.status_code, response.json()) == (
        401,
        {"detail": "Missing API key: send 'Authorization: Bearer <VLMRUN_API_KEY>'"},
    )


def test_state_is_per_server(client: TestClient) -> None:
    client.post(CREATE, headers=AUTH, json=source(skill_zip()))
    with TestClient(create_app(config=ServerConfig(api_key=KEY))) as other:
        response = other.get("/v1/skills/receipts", headers=AUTH)
    assert response.status_code == 404


def test_the_vlmrun_sdk_updates_looks_up_and_downloads_over_loopback() -> None:
    """vlmrun 0.9.2's own `skills` resource reads every answer (its `create` needs the Files API: 404)."""
    uploaded = skill_zip()
    with serve_in_thread(create_app(config=ServerConfig(api_key=KEY))) as running:
        created = httpx.post(running.url + CREATE, headers=AUTH, json=source(uploaded)).json()
        client = VLMRun(api_key=KEY, base_url=f"{running.url}/v1", max_retries=0)
        updated = client.skills.update(skill_id=created["id"], description="Reads receipts, v2")
        pinned = client.skills.get(name="receipts", skill_version=created["skill_version"])
        link = client.skills.download(updated.id)
        with pytest.raises(ResourceNotFoundError, match=r"File not found: file_id 'file-123'"):
            client.skills.create(file_id="file-123", name="other", description="Other")
    assert (updated.name, updated.description, updated.is_public) == ("receipts", "Reads receipts, v2", False)
    assert updated.skill_version != created["skill_version"]
    assert (pinned.id, pinned.skill_version) == (created["id"], created["skill_version"])
    assert link.expires_in is None
    with urllib.request.urlopen(link.download_url) as found:
        assert found.read() == uploaded
