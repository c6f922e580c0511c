"""The vcrpy persister: metadata, errors naming the file, atomic writes, size, and vcrpy end to end."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.request import Request

import harness
from harness.bundles import build_bundle, encode_bundle
from harness.contract import load_contract
from harness.errors import CassetteError
from harness.recording import persister
from harness.recording.blobs import blob_dir_for
from harness.recording.persister import (
    HarnessPersister,
    load_interactions,
    read_cassette,
    recording_metadata,
    save_interactions,
)
from harness.recording.scrub import REDACTED
from tests.recording._cassettes import (
    SSE,
    URL,
    completion_request,
    inline_skill,
    interaction,
    stream,
)

KEY = "sk-live-0123456789abcdefghijkl"


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return tmp_path / "cassettes" / "test_thing.yaml"


# -- metadata ------------------------------------------------------------------------------------


def test_header_and_metadata(cassette: Path) -> None:
    save_interactions(cassette, [interaction({}, uri="http://user:pw@LOCALHOST:43125/v1/x?key=1"), interaction({})])
    text = cassette.read_text()
    assert text.startswith("# VLM Run skills harness cassette")
    assert "never reach this file" in text.splitlines()[1]
    document = yaml.safe_load(text)
    assert list(document) == ["version", "harness", "interactions"]
    assert document["version"] == 1
    meta = document["harness"]
    assert list(meta) == [
        "format",
        "description_sha256",
        "harness_version",
        "recorded_against",
        "client_stack",
        "recorded_at",
    ]
    assert meta["format"] == 1
    assert meta["description_sha256"] == load_contract().sha256
    assert meta["harness_version"] == harness.__version__
    assert meta["recorded_against"] == "http://localhost:43125"
    assert meta["client_stack"] == {
        name: importlib.metadata.version(name) for name in ("vlmrun", "openai", "httpx", "httpx2")
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["recorded_at"])
    assert load_interactions(cassette).metadata == meta


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://api.vlm.run/v1/openai/chat/completions?token=x", "https://api.vlm.run"),
        ("http://[::1]:8080/v1", "http://[::1]:8080"),
        ("https://u:p@example.com:443/", "https://example.com:443"),
    ],
)
def test_recorded_against_is_the_origin_only(uri: str, origin: str) -> None:
    assert recording_metadata([interaction({}, uri=uri)])["recorded_against"] == origin


def test_absent_client_packages_are_omitted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(persister, "CLIENT_PACKAGES", ("httpx", "no-such-package-here"))
    persister._client_stack.cache_clear()
    try:
        assert recording_metadata([])["client_stack"] == {"httpx": importlib.metadata.version("httpx")}
        assert "recorded_against" not in recording_metadata([])
    finally:
        persister._client_stack.cache_clear()


def test_recording_facts_are_kept_when_nothing_new_is_recorded(cassette: Path) -> None:
    save_interactions(cassette, [interaction({"n": 1}), interaction({"n": 2})])
    document = yaml.safe_load(cassette.read_text())
    document["harness"].update(recorded_at="2020-01-01T00:00:00Z", description_sha256="0" * 64)
    cassette.write_text(yaml.safe_dump(document, sort_keys=False))
    requests, responses, metadata = HarnessPersister.load_cassette(cassette, None)

    # drop_unused_requests, or a get_metadata() default: only loaded interactions are saved
    HarnessPersister.save_cassette(
        cassette, {"requests": requests[1:], "responses": responses[1:], "metadata": metadata}
    )
    meta = load_interactions(cassette).metadata
    assert (meta["recorded_at"], meta["description_sha256"]) == ("2020-01-01T00:00:00Z", "0" * 64)

    new_request, new_response = persister.to_vcr(interaction({"n": 3}))
    del new_request._harness_loaded
    HarnessPersister.save_cassette(
        cassette, {"requests": [*requests, new_request], "responses": [*responses, new_response], "metadata": metadata}
    )
    meta = load_interactions(cassette).metadata
    assert meta["recorded_at"] != "2020-01-01T00:00:00Z"
    assert meta["description_sha256"] == load_contract().sha256


# -- scrubbing -----------------------------------------------------------------------------------


def test_save_scrubs_again(cassette: Path) -> None:
    leaky = interaction(
        {"messages": [], "api_key": KEY, "metadata": {"note": f"Bearer {KEY}"}},
        stream([{"id": "c", "session_token": KEY}]),
        uri=f"https://user:{KEY}@api.vlm.run/v1/openai/chat/completions?api_key={KEY}",
        request_headers={"Authorization": [f"Bearer {KEY}"], "content-type": ["application/json"]},
        response_headers={**SSE, "Set-Cookie": [f"session={KEY}"]},
    )
    save_interactions(cassette, [leaky])
    assert KEY not in cassette.read_text()
    (loaded,) = load_interactions(cassette).interactions
    assert loaded.request.headers["Authorization"] == [REDACTED]
    assert json.loads(loaded.request.body)["api_key"] == REDACTED
    assert b'"session_token":"<redacted>"' in loaded.response.body


# -- loading errors -------------------------------------------------------------------------------

VALID = {
    "version": 1,
    "harness": {"format": 1},
    "interactions": [
        {
            "request": {"method": "GET", "uri": URL, "headers": {}},
            "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"json": {}}},
        }
    ],
}


def _broken(**paths: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(VALID))
    for path, value in paths.items():
        *parents, last = path.split("__")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        key: Any = int(last) if last.isdigit() else last
        if value is None:
            del node[key]
        else:
            node[key] = value
    return document


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([1, 2], "top level must be a mapping"),
        (_broken(interactions=None), "no 'interactions'"),
        (_broken(interactions="x"), "no 'interactions'"),
        (_broken(harness__format=2), "written by a newer harness"),
        (_broken(harness__format=None), "written by a newer harness"),
        (_broken(version=2), "unsupported vcrpy cassette version 2"),
        (_broken(interactions__0__request=None), "interaction 0: interaction has no 'request'"),
        (_broken(interactions__0__response=None), "interaction 0: interaction has no 'response'"),
        (_broken(interactions__0__request__method=None), "interaction 0: request has no 'method'"),
        (_broken(interactions__0__request__uri=None), "interaction 0: request has no 'uri'"),
        (_broken(interactions__0__response__status=None), "interaction 0: response has no 'status'"),
        (_broken(interactions__0__response__status={"code": "two hundred"}), "status code must be an integer"),
        (_broken(interactions__0__response__body={"yaml": "x"}), "interaction 0: unknown body kind 'yaml'"),
        (_broken(interactions__0__response__body={"json": 1, "text": "x"}), "unknown body kind"),
        (_broken(interactions__0__response__body={"base64": "%%%"}), "not valid base64"),
        (_broken(interactions__0__response__body={"text": 5}), "'text' must be a string"),
        (_broken(interactions__0__response__body={"events": [{"data": "x", "json": 1}]}), "events[0]"),
        (_broken(interactions__0__response__body={"events": {}}), "'events' must be a list"),
        (_broken(interactions__0__response__headers=["x"]), "'headers' must be a mapping"),
        (_broken(interactions__0="just text"), "interaction 0: interaction must be a mapping"),
        (_broken(metadata=[1]), "'metadata' must be a mapping"),
    ],
)
def test_malformed_cassettes_raise_naming_the_file(cassette: Path, document: Any, expected: str) -> None:
    cassette.parent.mkdir(parents=True)
    cassette.write_text(yaml.safe_dump(document))
    with pytest.raises(CassetteError) as info:
        load_interactions(cassette)
    assert str(cassette) in str(info.value)
    assert expected in str(info.value)


def test_yaml_errors_give_line_and_column(cassette: Path) -> None:
    cassette.parent.mkdir(parents=True)
    cassette.write_text("version: 1\ninteractions:\n- request: {method: GET\n  uri: [\n")
    with pytest.raises(CassetteError, match=r"test_thing.yaml is not valid YAML \(line \d+, column \d+\)"):
        load_interactions(cassette)
    cassette.write_bytes(b"version: 1\ninteractions: []\nx: \xff\xfe\n")
    with pytest.raises(CassetteError, match="not valid YAML"):
        load_interactions(cassette)


@pytest.mark.parametrize("content", [None, "", "  \n", "# only a comment\n"])
def test_missing_or_empty_cassettes_are_not_found(cassette: Path, content: str | None) -> None:
    if content is not None:
        cassette.parent.mkdir(parents=True)
        cassette.write_text(content)
    with pytest.raises(CassetteNotFoundError):
        load_interactions(cassette)
    with pytest.raises(CassetteNotFoundError):
        HarnessPersister.load_cassette(cassette, None)
    with pytest.raises(CassetteError, match=r"test_thing\.yaml"):
        read_cassette(cassette)


def test_missing_blob_names_cassette_interaction_and_blob(cassette: Path) -> None:
    body = completion_request(inline_skill())
    save_interactions(cassette, [interaction({}), interaction(body)])
    (blob,) = blob_dir_for(cassette).iterdir()
    blob.unlink()
    with pytest.raises(CassetteError) as info:
        read_cassette(cassette)
    assert all(part in str(info.value) for part in (str(cassette), "interaction 1", str(blob), "missing"))


def test_duplicate_interactions_are_allowed(cassette: Path) -> None:
    same = interaction({"a": 1})
    save_interactions(cassette, [same, same, same])
    assert len(read_cassette(cassette).interactions) == 3


def test_plain_vcrpy_cassettes_load(cassette: Path) -> None:
    request = Request("POST", URL, b'{"a":1}', {"content-type": "application/json"})
    response = {"status": {"code": 201, "message": "Created"}, "headers": {"x": ["1"]}, "body": {"string": b"\xff\x00"}}
    FilesystemPersister.save_cassette(
        cassette, {"requests": [request], "responses": [response]}, vcr.serializers.yamlserializer
    )
    (loaded,) = read_cassette(cassette).interactions
    assert (loaded.request.body, loaded.response.status, loaded.response.body) == (b'{"a":1}', 201, b"\xff\x00")


# -- atomic writes -------------------------------------------------------------------------------


def test_a_failing_dump_leaves_the_previous_cassette_intact(cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_interactions(cassette, [interaction({"v": "old"})])
    before = cassette.read_bytes()
    real_dump = yaml.dump

    def dump_half_then_fail(document: Any, stream: Any, **kwargs: Any) -> None:
        real_dump({"interactions": document["interactions"][:1]}, stream, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(yaml, "dump", dump_half_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_interactions(cassette, [interaction({"v": "new"}), interaction({"v": "newer"})])
    assert cassette.read_bytes() == before
    assert sorted(p.name for p in cassette.parent.iterdir()) == ["test_thing.yaml"]

    fresh = cassette.with_name("never_written.yaml")
    with pytest.raises(RuntimeError):
        save_interactions(fresh, [interaction({})])
    assert not fresh.exists()
    assert sorted(p.name for p in cassette.parent.iterdir()) == ["test_thing.yaml"]


def test_unwritable_cassette_is_a_cassette_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CassetteError, match=r"Cannot write cassette .*file/c\.yaml"):
        save_interactions(blocker / "c.yaml", [interaction({})])


_SAVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import yaml

    from harness.recording.persister import save_interactions
    from tests.recording._cassettes import interaction

    path, version = Path(sys.argv[1]), int(sys.argv[2])
    items = [interaction({"version": version, "i": i, "rows": list(range(40))}) for i in range(300)]
    real_dump = yaml.dump

    def announced_dump(*args, **kwargs):
        print("dumping", flush=True)  # the temp file exists and is being written
        return real_dump(*args, **kwargs)

    yaml.dump = announced_dump
    while True:
        save_interactions(path, items)
    """
)


