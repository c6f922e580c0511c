"""Cassette files in and out: the stamp, scrubbing, errors naming the file, blobs, atomic writes, size."""

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

import pytest
import vcr
import yaml
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.request import Request

import harness
from harness.bundles import build_bundle, encode_bundle
from harness.contract import load_contract
from harness.errors import CassetteError
from harness.header_names import REFERENCE_HEADER
from harness.recording import stamp
from harness.recording.blobs import blob_dir_for
from harness.recording.cassette_io import (
    load_file,
    read_cassette,
    save_interactions,
    to_vcr,
    write_pairs,
)
from harness.recording.scrub import REDACTED
from harness.recording.stamp import recording_metadata
from harness.recording.vcr_format import KEY
from tests.recording._cassettes import (
    BUNDLE,
    SECRET,
    SSE,
    URL,
    compact,
    completion_request,
    edited,
    inline_skill,
    interaction,
    other_api_pair,
    stream,
    write_yaml,
)

STAMP_KEYS = ["format", "description_sha256", "harness_version", "recorded_against", "client_stack", "recorded_at"]


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return tmp_path / "cassettes" / "test_thing.yaml"


# -- the stamp -----------------------------------------------------------------------------------


def test_header_and_stamp(cassette: Path) -> None:
    save_interactions(cassette, [interaction({}, uri="http://user:pw@LOCALHOST:43125/v1/x?key=1"), interaction({})])
    text = cassette.read_text()
    assert text.startswith("# VLM Run skills harness cassette")
    assert "never reach this file" in text.splitlines()[1]
    document = yaml.safe_load(text)
    assert list(document) == ["version", KEY, "interactions"]  # no vcrpy `metadata` unless the test set some
    assert document["version"] == 1
    meta = document[KEY]
    assert list(meta) == STAMP_KEYS
    assert meta["format"] == 2
    assert meta["description_sha256"] == load_contract().sha256
    assert meta["harness_version"] == harness.__version__
    assert meta["recorded_against"] == "http://localhost:43125"
    assert meta["client_stack"] == {
        name: importlib.metadata.version(name) for name in ("vlmrun", "openai", "httpx", "httpx2")
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["recorded_at"])
    assert read_cassette(cassette).metadata == meta
    assert read_cassette(cassette).user_metadata == {}
    assert load_file(cassette).recording == meta


def test_the_reference_server_is_stamped_when_it_answered(cassette: Path) -> None:
    answered = {"content-type": ["application/json"], REFERENCE_HEADER: ["vlmrun-skills-harness reference server"]}
    save_interactions(cassette, [interaction({}), interaction({}, response_headers=answered)])
    meta = yaml.safe_load(cassette.read_text())[KEY]
    assert list(meta) == [*STAMP_KEYS[:4], "server", *STAMP_KEYS[4:]]
    assert meta["server"] == "vlmrun-skills-harness reference server"


def test_user_metadata_is_kept_beside_the_stamp(cassette: Path) -> None:
    save_interactions(cassette, [interaction({})], user_metadata={"suite": "scenarios", KEY: {"format": 99}})
    document = yaml.safe_load(cassette.read_text())
    assert list(document) == ["version", KEY, "metadata", "interactions"]
    assert document["metadata"] == {"suite": "scenarios"}
    assert document[KEY]["format"] == 2  # a stale stamp in the metadata is never written back
    loaded = read_cassette(cassette)
    assert loaded.user_metadata == {"suite": "scenarios"}
    assert loaded.metadata == document[KEY]


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://api.vlm.run/v1/openai/chat/completions?token=x", "https://api.vlm.run"),
        ("http://[::1]:8080/v1", "http://[::1]:8080"),
        ("https://u:p@example.com:443/", "https://example.com:443"),
    ],
)
def test_recorded_against_is_the_origin_only(uri: str, origin: str) -> None:
    assert recording_metadata([uri], [])["recorded_against"] == origin


