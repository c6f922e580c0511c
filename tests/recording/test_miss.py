from __future__ import annotations

import json
from typing import Any

from vcr import matchers
from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.record_mode import RecordMode
from vcr.request import Request

from harness.errors import CassetteMiss
from harness.recording.matcher import vlmrun_body
from harness.recording.miss import find_vcr_miss, miss_from_vcr
from harness.recording.scrub import scrub_vcr_request

URL = "http://127.0.0.1:1/v1/openai/chat/completions"


def _req(skills: list[Any], uri: str = URL) -> Request:
    body = {"messages": [{"role": "user", "content": "hi"}], "skills": skills}
    return Request("POST", uri, json.dumps(body).encode(), {"content-type": "application/json"})


def _cassette() -> Cassette:
    cassette = Cassette(
        "cassettes/test_x.yaml",
        record_mode=RecordMode.NONE,
        match_on=(matchers.method, matchers.path, matchers.query, vlmrun_body),
        before_record_request=scrub_vcr_request,
    )
    response = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": b"{}"}}
    cassette.append(_req([{"skill_name": "invoice-extraction"}]), response)
    cassette.append(_req([{"skill_name": "patient-referral", "skill_version": "20260219-abc123"}]), response)
    return cassette


def _wrapped(live: Request) -> BaseException:
    """What openai 1.x raises: APIConnectionError whose cause is vcrpy's exception."""
    try:
        try:
            raise CannotOverwriteExistingCassetteException(cassette=_cassette(), failed_request=live)
        except CannotOverwriteExistingCassetteException as inner:
            raise ConnectionError("Connection error.") from inner
    except ConnectionError as outer:
        return outer


def test_a_wrapped_miss_is_found_and_names_the_closest_interaction_and_field() -> None:
    live = _req([{"skill_name": "patient-referral", "skill_version": "20260408-9c3a43f5"}], uri=URL.replace(":1", ":2"))
    miss = miss_from_vcr(find_vcr_miss(_wrapped(live)))
    assert isinstance(miss, CassetteMiss)
    text = str(miss)
    assert "cassettes/test_x.yaml" in text
    assert "Closest recorded: interaction 1" in text
    assert 'skills[0].skill_version: recorded "20260219-abc123", sent "20260408-9c3a43f5"' in text
    assert "--record-mode" in text


def test_a_miss_on_another_path_lists_what_the_cassette_holds() -> None:
    live = Request("GET", "http://127.0.0.1:1/v1/skills", b"", {})
    text = str(miss_from_vcr(find_vcr_miss(_wrapped(live))))
    assert "holds no GET to that path" in text
    assert "POST /v1/openai/chat/completions" in text


def test_unrelated_errors_are_not_misses() -> None:
    assert find_vcr_miss(ValueError("x")) is None
    assert find_vcr_miss(None) is None