@pytest.mark.parametrize("delay", [0.0, 0.05])
def test_sigkill_during_a_save_leaves_the_old_or_the_new_cassette(cassette: Path, delay: float) -> None:
    save_interactions(cassette, [interaction({"version": 0})])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(cassette), "1"], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    with proc.stdout:
        assert proc.stdout.readline() == b"dumping\n"
        if delay:
            assert proc.stdout.readline() == b"dumping\n"  # the first save completed: now kill the second
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert [p for p in cassette.parent.iterdir() if p.name.endswith(".tmp")], "the kill missed the write"
    loaded = read_cassette(cassette).interactions
    assert {json.loads(i.request.body)["version"] for i in loaded} == ({0} if not delay else {1})
    assert len(loaded) == (1 if not delay else 300)


# -- size ----------------------------------------------------------------------------------------


def test_a_large_bundle_costs_a_cassette_almost_nothing(tmp_path: Path) -> None:
    bundle = build_bundle({"SKILL.md": "---\nname: big\ndescription: Big\n---\n", "blob.bin": os.urandom(1 << 20)})
    item = interaction(completion_request(inline_skill(encode_bundle(bundle))), b'{"id":"r","choices":[]}')
    ours = save_interactions(tmp_path / "cassettes" / "ours.yaml", [item])
    theirs = tmp_path / "vcrpy.yaml"
    vcr_request, vcr_response = persister.to_vcr(item)
    FilesystemPersister.save_cassette(
        theirs, {"requests": [vcr_request], "responses": [vcr_response]}, vcr.serializers.yamlserializer
    )
    assert ours.stat().st_size < 0.05 * theirs.stat().st_size
    assert theirs.stat().st_size > 1 << 20