def test_recorded_against_is_vlmruns_origin_in_a_mixed_cassette(cassette: Path) -> None:
    write_pairs(cassette, [other_api_pair(), to_vcr(interaction({}))], [False, True])
    assert yaml.safe_load(cassette.read_text())[KEY]["recorded_against"] == "http://127.0.0.1:43125"


def test_absent_client_packages_are_omitted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stamp, "CLIENT_PACKAGES", ("httpx", "no-such-package-here"))
    stamp._client_stack.cache_clear()
    try:
        assert recording_metadata([], [])["client_stack"] == {"httpx": importlib.metadata.version("httpx")}
        assert "recorded_against" not in recording_metadata([], [])
        assert "server" not in recording_metadata([], [])
    finally:
        stamp._client_stack.cache_clear()


def test_previous_recording_facts_win_but_not_the_format() -> None:
    previous = {"format": 1, "recorded_at": "2020-01-01T00:00:00Z", "server": "old", "unknown": "dropped"}
    meta = recording_metadata([URL], [], previous)
    assert (meta["format"], meta["recorded_at"], meta["server"]) == (2, "2020-01-01T00:00:00Z", "old")
    assert "unknown" not in meta


# -- scrubbing -----------------------------------------------------------------------------------


def test_save_scrubs_again(cassette: Path) -> None:
    leaky = interaction(
        {"messages": [], "api_key": SECRET, "metadata": {"note": f"Bearer {SECRET}"}},
        compact({"id": "c", "session_token": SECRET, "echo": f"Bearer {SECRET}"}).encode(),
        uri=f"https://user:{SECRET}@api.vlm.run/v1/openai/chat/completions?api_key={SECRET}&page=2",
        request_headers={
            "Authorization": [f"Bearer {SECRET}"],
            "X-Api-Key": [SECRET],
            "content-type": ["application/json"],
        },
        response_headers={"content-type": ["application/json"], "Set-Cookie": [f"session={SECRET}"]},
    )
    save_interactions(cassette, [leaky])
    assert SECRET not in cassette.read_text()
    (loaded,) = read_cassette(cassette).interactions
    assert loaded.request.uri == "https://api.vlm.run/v1/openai/chat/completions?api_key=<redacted>&page=2"
    assert loaded.request.headers["Authorization"] == [REDACTED]
    assert loaded.request.headers["X-Api-Key"] == [REDACTED]
    assert json.loads(loaded.request.body) == {"messages": [], "api_key": REDACTED, "metadata": {"note": REDACTED}}
    assert loaded.response.headers["Set-Cookie"] == [REDACTED]
    assert json.loads(loaded.response.body) == {"id": "c", "session_token": REDACTED, "echo": REDACTED}


def test_secrets_in_event_streams_are_scrubbed_on_save(cassette: Path) -> None:
    save_interactions(cassette, [interaction({}, stream([{"id": "c", "session_token": SECRET}]), response_headers=SSE)])
    assert SECRET not in cassette.read_text()


def test_other_apis_interactions_are_not_scrubbed_by_the_harness(cassette: Path) -> None:
    write_pairs(cassette, [to_vcr(interaction({})), other_api_pair()], [True, False])
    assert "token ghp_not_ours" in cassette.read_text()  # the user's own filters decide for their APIs


# -- loading errors ------------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "version": 1,
    KEY: {"format": 2},
    "interactions": [
        {
            "request": {"method": "POST", "uri": URL, "body": '{\n  "a": 1\n}', "headers": {}},
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {"content-length": ["16"]},
                "body": {"string": '{\n  "ok": true\n}'},
                KEY: {"request_body": "json", "response_body": "json"},
            },
        }
    ],
}


def _broken(**paths: Any) -> dict[str, Any]:
    return edited(VALID, **paths)


