"""Key lookups on a cassette: vcrpy's replay semantics, without the scan."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
import vcr
import yaml
from vcr.cassette import Cassette
from vcr.errors import UnhandledHTTPRequestError
from vcr.record_mode import RecordMode
from vcr.request import Request

from harness.recording import lookup, matcher
from harness.recording.configure import configure_vcr
from harness.recording.scope import Scope, mark

URL = "https://api.vlm.run/v1/openai/chat/completions"


def _body(n: int) -> bytes:
    return b'{"messages":[{"role":"user","content":"%d"}]}' % n


def _cassette(bodies: list[bytes], *, repeats: bool = False, extra: Sequence[tuple[Request, Any]] = ()) -> Cassette:
    cassette = Cassette("unused.yaml", record_mode=RecordMode.NONE, allow_playback_repeats=repeats)
    for i, body in enumerate(bodies):
        cassette.append(mark(Request("POST", URL, body, {}), True), {"answer": i})
    for request, response in extra:
        cassette.append(request, response)
    cassette.rewound = True
    lookup.install(cassette, Scope.build())
    return cassette


def _live(body: bytes) -> Request:
    return Request("POST", URL, body, {})


def test_identical_requests_play_in_recording_order_once_each() -> None:
    cassette = _cassette([_body(1), _body(2), _body(1)])
    assert [cassette.play_response(_live(_body(1)))["answer"] for _ in range(2)] == [0, 2]
    assert cassette.play_response(_live(_body(2)))["answer"] == 1
    with pytest.raises(UnhandledHTTPRequestError):
        cassette.play_response(_live(_body(1)))
    assert _live(_body(1)) not in cassette


def test_allow_playback_repeats_replays_the_first_match() -> None:
    cassette = _cassette([_body(1)], repeats=True)
    assert [cassette.play_response(_live(_body(1)))["answer"] for _ in range(3)] == [0, 0, 0]


def test_a_miss_is_vcrpys_miss() -> None:
    cassette = _cassette([_body(1)])
    assert _live(_body(9)) not in cassette
    with pytest.raises(UnhandledHTTPRequestError):
        cassette.play_response(_live(_body(9)))


def test_interactions_recorded_after_the_first_lookup_are_found() -> None:
    cassette = _cassette([_body(1)])
    assert cassette.play_response(_live(_body(1)))["answer"] == 0
    cassette.append(Request("POST", URL, _body(5), {}), {"answer": "new"})
    assert cassette.play_response(_live(_body(5)))["answer"] == "new"


def test_a_request_sent_byte_for_byte_again_takes_its_recordings_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a body in another form has its canonical form computed; the same bytes under another URI do not
    borrow a recording's key."""
    skill = {"type": "skill_reference", "skill_name": "invoice"}
    recorded = json.dumps({"model": "vlmrun-orion-1:auto", "messages": [], "skills": [skill]}).encode()
    cassette = _cassette([recorded, _body(2)])
    assert cassette.play_response(_live(_body(2)))["answer"] == 1  # builds the index: the recorded keys
    computed: list[bytes] = []
    compute = matcher._compute

    def counting(path: str, raw: bytes) -> Any:
        computed.append(raw)
        return compute(path, raw)

    monkeypatch.setattr(matcher, "_compute", counting)
    matcher._cache.clear()
    cassette.rewind()
    assert cassette.play_response(_live(recorded))["answer"] == 0
    assert computed == []
    cassette.rewind()
    other_form = json.dumps({"skills": [{**skill, "skill_version": "latest"}], "messages": []}).encode()
    assert cassette.play_response(_live(other_form))["answer"] == 0  # the canonical form decides
    assert computed == [other_form]
    elsewhere = Request("POST", URL + "?stream=false", recorded, {})
    assert elsewhere not in cassette
    assert computed == [other_form, recorded]


def test_other_apis_go_through_vcrpys_scan_untouched() -> None:
    github = Request("GET", "https://api.github.com/user", None, {})
    cassette = _cassette([_body(1)], extra=[(github, {"answer": "octocat"})])
    assert cassette.play_response(Request("GET", "https://api.github.com/user", None, {}))["answer"] == "octocat"
    with pytest.raises(UnhandledHTTPRequestError):
        cassette.play_response(Request("GET", "https://api.github.com/orgs", None, {}))


def test_install_is_idempotent() -> None:
    cassette = _cassette([_body(1)])
    index = cassette._responses
    lookup.install(cassette, Scope.build())
    assert cassette._responses is index


# -- long requests: a 303's Location is polled ------------------------------------------------

POLL = "/v1/openai/chat/completions?__modal_function_call_id=fc-1"


def _answer(status: int, body: bytes = b"", **headers: str) -> dict[str, Any]:
    return {
        "status": {"code": status, "message": ""},
        "headers": {name: [value] for name, value in headers.items()},
        "body": {"string": body},
    }


