"""Judging hand-made probe reports: description, reference server, canonical form, verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.docs_examples import MODEL, SeedExample, dict_form, object_form, seed_examples
from harness.matrix.evaluate import (
    ENDPOINT,
    FAIL,
    KNOWN,
    NA,
    OK,
    UNEXPECTED_PASS,
    Evaluator,
    LongRequestCell,
    evaluator,
    long_request_outcome,
)
from harness.matrix.expect import EMPTY, OTHER, RAISED, RESULT
from harness.matrix.long_requests import POLLS, Seen

EXAMPLES = {e.name: e for e in seed_examples()}
OPENAI_1 = {"python": "3.11.7", "vlmrun": "0.9.2", "openai": "1.109.1", "httpx": "0.28.1"}
OPENAI_3 = {**OPENAI_1, "openai": "3.57.0"}
MODERN = {"vlmrun": True, "agent_skill": True, "skills_kwarg": True, "dump_has_version": False, "openai": True}
OLD_SDK = {**MODERN, "skills_kwarg": False, "dump_has_version": True}


@pytest.fixture(scope="module")
def judge() -> Iterator[Evaluator]:
    with evaluator(seed_examples()) as ev:
        yield ev


def _body(example: SeedExample, skills: list[Any], *, openai_1_order: bool = False) -> str:
    body = {"model": MODEL, "messages": example.messages, "skills": skills}
    if openai_1_order:
        body = {"messages": body["messages"], "model": MODEL, "skills": skills}
    return json.dumps(body, separators=(",", ":"))


def _sent(example: str, path: str, body: str, *, error: str | None = None, times: int = 1) -> dict[str, Any]:
    return {
        "example": example,
        "path": path,
        "outcome": "sent",
        "posts": [{"path": ENDPOINT, "body": body}] * times,
        "error": error,
    }


def _failed(example: str, path: str, error: str) -> dict[str, Any]:
    return {"example": example, "path": path, "outcome": "error", "posts": [], "error": error}


def _judge(judge: Evaluator, raw: dict[str, Any], versions: Any = OPENAI_3, features: Any = MODERN) -> Any:
    (cell,) = judge.cells("s", {"versions": versions, "features": features, "cells": [raw]})
    return cell


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
@pytest.mark.parametrize("form", [dict_form, object_form])
def test_real_wire_forms_work(judge: Evaluator, example: SeedExample, form: Any) -> None:
    body = _body(example, [form(s) for s in example.skills], openai_1_order=True)
    cell = _judge(judge, _sent(example.name, "vlmrun-objects", body))
    assert cell.verdict == OK, cell.problems
    assert (cell.valid, cell.status, cell.canonical_equal, cell.problems) == (True, 200, True, ())
    assert len(cell.resolved) == len(example.skills)
    assert cell.body == body  # byte for byte


def test_the_resolved_revisions_are_shown(judge: Evaluator) -> None:
    pinned = EXAMPLES["pinned"]
    cell = _judge(judge, _sent("pinned", "openai-dict", _body(pinned, [dict_form(s) for s in pinned.skills])))
    assert cell.resolved == ("patient-referral@20260219-abc123",)


def test_the_typeerror_on_openai_1_is_a_known_failure(judge: Evaluator) -> None:
    error = "TypeError: Object of type AgentSkill is not JSON serializable"
    cell = _judge(judge, _failed("single", "vlmrun-objects", error), versions=OPENAI_1)
    assert (cell.verdict, cell.outcome, cell.error, cell.rule) == (KNOWN, "error", error, "objects-need-openai-2.17")
    assert "openai 1.109.1" in cell.reason
    assert cell.body is None
    assert cell.valid is None


def test_a_known_failure_that_fails_another_way_fails(judge: Evaluator) -> None:
    cell = _judge(judge, _failed("single", "vlmrun-objects", "APIConnectionError: boom"), versions=OPENAI_1)
    assert cell.verdict == FAIL


def test_a_known_failure_that_works_is_an_unexpected_pass(judge: Evaluator) -> None:
    single = EXAMPLES["single"]
    cell = _judge(
        judge, _sent("single", "vlmrun-objects", _body(single, [{"skill_name": "invoice-extraction"}])), OPENAI_1
    )
    assert cell.verdict == UNEXPECTED_PASS


def test_the_helper_path_is_expected_to_work_everywhere(judge: Evaluator) -> None:
    error = "TypeError: Object of type AgentSkill is not JSON serializable"
    cell = _judge(judge, _failed("single", "vlmrun-objects-helper", error), versions=OPENAI_1)
    assert (cell.verdict, cell.expected) == (FAIL, "works")
    assert cell.problems == ("nothing sent", f"client error: {error}")


def test_a_body_the_api_rejects_fails_with_the_field_named(judge: Evaluator) -> None:
    single = EXAMPLES["single"]
    cell = _judge(judge, _sent("single", "openai-dict", _body(single, [{"skil_name": "invoice-extraction"}])))
    assert cell.verdict == FAIL
    assert cell.valid is False
    assert cell.status == 422
    assert cell.canonical_equal is False
    assert any("skills[0]" in v for v in cell.violations)
    assert "the description rejects the body" in cell.problems
    assert "reference server answered 422" in cell.problems


def test_a_dropped_pin_resolves_another_revision_and_is_not_canonical_equal(judge: Evaluator) -> None:
    pinned = EXAMPLES["pinned"]
    cell = _judge(judge, _sent("pinned", "openai-dict", _body(pinned, [{"skill_name": "patient-referral"}])))
    assert (cell.verdict, cell.valid, cell.status) == (FAIL, True, 200)
    assert cell.resolved == ("patient-referral@20260408-9c3a43f5",)
    assert cell.canonical_diff == ("skills[0].skill_version: 'latest' != '20260219-abc123'",)
    assert cell.problems == (
        "resolved patient-referral@20260408-9c3a43f5, the vlmrun dict form patient-referral@20260219-abc123",
        "canonical form differs from the vlmrun dict form",
    )


def test_retries_errors_after_sending_and_wrong_urls_fail(judge: Evaluator) -> None:
    single = EXAMPLES["single"]
    body = _body(single, [dict_form(s) for s in single.skills])
    assert "sent 2 requests for one call" in _judge(judge, _sent("single", "openai-dict", body, times=2)).problems
    late = _judge(judge, _sent("single", "openai-dict", body, error="APIResponseValidationError: bad"))
    assert (late.verdict, late.outcome) == (FAIL, "sent")
    raw = _sent("single", "openai-dict", body)
    raw["posts"][0]["path"] = "/v1//openai/chat/completions"
    assert _judge(judge, raw).problems == ("sent to /v1//openai/chat/completions, not /v1/openai/chat/completions",)
    garbage = _judge(judge, _sent("single", "openai-dict", "not json"))
    assert (garbage.verdict, garbage.valid) == (FAIL, False)


def test_old_sdk_rules(judge: Evaluator) -> None:
    kwarg = "TypeError: Completions.create() got an unexpected keyword argument 'skills'"
    old = {**OPENAI_3, "vlmrun": "0.5.8"}
    assert _judge(judge, _failed("single", "vlmrun-dict", kwarg), old, OLD_SDK).verdict == KNOWN
    inline = EXAMPLES["inline"]
    legacy = [{**dict_form(s), "version": "latest"} for s in inline.skills]
    for skill in legacy:
        del skill["skill_version"]
    cell = _judge(judge, _sent("inline", "vlmrun-dict-extra-body", _body(inline, legacy)), old, OLD_SDK)
    assert (cell.verdict, cell.status, cell.rule) == (OK, 200, ""), "vlmrun <= 0.5.10 sends `version` on inline skills"


def test_absent_clients_are_not_applicable(judge: Evaluator) -> None:
    raw: dict[str, Any] = {"example": "single", "path": "vlmrun-dict", "outcome": "n/a", "posts": [], "error": None}
    cell = _judge(judge, raw, features={"openai": True})
    assert (cell.verdict, cell.expected) == (NA, "n/a")


# --- long requests ----------------------------------------------------------------------------

FOLLOWED = Seen(("POST 303", "GET 202"))
POLLED = Seen(("POST 303", "GET 202", "GET 202", "GET 200"), result='{"invoice_id": "x"}')
EMPTY_STRING = {"example": "single", "path": "vlmrun-dict", "returned": "str ''", "content": None, "error": None}


def _long(judge: Evaluator, raw: dict[str, Any], seen: Seen, versions: Any = OPENAI_3) -> LongRequestCell:
    cell = judge.long_request("s", {"versions": versions, "features": MODERN, "long_request": raw}, seen)
    assert cell is not None
    return cell


@pytest.mark.parametrize(
    ("raw", "seen", "outcome", "detail"),
    [
        (EMPTY_STRING, FOLLOWED, EMPTY, "followed the 303 with a GET and returned str '' for the completion"),
        (
            {**EMPTY_STRING, "returned": "ChatCompletion(...)", "content": '{"invoice_id": "x"}'},
            POLLED,
            RESULT,
            "polled (3 GETs) and returned the completion",
        ),
        (
            {**EMPTY_STRING, "returned": None, "error": "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"},
            Seen(("POST 303", "GET 202", "GET 202")),
            EMPTY,
            "followed the 303 with 2 GETs, then raised JSONDecodeError parsing the answer",
        ),
        (
            {**EMPTY_STRING, "returned": None, "error": "APIStatusError: 303"},
            Seen(("POST 303",)),
            RAISED,
            "raised APIStatusError",
        ),
        (
            {**EMPTY_STRING, "returned": None, "error": "APITimeoutError: Request timed out."},
            FOLLOWED,
            RAISED,
            "raised APITimeoutError after a GET",
        ),
        (EMPTY_STRING, Seen(("POST 303",)), OTHER, "returned str '' without polling"),
        (
            {**EMPTY_STRING, "returned": "ChatCompletion(...)", "content": "another"},
            POLLED,
            OTHER,
            "returned a completion other than the one the poll answered",
        ),
    ],
)
def test_what_a_client_made_of_a_303(raw: dict[str, Any], seen: Seen, outcome: str, detail: str) -> None:
    assert long_request_outcome(raw, seen) == (outcome, detail)


def test_a_released_stack_following_the_303_is_the_known_failure(judge: Evaluator) -> None:
    cell = _long(judge, EMPTY_STRING, FOLLOWED)
    assert cell == LongRequestCell(
        stack="s",
        example="single",
        path="vlmrun-dict",
        polls=POLLS,
        outcome=EMPTY,
        detail="followed the 303 with a GET and returned str '' for the completion",
        exchanges=("POST 303", "GET 202"),
        gets=1,
        returned="str ''",
        expected="known failure",
        rule="no-long-request-polling",
        reason=(
            "openai 3.57.0 (under vlmrun 0.9.2, which does not poll) follows the 303 with a GET (httpx follows "
            "redirects) and returns the first 202's empty body as the result, without an error; poll `Location` "
            "until a 200 yourself"
        ),
        verdict=KNOWN,
    )


def test_a_released_stack_that_polls_is_improved_and_one_that_raises_fails(judge: Evaluator) -> None:
    polled = {**EMPTY_STRING, "returned": "ChatCompletion(...)", "content": '{"invoice_id": "x"}'}
    assert _long(judge, polled, POLLED).verdict == UNEXPECTED_PASS
    raised = {**EMPTY_STRING, "returned": None, "error": "APIStatusError: 303"}
    assert _long(judge, raised, Seen(("POST 303",))).verdict == FAIL


def test_a_newer_vlmrun_must_poll(judge: Evaluator) -> None:
    newer = {**OPENAI_3, "vlmrun": "0.9.3"}
    polled = {**EMPTY_STRING, "returned": "ChatCompletion(...)", "content": '{"invoice_id": "x"}'}
    assert (_long(judge, polled, POLLED, newer).verdict, _long(judge, polled, POLLED, newer).expected) == (OK, "works")
    assert _long(judge, EMPTY_STRING, FOLLOWED, newer).verdict == FAIL


def test_no_long_request_without_the_probe_asked_and_n_a_without_a_client(judge: Evaluator) -> None:
    assert judge.long_request("s", {"versions": OPENAI_3, "cells": []}, Seen()) is None
    cell = _long(judge, {**EMPTY_STRING, "path": None}, Seen())
    assert (cell.outcome, cell.expected, cell.verdict) == (NA, NA, NA)