def test_the_valid_document_loads(cassette: Path) -> None:
    (loaded,) = read_cassette(write_yaml(cassette, VALID)).interactions
    assert (loaded.request.body, loaded.response.body) == (b'{"a":1}', b'{"ok":true}')
    assert loaded.response.headers["content-length"] == ["11"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([1, 2], "top level must be a mapping"),
        (_broken(interactions=None), "no 'interactions'"),
        (_broken(interactions="x"), "no 'interactions'"),
        (_broken(metadata=[1]), "'metadata' must be a mapping"),
        (_broken(version=2), "unsupported vcrpy cassette version 2"),
        (_broken(KEY="x"), f"{KEY!r} must be a mapping"),
        (_broken(KEY__format=3), "written by a newer harness (format 3"),
        (_broken(KEY__format=None), f"unknown {KEY}.format None"),
        (_broken(KEY__format="2"), f"unknown {KEY}.format '2'"),
        (_broken(KEY__format=True), f"unknown {KEY}.format True"),
        (_broken(interactions__0="just text"), "interaction 0: interaction must be a mapping"),
        (_broken(interactions__0__request=None), "interaction 0: interaction has no 'request'"),
        (_broken(interactions__0__response=None), "interaction 0: interaction has no 'response'"),
        (_broken(interactions__0__request__method=None), "interaction 0: request has no 'method'"),
        (_broken(interactions__0__request__uri=None), "interaction 0: request has no 'uri'"),
        (_broken(interactions__0__request__headers={"a": {"b": 1}}), "request header 'a' must be a string"),
        (_broken(interactions__0__request__body={"json": {}}), "request body must be a string, not dict"),
        (_broken(interactions__0__response__status=None), "interaction 0: response has no 'status'"),
        (_broken(interactions__0__response__status={"code": "two hundred"}), "status code must be an integer"),
        (_broken(interactions__0__response__status={"code": 99}), "from 100 to 599, not 99"),
        (_broken(interactions__0__response__headers=["x"]), "response 'headers' must be a mapping"),
        (_broken(interactions__0__response__body={"string": 5}), "response body 'string' must be a string, not int"),
        (_broken(interactions__0__response__KEY="json"), f"response {KEY!r} must be a mapping"),
        (_broken(interactions__0__response__KEY={"response_body": "yaml"}), "response body has an unknown body kind"),
        (_broken(interactions__0__response__KEY={"request_body": "yaml"}), "request body has an unknown body kind"),
        (
            _broken(interactions__0__response__body={"string": "not json"}),
            "interaction 0: response body is marked 'json' but is not JSON",
        ),
        (_broken(interactions__0__request__body="{not json"), "request body is marked 'json' but is not JSON"),
        (_broken(interactions__0__request__body=b"\xff\xfe"), "request body is marked 'json' but is not text"),
        pytest.param(
            _broken(interactions__0__response__body={"json": {"ok": True}}),
            "response body is marked 'json' but has no 'string'",
            id="marked-response-without-string",
        ),
    ],
)
def test_malformed_cassettes_raise_naming_the_file(cassette: Path, document: Any, expected: str) -> None:
    write_yaml(cassette, document)
    with pytest.raises(CassetteError) as info:
        read_cassette(cassette)
    assert str(cassette) in str(info.value)
    assert expected in str(info.value)