def _long_request(*polls: dict[str, Any], location: str = POLL, rewound: bool = True) -> Cassette:
    """A recorded POST answered 303, then its polls' answers in order."""
    cassette = Cassette("unused.yaml", record_mode=RecordMode.NONE)
    cassette.append(mark(Request("POST", URL, _body(1), {}), True), _answer(303, location=location))
    for answer in polls:
        cassette.append(mark(Request("GET", "https://api.vlm.run" + POLL, None, {}), True), answer)
    cassette.rewound = rewound
    lookup.install(cassette, Scope.build())
    return cassette


def _poll() -> Request:
    return Request("GET", "https://api.vlm.run" + POLL, None, {})


def _statuses(cassette: Cassette, polls: int) -> list[int]:
    out = [cassette.play_response(_live(_body(1)))["status"]["code"]]
    for _ in range(polls):
        assert cassette.can_play_response_for(_poll())
        out.append(cassette.play_response(_poll())["status"]["code"])
    return out


def test_polls_replay_the_recorded_answers_in_order_then_the_result_again() -> None:
    """A client polling more than the recording did gets the result again, as a reloaded result URL does."""
    cassette = _long_request(_answer(202), _answer(202), _answer(200, b'{"id":"c"}'))
    assert _statuses(cassette, 5) == [303, 202, 202, 200, 200, 200]
    assert cassette.all_played


def test_a_client_that_stops_polling_early_leaves_the_rest_unplayed() -> None:
    cassette = _long_request(_answer(202), _answer(202), _answer(200, b'{"id":"c"}'))
    assert _statuses(cassette, 1) == [303, 202]
    assert not cassette.all_played


def test_a_201_result_is_answered_again_too() -> None:
    cassette = _long_request(_answer(204), _answer(201, b'{"id":"c"}'))
    assert _statuses(cassette, 3) == [303, 204, 201, 201]


def test_a_recording_that_ends_before_the_result_has_nothing_to_repeat() -> None:
    cassette = _long_request(_answer(202))
    assert _statuses(cassette, 1) == [303, 202]
    assert not cassette.can_play_response_for(_poll())
    with pytest.raises(UnhandledHTTPRequestError):
        cassette.play_response(_poll())


def test_an_empty_200_is_not_a_result() -> None:
    """The SDK's rule: `200`/`201` *with a body* is the result; an empty one means keep waiting."""
    cassette = _long_request(_answer(200))
    assert _statuses(cassette, 1) == [303, 200]
    assert not cassette.can_play_response_for(_poll())


def test_a_relative_location_is_joined_to_the_request_url() -> None:
    cassette = _long_request(_answer(200, b'{"id":"c"}'), location="?__modal_function_call_id=fc-1")
    assert _statuses(cassette, 2) == [303, 200, 200]


def test_a_get_no_303_pointed_at_is_still_played_once() -> None:
    skills = "https://api.vlm.run/v1/skills"
    listed = (mark(Request("GET", skills, None, {}), True), _answer(200, b"[]"))
    cassette = _cassette([_body(1)], extra=[listed])
    assert cassette.play_response(Request("GET", skills, None, {}))["status"]["code"] == 200
    assert Request("GET", skills, None, {}) not in cassette
    assert not cassette.can_play_response_for(Request("GET", skills, None, {}))


def test_nothing_is_answered_again_while_recording_afresh() -> None:
    """A new recording never replays (vcrpy's `rewound`): every poll goes to the server and is recorded."""
    cassette = _long_request(_answer(200, b'{"id":"c"}'), rewound=False)
    assert not cassette.can_play_response_for(_poll())


SCENARIO = (
    Path(__file__).resolve().parents[2]
    / "cassettes"
    / "test_long_requests"
    / "test_raw_httpx_gets_the_303_and_polls_until_the_completion.yaml"
)


@pytest.mark.parametrize("polls", [1, 7], ids=["fewer", "more"])
def test_a_recorded_long_request_replays_for_fewer_or_more_polls(tmp_path: Path, polls: int) -> None:
    """The scenario suite's recording (303, 202, 202, 200, then the result reloaded once), replayed by httpx."""
    recorder = vcr.VCR()
    configure_vcr(recorder, Scope.build())
    shutil.copy(SCENARIO, tmp_path / "long.yaml")
    base = "https://api.vlm.run/v1/openai/chat/completions"
    body = json.loads(yaml.safe_load(SCENARIO.read_text())["interactions"][0]["request"]["body"])
    with recorder.use_cassette(str(tmp_path / "long.yaml"), record_mode="none") as cassette, httpx.Client() as client:
        lookup.install(cassette, Scope.build())
        posted = client.post(base, json=body, headers={"Authorization": "Bearer k"})
        poll = urljoin(base, posted.headers["location"])
        seen = [client.get(poll, headers={"Authorization": "Bearer k"}).status_code for _ in range(polls)]
    assert posted.status_code == 303
    assert seen == [202, 202, 200, 200, 200, 200, 200][:polls]
