"""Key lookups on a cassette: vcrpy's replay semantics, without the scan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from vcr.cassette import Cassette
from vcr.errors import UnhandledHTTPRequestError
from vcr.record_mode import RecordMode
from vcr.request import Request

from harness.recording import lookup
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