def test_yaml_errors_give_line_and_column(cassette: Path) -> None:
    cassette.parent.mkdir(parents=True)
    cassette.write_text("version: 1\ninteractions:\n- request: {method: GET\n  uri: [\n")
    with pytest.raises(CassetteError, match=r"test_thing.yaml is not valid YAML \(line \d+, column \d+\)"):
        read_cassette(cassette)
    cassette.write_bytes(b"version: 1\ninteractions: []\nx: \xff\xfe\n")
    with pytest.raises(CassetteError, match="not valid YAML"):
        read_cassette(cassette)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nversion: 1\ninteractions: []\n", r"\(line 2, column 1\): found duplicate key 'version'"),
        ("version: 1\nx: &a [1]\ny: *a\ninteractions: []\n", r"\(line 2, column 4\): .*aliases are not allowed"),
        (
            "version: 1\nx: {a: 1}\ny: {<<: {b: 2}}\ninteractions: []\n",
            r"\(line 3, column 5\): YAML merge keys \(<<\) are not allowed",
        ),
    ],
    ids=["duplicate-key", "alias", "merge-key"],
)
def test_yaml_a_harness_never_writes_is_refused(cassette: Path, text: str, expected: str) -> None:
    cassette.parent.mkdir(parents=True)
    cassette.write_text(text)
    with pytest.raises(CassetteError, match=r"test_thing\.yaml is not valid YAML " + expected):
        read_cassette(cassette)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{", "Expecting property name"), ('{"version": 1, "version": 1, "interactions": []}', "duplicate key 'version'")],
)
def test_json_cassette_errors_name_the_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(CassetteError, match=r"c\.json is not valid JSON: .*" + expected):
        read_cassette(path)


@pytest.mark.parametrize("content", [None, "", "  \n", "# only a comment\n"])
def test_missing_or_empty_cassettes_are_not_found(cassette: Path, content: str | None) -> None:
    if content is not None:
        cassette.parent.mkdir(parents=True)
        cassette.write_text(content)
    with pytest.raises(CassetteNotFoundError):
        load_file(cassette)
    with pytest.raises(CassetteError, match=r"Cassette .*test_thing\.yaml (does not exist|is empty)"):
        read_cassette(cassette)


def test_missing_blob_names_cassette_interaction_and_blob(cassette: Path) -> None:
    body = completion_request(inline_skill())
    save_interactions(cassette, [interaction({}), interaction(body)])
    (blob,) = blob_dir_for(cassette).iterdir()
    blob.unlink()
    with pytest.raises(CassetteError) as info:
        read_cassette(cassette)
    assert all(part in str(info.value) for part in (str(cassette), "interaction 1", str(blob), "missing"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not a zip", "corrupt (not a valid zip)"),
        (build_bundle({"SKILL.md": "---\nname: other\ndescription: Other\n---\n"}), "corrupt (its content digest is"),
    ],
    ids=["garbage", "another-bundle"],
)
def test_corrupt_blob_names_cassette_interaction_and_blob(cassette: Path, content: bytes, expected: str) -> None:
    save_interactions(cassette, [interaction(completion_request(inline_skill()))])
    (blob,) = blob_dir_for(cassette).iterdir()
    blob.write_bytes(content)
    with pytest.raises(CassetteError) as info:
        read_cassette(cassette)
    assert all(part in str(info.value) for part in (str(cassette), "interaction 0", str(blob), expected))


def test_duplicate_interactions_are_allowed(cassette: Path) -> None:
    same = interaction({"a": 1})
    save_interactions(cassette, [same, same, same])
    assert len(read_cassette(cassette).interactions) == 3


@pytest.mark.parametrize("serializer", [vcr.serializers.yamlserializer, vcr.serializers.jsonserializer])
def test_plain_vcrpy_cassettes_load(tmp_path: Path, serializer: Any) -> None:
    path = tmp_path / ("c.json" if serializer is vcr.serializers.jsonserializer else "c.yaml")
    request = Request("POST", URL, b'{"a":1}', {"content-type": "application/json"})
    body = b"\xff\x00" if serializer is vcr.serializers.yamlserializer else b"text"
    response = {"status": {"code": 201, "message": "Created"}, "headers": {"x": ["1"]}, "body": {"string": body}}
    FilesystemPersister.save_cassette(path, {"requests": [request], "responses": [response]}, serializer)
    loaded = load_file(path)
    assert (loaded.harness, loaded.owned, loaded.recording) == (False, [False], {})
    (item,) = loaded.interactions()
    assert (item.request.body, item.response.status, item.response.body) == (b'{"a":1}', 201, body)
    assert item.vlmrun is False


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