# -- vcrpy end to end ----------------------------------------------------------------------------


def _handler(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/stream"):
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream([{"n": 1}, {"n": 2}]))
    return httpx.Response(200, json={"echo": json.loads(request.content)["messages"][0]["content"]})


def _offline(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"replay must not reach the transport: {request.url}")


def test_vcrpy_records_and_replays_through_the_persister(cassette: Path) -> None:
    recorder = vcr.VCR(record_mode="once")
    recorder.register_persister(HarnessPersister)
    body = completion_request(inline_skill(), content="hi")
    with recorder.use_cassette(str(cassette)) as tape, httpx.Client(transport=httpx.MockTransport(_handler)) as client:
        assert tape.get_metadata("suite", "scenarios") == "scenarios"
        first = client.post(URL, json=body)
        streamed = client.post(URL + "/stream", json=body)
    assert cassette.exists()
    assert "$blob:sha256:" in cassette.read_text()
    assert yaml.safe_load(cassette.read_text())["metadata"] == {"suite": "scenarios"}

    replayer = vcr.VCR(record_mode="none")
    replayer.register_persister(HarnessPersister)
    with replayer.use_cassette(str(cassette)) as tape, httpx.Client(transport=httpx.MockTransport(_offline)) as client:
        assert tape.play_count == 0
        again = client.post(URL, json=body)
        streamed_again = client.post(URL + "/stream", json=body)
        assert tape.get_metadata("suite", "other") == "scenarios"
        assert tape.get_metadata("format", None) == 1
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert streamed_again.content == streamed.content == stream([{"n": 1}, {"n": 2}])


def test_extra_cassettes_are_loaded_but_never_written(tmp_path: Path) -> None:
    shared = tmp_path / "cassettes" / "shared.yaml"
    save_interactions(shared, [interaction({"shared": True})])
    extra_only = HarnessPersister.with_extra_paths([str(shared)])
    requests, responses = extra_only.load_cassette(tmp_path / "cassettes" / "missing.yaml", None)  # no metadata
    assert len(requests) == len(responses) == 1
    with pytest.raises(CassetteNotFoundError):
        HarnessPersister.with_extra_paths([str(tmp_path / "nope.yaml")]).load_cassette(tmp_path / "x.yaml", None)
    main = tmp_path / "cassettes" / "main.yaml"
    save_interactions(main, [interaction({"main": True})])
    requests, _, metadata = extra_only.load_cassette(main, None)
    assert [json.loads(r.body) for r in requests] == [{"main": True}, {"shared": True}]
    assert metadata["format"] == 1
    assert HarnessPersister.extra_paths == ()


def test_save_refuses_garbage_from_hooks(cassette: Path) -> None:
    with pytest.raises(CassetteError, match="interaction 0 is not a vcrpy request/response"):
        HarnessPersister.save_cassette(cassette, {"requests": [object()], "responses": [{}]}, None)
