"""`ScopedPersister`: vcrpy end to end, other APIs' cassettes left to the user's persister, the safe rewrite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml
from pytest_recording._vcr import CombinedPersister
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister

from harness.contract import load_contract
from harness.errors import CassetteError
from harness.recording.cassette_io import load_file, read_cassette, save_interactions, to_vcr
from harness.recording.configure import configure_vcr
from harness.recording.persister import ScopedPersister
from harness.recording.rewrite import RewriteGuard
from harness.recording.scope import Scope
from harness.recording.vcr_format import KEY
from tests.recording._cassettes import (
    BUNDLE_B64,
    FORMAT_1_ORIGIN,
    SECRET,
    URL,
    compact,
    completion_request,
    copy_format_1,
    indented,
    inline_skill,
    interaction,
    other_api_pair,
    stream,
)

YAML = vcr.serializers.yamlserializer
JSON_SERIALIZER = vcr.serializers.jsonserializer
SCOPE = Scope.build(base_urls=[URL])
AUTH = {"Authorization": f"Bearer {SECRET}"}


class SpyPersister(CombinedPersister):
    """pytest-recording's persister (the one a test's VCR uses by default), recording its calls."""

    def __init__(self, extra_paths: list[str] | None = None) -> None:
        super().__init__(list(extra_paths or []))
        self.calls: list[tuple[str, str]] = []

    def load_cassette(self, cassette_path: str, serializer: Any) -> Any:
        self.calls.append(("load", str(cassette_path)))
        return super().load_cassette(cassette_path, serializer)

    def save_cassette(self, cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        self.calls.append(("save", str(cassette_path)))
        super().save_cassette(cassette_path, cassette_dict, serializer)


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return tmp_path / "cassettes" / "test_thing.yaml"


def as_dict(pairs: list[tuple[Any, dict[str, Any]]], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """What vcrpy hands `save_cassette`."""
    out: dict[str, Any] = {"requests": [p[0] for p in pairs], "responses": [p[1] for p in pairs]}
    return {**out, "metadata": metadata} if metadata else out


def _handler(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/stream"):
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream([{"n": 1}, {"n": 2}]))
    if request.url.path.endswith("/session"):
        return httpx.Response(200, json={"session_token": SECRET}, headers={"set-cookie": f"s={SECRET}"})
    return httpx.Response(200, json={"echo": json.loads(request.content)["messages"][0]["content"], "t": "Grüße"})


def _offline(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"replay must not reach the transport: {request.url}")


def _vcr(scope: Scope = SCOPE, guard: RewriteGuard | None = None, **kwargs: Any) -> vcr.VCR:
    configured = vcr.VCR(**kwargs)
    configure_vcr(configured, scope, guard)
    return configured


# -- vcrpy end to end ----------------------------------------------------------------------------


def test_vcrpy_records_and_replays_through_the_persister(cassette: Path) -> None:
    body = completion_request(inline_skill(), content="hi")
    with (
        _vcr(record_mode="once").use_cassette(str(cassette)) as tape,
        httpx.Client(transport=httpx.MockTransport(_handler), headers=AUTH) as client,
    ):
        assert tape.get_metadata("suite", "scenarios") == "scenarios"
        first = client.post(URL, json=body)
        streamed = client.post(URL + "/stream", json=body)
        session = client.post(URL + f"/session?api_key={SECRET}", json=body)
    text = cassette.read_text()
    assert SECRET not in text
    assert "$blob:sha256:" in text
    assert BUNDLE_B64 not in text
    document = yaml.safe_load(text)
    assert document["metadata"] == {"suite": "scenarios"}
    assert document[KEY]["format"] == 2
    assert document[KEY]["recorded_against"] == "http://127.0.0.1:43125"
    stored = document["interactions"][0]["response"]
    assert stored["body"]["string"] == indented(first.json())
    assert stored["headers"]["content-length"] == [str(len(indented(first.json()).encode()))]
    assert document["interactions"][1]["response"]["body"]["string"] == stream([{"n": 1}, {"n": 2}]).decode()

    with (
        _vcr(record_mode="none").use_cassette(str(cassette)) as tape,
        httpx.Client(transport=httpx.MockTransport(_offline), headers=AUTH) as client,
    ):
        assert tape.play_count == 0
        again = client.post(URL, json=body)
        streamed_again = client.post(URL + "/stream", json=body)
        assert client.post(URL + f"/session?api_key={SECRET}", json=body).json() == {"session_token": "<redacted>"}
        assert tape.get_metadata("suite", "other") == "scenarios"
        assert tape.get_metadata(KEY, None)["format"] == 2
        with pytest.raises(CannotOverwriteExistingCassetteException):
            client.post(URL, json=completion_request(inline_skill(), content="something else"))
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["content-length"] == first.headers["content-length"] == str(len(first.content))
    assert streamed_again.content == streamed.content == stream([{"n": 1}, {"n": 2}])
    assert session.json() == {"session_token": SECRET}  # what the test saw live; never what was written


def test_a_format_1_cassette_replays_through_vcrpy(tmp_path: Path) -> None:
    path = copy_format_1(tmp_path)
    before = path.read_bytes()
    sent = load_file(path).requests[1].body
    with (
        _vcr(Scope.build(base_urls=[FORMAT_1_ORIGIN]), record_mode="none").use_cassette(str(path)),
        httpx.Client(transport=httpx.MockTransport(_offline)) as client,
    ):
        health = client.get(f"{FORMAT_1_ORIGIN}/v1/health")
        completion = client.post(
            f"{FORMAT_1_ORIGIN}/v1/openai/chat/completions", content=sent, headers={"content-type": "application/json"}
        )
    assert health.content == b'{"status":"ok"}'
    assert completion.json()["object"] == "chat.completion"
    assert completion.headers["content-length"] == str(len(completion.content)) == "426"
    assert path.read_bytes() == before  # replaying never rewrites a cassette


def test_the_json_serializer_records_json_and_replays_it(tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "test_thing.json"
    body = completion_request(inline_skill())
    with (
        _vcr(record_mode="once", serializer="json").use_cassette(str(path)),
        httpx.Client(transport=httpx.MockTransport(_handler)) as client,
    ):
        first = client.post(URL, json=body)
    document = json.loads(path.read_text())  # JSON, as the user configured, not our YAML
    assert document[KEY]["format"] == 2
    assert document["interactions"][0]["response"]["body"]["string"] == indented(first.json())
    assert BUNDLE_B64 not in path.read_text()
    with (
        _vcr(record_mode="none", serializer="json").use_cassette(str(path)),
        httpx.Client(transport=httpx.MockTransport(_offline)) as client,
    ):
        assert client.post(URL, json=body).content == first.content


# -- the recording stamp -------------------------------------------------------------------------


def test_recording_facts_are_kept_when_nothing_new_is_recorded(cassette: Path) -> None:
    persister = ScopedPersister(SpyPersister(), SCOPE)
    save_interactions(cassette, [interaction({"n": 1}), interaction({"n": 2})])
    document = yaml.safe_load(cassette.read_text())
    document[KEY].update(recorded_at="2020-01-01T00:00:00Z", description_sha256="0" * 64)
    cassette.write_text(yaml.safe_dump(document, sort_keys=False))
    requests, responses, metadata = persister.load_cassette(cassette, YAML)
    assert [getattr(r, "_vlmrun_harness_owned", None) for r in requests] == [True, True]

    # drop_unused_requests, or a get_metadata() default: only loaded interactions are saved
    persister.save_cassette(cassette, as_dict(list(zip(requests[1:], responses[1:], strict=True)), metadata), YAML)
    meta = read_cassette(cassette).metadata
    assert (meta["recorded_at"], meta["description_sha256"]) == ("2020-01-01T00:00:00Z", "0" * 64)
    assert meta["format"] == 2

    new_request, new_response = to_vcr(interaction({"n": 3}))
    assert getattr(new_request, "_vlmrun_harness_owned", None) is None  # fresh from the client: no mark
    pairs = [*zip(requests, responses, strict=True), (new_request, new_response)]
    persister.save_cassette(cassette, as_dict(pairs, metadata), YAML)
    meta = read_cassette(cassette).metadata
    assert meta["recorded_at"] != "2020-01-01T00:00:00Z"
    assert meta["description_sha256"] == load_contract().sha256
    assert persister.inner.calls == []


# -- other APIs' cassettes are the user's persister's --------------------------------------------


@pytest.mark.parametrize("serializer", [YAML, JSON_SERIALIZER], ids=["yaml", "json"])
def test_a_cassette_without_vlmrun_traffic_is_saved_by_the_inner_persister(tmp_path: Path, serializer: Any) -> None:
    spy = SpyPersister()
    ours, theirs = tmp_path / "ours" / "github.yaml", tmp_path / "theirs" / "github.yaml"
    for user in ({"suite": "x"}, {}):  # (pytest-recording cannot load a cassette with vcrpy `metadata`)
        stale = {**user, KEY: {"format": 2}}  # every VLM Run interaction was dropped since it was loaded
        ScopedPersister(spy, SCOPE).save_cassette(
            ours, as_dict([other_api_pair("a"), other_api_pair("b")], stale), serializer
        )
        FilesystemPersister.save_cassette(theirs, as_dict([other_api_pair("a"), other_api_pair("b")], user), serializer)
        assert ours.read_bytes() == theirs.read_bytes()  # byte for byte vcrpy's, minus the stamp
        assert KEY not in ours.read_text()
    assert spy.calls == [("save", str(ours))] * 2

    loaded = ScopedPersister(spy, SCOPE).load_cassette(ours, serializer)
    assert spy.calls[-1] == ("load", str(ours))
    assert [r.uri for r in loaded[0]] == [
        r.uri for r in CombinedPersister([]).load_cassette(str(theirs), serializer)[0]
    ]


def test_the_inner_persisters_errors_reach_other_apis_tests_untouched(cassette: Path) -> None:
    cassette.parent.mkdir(parents=True)
    cassette.write_text("version: 1\ninteractions: [\n")
    with pytest.raises(yaml.YAMLError):
        ScopedPersister(SpyPersister(), SCOPE).load_cassette(cassette, YAML)
    with pytest.raises(CassetteError) as info:
        ScopedPersister(SpyPersister(), SCOPE, vlmrun_test=True).load_cassette(cassette, YAML)
    message = str(info.value)
    assert message.startswith(f"Cassette {cassette} cannot be read: ")
    assert "(line 3, column 1)" in message
    assert message.endswith("restore it from version control or re-record it")

    missing = cassette.with_name("missing.yaml")
    for vlmrun_test in (False, True):
        with pytest.raises(CassetteNotFoundError):
            ScopedPersister(SpyPersister(), SCOPE, vlmrun_test=vlmrun_test).load_cassette(missing, YAML)


def test_an_empty_cassette_of_a_vlmrun_test_is_not_found(cassette: Path) -> None:
    cassette.parent.mkdir(parents=True)
    cassette.write_text("\n")
    with pytest.raises(CassetteNotFoundError):
        ScopedPersister(SpyPersister(), SCOPE, vlmrun_test=True).load_cassette(cassette, YAML)


def test_a_broken_harness_cassette_is_a_cassette_error_for_any_test(cassette: Path) -> None:
    save_interactions(cassette, [interaction({})])
    cassette.write_text(cassette.read_text().replace("version: 1\n", "version: 1\nversion: 1\n"))
    spy = SpyPersister()
    with pytest.raises(CassetteError, match=r"test_thing\.yaml is not valid YAML \(line \d+, column 1\): found dup"):
        ScopedPersister(spy, SCOPE).load_cassette(cassette, YAML)
    assert spy.calls == []


def test_a_mixed_cassette_keeps_each_interactions_owner(cassette: Path) -> None:
    persister = ScopedPersister(SpyPersister(), Scope.build())  # the recording's port is no longer registered
    ours = to_vcr(interaction({"a": 1}))
    ours[0]._vlmrun_harness_owned = True  # loaded from a cassette the harness wrote
    persister.save_cassette(cassette, as_dict([ours, other_api_pair()]), YAML)
    document = yaml.safe_load(cassette.read_text())
    assert [KEY in node["response"] for node in document["interactions"]] == [True, False]

    requests, _ = persister.load_cassette(cassette, YAML)[:2]
    assert [Scope.build().owns(r) for r in requests] == [True, False]  # the mark, not the origin, decides
    assert persister.inner.calls == []


def test_unwritable_cassettes_are_cassette_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CassetteError, match=r"Cannot write cassette .*file/c\.yaml"):
        ScopedPersister(SpyPersister(), SCOPE).save_cassette(
            blocker / "c.yaml", as_dict([to_vcr(interaction({}))]), YAML
        )
    guard = RewriteGuard(blocker / "g.yaml", passed=lambda: True)
    with pytest.raises(CassetteError, match=r"Cannot write cassette .*file/g\.yaml"):
        ScopedPersister(SpyPersister(), SCOPE, guard).save_cassette(
            blocker / "g.yaml", as_dict([other_api_pair()]), YAML
        )


# -- extra cassettes (pytest-recording's `vcr` marker) -------------------------------------------


def test_extra_cassettes_are_loaded_but_never_written(tmp_path: Path) -> None:
    shared = save_interactions(tmp_path / "cassettes" / "shared.yaml", [interaction({"shared": True})])
    shared_bytes = shared.read_bytes()
    spy = SpyPersister([str(shared)])
    persister = ScopedPersister(spy, SCOPE)
    assert persister.extra_paths == [str(shared)]
    requests, responses = persister.load_cassette(tmp_path / "cassettes" / "missing.yaml", YAML)  # no metadata
    assert len(requests) == len(responses) == 1
    with pytest.raises(CassetteNotFoundError):
        ScopedPersister(SpyPersister([str(tmp_path / "nope.yaml")]), SCOPE).load_cassette(tmp_path / "x.yaml", YAML)

    main = save_interactions(tmp_path / "cassettes" / "main.yaml", [interaction({"main": True})])
    requests, responses, metadata = persister.load_cassette(main, YAML)
    assert [json.loads(r.body) for r in requests] == [{"main": True}, {"shared": True}]
    assert metadata[KEY]["format"] == 2

    persister.save_cassette(main, as_dict(list(zip(requests, responses, strict=True)), metadata), YAML)
    assert shared.read_bytes() == shared_bytes
    assert [json.loads(i.request.body) for i in read_cassette(main).interactions] == [{"main": True}, {"shared": True}]
    assert spy.calls == []


def test_a_plain_main_cassette_loads_beside_a_harness_extra(tmp_path: Path) -> None:
    shared = save_interactions(tmp_path / "cassettes" / "shared.yaml", [interaction({"shared": True})])
    main = tmp_path / "cassettes" / "github.yaml"
    FilesystemPersister.save_cassette(main, as_dict([other_api_pair()], {"suite": "x"}), YAML)
    requests, _, metadata = ScopedPersister(SpyPersister([str(shared)]), SCOPE).load_cassette(main, YAML)
    assert [r.uri for r in requests] == [other_api_pair()[0].uri, URL]
    assert metadata == {"suite": "x"}


def test_a_broken_plain_cassette_beside_a_harness_one_is_refused_as_the_main_one_is(tmp_path: Path) -> None:
    shared = save_interactions(tmp_path / "cassettes" / "shared.yaml", [interaction({"shared": True})])
    main = tmp_path / "cassettes" / "github.yaml"
    main.write_text("version: 1\ninteractions: [\n")
    with pytest.raises(yaml.YAMLError):
        ScopedPersister(SpyPersister([str(shared)]), SCOPE).load_cassette(main, YAML)
    with pytest.raises(CassetteError) as info:
        ScopedPersister(SpyPersister([str(shared)]), SCOPE, vlmrun_test=True).load_cassette(main, YAML)
    assert str(info.value) == (
        f"Cassette {main} cannot be read: did not find expected node content (line 3, column 1): "
        "restore it from version control or re-record it"
    )


# -- the safe rewrite ----------------------------------------------------------------------------


class Outcome:
    passed = False

    def __call__(self) -> bool:
        return self.passed


def _guarded(extra_paths: list[str] | None = None) -> tuple[Outcome, RewriteGuard, ScopedPersister]:
    outcome = Outcome()
    guard = RewriteGuard(Path("not-set-yet"), passed=outcome)
    return outcome, guard, ScopedPersister(SpyPersister(extra_paths), SCOPE, guard)


def test_under_the_rewrite_guard_the_old_cassette_is_not_loaded(tmp_path: Path) -> None:
    main = save_interactions(tmp_path / "cassettes" / "main.yaml", [interaction({"main": True})])
    shared = save_interactions(tmp_path / "cassettes" / "shared.yaml", [interaction({"shared": True})])
    _, guard, persister = _guarded([str(shared)])
    requests, _ = persister.load_cassette(main, YAML)
    assert [json.loads(r.body) for r in requests] == [{"shared": True}]  # extras still load
    assert guard.path == main

    plain = tmp_path / "cassettes" / "github.yaml"
    FilesystemPersister.save_cassette(plain, as_dict([other_api_pair()]), YAML)
    for path in (main, plain):
        _, _, alone = _guarded()
        with pytest.raises(CassetteNotFoundError):
            alone.load_cassette(path, YAML)
        assert alone.inner.calls == []


def test_a_test_that_did_not_pass_keeps_the_old_cassette(cassette: Path) -> None:
    save_interactions(cassette, [interaction({"old": True})])
    before = cassette.read_bytes()
    _, guard, persister = _guarded()
    with pytest.raises(CassetteNotFoundError):
        persister.load_cassette(cassette, YAML)
    persister.save_cassette(cassette, as_dict([to_vcr(interaction({"new": True}))]), YAML)
    assert cassette.read_bytes() == before
    assert (guard.kept, guard.saved) == (True, False)
    note = guard.finish()
    assert note is not None
    assert "\n" not in note
    assert str(cassette) in note
    assert "kept the previous recording" in note
    assert cassette.read_bytes() == before


def test_a_test_that_passed_replaces_the_old_cassette(cassette: Path) -> None:
    save_interactions(cassette, [interaction({"old": True})])
    outcome, guard, persister = _guarded()
    with pytest.raises(CassetteNotFoundError):
        persister.load_cassette(cassette, YAML)
    outcome.passed = True
    persister.save_cassette(cassette, as_dict([to_vcr(interaction({"new": True}))]), YAML)
    assert [json.loads(i.request.body) for i in read_cassette(cassette).interactions] == [{"new": True}]
    assert (guard.kept, guard.saved) == (False, True)
    assert guard.finish() is None
    assert cassette.exists()
    assert [p.name for p in cassette.parent.iterdir()] == [cassette.name]  # no temp file left


def test_a_test_that_passed_without_recording_loses_its_cassette(cassette: Path) -> None:
    save_interactions(cassette, [interaction({"old": True})])
    outcome, guard, persister = _guarded()
    with pytest.raises(CassetteNotFoundError):
        persister.load_cassette(cassette, YAML)
    outcome.passed = True
    assert guard.finish() is None
    assert not cassette.exists()  # as pytest-recording's rewrite would have left it
    assert guard.finish() is None  # and a second look finds nothing to do


def test_a_failing_test_with_no_cassette_has_nothing_to_say(cassette: Path) -> None:
    _, guard, persister = _guarded()
    with pytest.raises(CassetteNotFoundError):
        persister.load_cassette(cassette, YAML)
    assert guard.finish() is None


def test_under_the_guard_other_apis_cassettes_are_vcrpys_bytes_written_atomically(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours" / "github.yaml", tmp_path / "theirs" / "github.yaml"
    outcome, guard, persister = _guarded()
    outcome.passed = True
    persister.save_cassette(ours, as_dict([other_api_pair()], {"suite": "x", KEY: {"format": 2}}), YAML)
    FilesystemPersister.save_cassette(theirs, as_dict([other_api_pair()], {"suite": "x"}), YAML)
    assert ours.read_bytes() == theirs.read_bytes()
    assert guard.saved
    assert persister.inner.calls == []


def test_the_safe_rewrite_through_vcrpy(cassette: Path) -> None:
    body = completion_request(content="again")
    save_interactions(cassette, [interaction(body, b'{"old":true}')])
    before = cassette.read_bytes()
    outcome = Outcome()
    guard = RewriteGuard(cassette, passed=outcome)
    recorder = _vcr(guard=guard, record_mode="new_episodes")  # what the plugin asks for under rewrite

    with recorder.use_cassette(str(cassette)), httpx.Client(transport=httpx.MockTransport(_handler)) as client:
        live = client.post(URL, json=body)  # the old recording is not loaded: the call goes out
    assert json.loads(live.content)["echo"] == "again"
    assert cassette.read_bytes() == before
    assert guard.kept
    assert guard.finish() is not None

    outcome.passed = True
    with recorder.use_cassette(str(cassette)), httpx.Client(transport=httpx.MockTransport(_handler)) as client:
        live = client.post(URL, json=body)
    (item,) = read_cassette(cassette).interactions
    assert item.response.body == live.content == compact({"echo": "again", "t": "Grüße"}).encode()
    assert guard.saved
    assert guard.finish() is None
    assert cassette.exists()