def test_blobs_are_written_before_the_cassette(cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise yaml.YAMLError("cannot emit")

    monkeypatch.setattr(yaml, "dump", fail)
    with pytest.raises(CassetteError, match=r"Cannot write cassette .*test_thing\.yaml: cannot emit"):
        save_interactions(cassette, [interaction(completion_request(inline_skill()))])
    assert not cassette.exists()
    assert [p.read_bytes() for p in blob_dir_for(cassette).iterdir()] == [BUNDLE]  # never a dangling reference


def test_unwritable_cassette_is_a_cassette_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CassetteError, match=r"Cannot write cassette .*file/c\.yaml"):
        save_interactions(blocker / "c.yaml", [interaction({})])


def test_save_refuses_garbage_from_hooks_with_a_cassette_error(cassette: Path) -> None:
    with pytest.raises(CassetteError, match="interaction 0"):
        write_pairs(cassette, [(Request("GET", URL, None, {}), {"status": {"code": 200}})], [True])


_SAVER = textwrap.dedent(
    """
    import contextlib
    import sys
    import time
    from pathlib import Path

    from harness.recording import cassette_io
    from tests.recording._cassettes import interaction

    path, version = Path(sys.argv[1]), int(sys.argv[2])
    rounds = [
        [interaction({"version": version, "round": r, "i": i, "rows": list(range(40))}) for i in range(1000)]
        for r in (0, 1)
    ]  # alternated: a save whose content would not change leaves the file alone and writes nothing
    real_writer = cassette_io.atomic_writer

    class HalfThenTheRest:
        def __init__(self, stream):
            self.stream = stream

        def write(self, data):
            half = len(data) // 2
            self.stream.write(data[:half])
            self.stream.flush()
            print("dumping", flush=True)  # the temp file exists and holds half the cassette
            time.sleep(0.2)
            return self.stream.write(data[half:])

    @contextlib.contextmanager
    def announced_writer(target):
        with real_writer(target) as stream:
            yield HalfThenTheRest(stream)

    cassette_io.atomic_writer = announced_writer
    while True:
        for items in rounds:
            cassette_io.save_interactions(path, items)
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
    assert len(loaded) == (1 if not delay else 1000)


# -- size ----------------------------------------------------------------------------------------


def test_a_large_bundle_costs_a_cassette_almost_nothing(tmp_path: Path) -> None:
    bundle = build_bundle({"SKILL.md": "---\nname: big\ndescription: Big\n---\n", "blob.bin": os.urandom(1 << 20)})
    item = interaction(completion_request(inline_skill(encode_bundle(bundle))), b'{"id":"r","choices":[]}')
    ours = save_interactions(tmp_path / "cassettes" / "ours.yaml", [item, item, item])
    theirs = tmp_path / "vcrpy.yaml"
    vcr_request, vcr_response = to_vcr(item)
    FilesystemPersister.save_cassette(
        theirs, {"requests": [vcr_request], "responses": [vcr_response]}, vcr.serializers.yamlserializer
    )
    assert ours.stat().st_size < 0.05 * theirs.stat().st_size  # three calls, against vcrpy's one
    assert theirs.stat().st_size > 1 << 20
    (blob,) = blob_dir_for(ours).iterdir()  # the bundle once
    assert blob.read_bytes() == bundle
    assert all(json.loads(i.request.body) == json.loads(item.request.body) for i in read_cassette(ours).interactions)


@pytest.mark.parametrize("enabled", [True, False])
def test_a_load_leaves_the_cyclic_collector_as_it_found_it(tmp_path: Path, enabled: bool) -> None:
    """Loading pauses the collector (it walked the heap again for every batch of new containers)."""
    import gc

    good = save_interactions(tmp_path / "good.yaml", [interaction({"model": "m", "messages": []})])
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nvlmrun_harness: {format: 2}\ninteractions: [\n")
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        load_file(good)
        with pytest.raises(CassetteError):
            load_file(bad)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
