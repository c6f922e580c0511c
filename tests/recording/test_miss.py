from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
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


POLL = URL + "?__modal_function_call_id="


def _polled_cassette() -> Cassette:
    """A long request as recorded: the POST answered 303, then two polls of job fc-1."""
    cassette = _cassette()
    see_other = {"status": {"code": 303, "message": "See Other"}, "headers": {"location": [POLL + "fc-1"]}}
    cassette.append(_req([{"skill_name": "invoice-extraction"}], uri=URL + "?long=1"), {**see_other, "body": {}})
    for code in (202, 200):
        answer = {"status": {"code": code, "message": ""}, "headers": {}, "body": {"string": b"{}"}}
        cassette.append(Request("GET", POLL + "fc-1", b"", {}), answer)
    return cassette


def _miss(live: Request, cassette: Cassette, test: str | None = "pytest test_x.py::test_poll") -> str:
    return str(
        miss_from_vcr(CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=live), test=test)
    )


def test_a_poll_of_another_job_says_the_job_id_differs_and_to_re_record() -> None:
    live = Request("GET", POLL + "fc-2", b"", {})
    assert _miss(live, _polled_cassette()) == (
        "No recorded interaction matches GET /v1/openai/chat/completions?__modal_function_call_id=fc-2 in cassette "
        "cassettes/test_x.yaml (record mode none).\n"
        "The job id differs: this poll asks for job 'fc-2', the recording polled job 'fc-1' (interaction 3); only "
        "the __modal_function_call_id query parameter differs.\n"
        "Re-record with --record-mode=rewrite (pytest test_x.py::test_poll): a replay polls only the job its "
        "recording started."
    )


@pytest.fixture
def on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cassette's file exists (its content is not read: the cassette object is the test's)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cassettes").mkdir()
    (tmp_path / "cassettes" / "test_x.yaml").write_text("interactions: []\n")


@pytest.mark.usefixtures("on_disk")
def test_a_poll_that_differs_in_more_than_its_job_id_names_both_queries() -> None:
    live = Request("GET", POLL + "fc-2&trace=1", b"", {})
    assert _miss(live, _polled_cassette(), test=None) == (
        "No recorded interaction matches GET /v1/openai/chat/completions?__modal_function_call_id=fc-2&trace=1 in "
        "cassette cassettes/test_x.yaml (record mode none).\n"
        "Closest recorded: interaction 3, the same body with another query: recorded "
        "GET /v1/openai/chat/completions?__modal_function_call_id=fc-1, sent "
        "GET /v1/openai/chat/completions?__modal_function_call_id=fc-2&trace=1.\n"
        "If the call changed on purpose, re-record with --record-mode=rewrite; otherwise fix the call."
    )


@pytest.mark.usefixtures("on_disk")
def test_a_post_with_the_same_body_and_another_query_is_not_called_already_played() -> None:
    live = _req([{"skill_name": "invoice-extraction"}], uri=URL + "?long=2")
    assert _miss(live, _polled_cassette(), test=None) == (
        "No recorded interaction matches POST /v1/openai/chat/completions?long=2 in cassette cassettes/test_x.yaml "
        "(record mode none).\n"
        "Closest recorded: interaction 0, the same body with another query: recorded "
        "POST /v1/openai/chat/completions, sent POST /v1/openai/chat/completions?long=2.\n"
        "If the call changed on purpose, re-record with --record-mode=rewrite; otherwise fix the call."
    )
