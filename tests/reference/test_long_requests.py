"""Long requests: `303 See Other`, then polls of `Location` (harness serve --long-requests POLLS)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import pytest
from starlette.testclient import TestClient

from harness.contract import load_contract
from harness.header_names import RESOLVED_HEADER
from harness.recording.conformance import check_recorded
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse
from harness.reference.app import ServerConfig, create_app
from harness.reference.long_requests import EXAMPLE_JOB, EXAMPLE_RESULT, JobTable
from tests.reference.conftest import AUTH, KEY
from tests.serving import harness_serve

COMPLETIONS = "/v1/openai/chat/completions"
BODY = {"messages": [{"role": "user", "content": "Extract."}], "skills": [{"skill_name": "invoice-extraction"}]}
LOCATION = re.compile(r"/v1/openai/chat/completions\?__modal_function_call_id=fc-[0-9a-f]{24}")


def _client(polls: int | None) -> TestClient:
    # follow_redirects off: what each client does with the 303 is tests/scenarios/test_long_requests.py's
    return TestClient(create_app(config=ServerConfig(api_key=KEY, long_requests=polls)), follow_redirects=False)


@pytest.fixture(scope="module")
def long_client() -> Iterator[TestClient]:
    with _client(2) as c:
        yield c


def _conforms(response: httpx.Response | httpx2.Response) -> None:
    """The answer judged by the description, as a recorded interaction would be (Starlette's
    TestClient answers with httpx2's Response, a served process with httpx's)."""
    request = response.request
    recorded = Interaction(
        RecordedRequest(request.method, str(request.url), {}, request.content),
        RecordedResponse(
            response.status_code,
            headers={k: [v] for k, v in response.headers.items()},
            body=response.content,
        ),
    )
    assert check_recorded(recorded, load_contract()) == []


def test_a_completion_is_a_303_then_polls_answer_202_then_the_completion(long_client: TestClient) -> None:
    with _client(None) as plain:
        direct = plain.post(COMPLETIONS, headers=AUTH, json=BODY)
    posted = long_client.post(COMPLETIONS, headers=AUTH, json=BODY)
    assert (posted.status_code, posted.content) == (303, b"")
    assert LOCATION.fullmatch(posted.headers["location"])
    polls = [long_client.get(posted.headers["location"], headers=AUTH) for _ in range(4)]
    assert [(p.status_code, p.content) for p in polls[:2]] == [(202, b""), (202, b"")]
    for done in polls[2:]:  # the result, and again: a result URL can be reloaded
        assert done.status_code == 200
        assert done.content == direct.content
        assert done.headers["content-type"] == "application/json"
        assert done.headers[RESOLVED_HEADER] == direct.headers[RESOLVED_HEADER]
    for answer in [posted, *polls]:
        _conforms(answer)


def test_a_poll_without_the_key_is_401(long_client: TestClient) -> None:
    location = long_client.post(COMPLETIONS, headers=AUTH, json=BODY).headers["location"]
    refused = long_client.get(location)
    assert (refused.status_code, refused.json()) == (
        401,
        {"detail": "Missing API key: send 'Authorization: Bearer <VLMRUN_API_KEY>'"},
    )
    assert long_client.get(location, headers=AUTH).status_code == 202  # a refused poll is not counted
    _conforms(refused)


def test_with_no_polls_the_first_poll_is_the_result() -> None:
    with _client(0) as c:
        location = c.post(COMPLETIONS, headers=AUTH, json=BODY).headers["location"]
        assert c.get(location, headers=AUTH).json()["object"] == "chat.completion"


def test_jobs_are_separate(long_client: TestClient) -> None:
    first = long_client.post(COMPLETIONS, headers=AUTH, json=BODY).headers["location"]
    second = long_client.post(COMPLETIONS, headers=AUTH, json=BODY).headers["location"]
    assert first != second
    assert [long_client.get(first, headers=AUTH).status_code for _ in range(3)] == [202, 202, 200]
    assert long_client.get(second, headers=AUTH).status_code == 202


def test_a_stream_is_answered_at_once(long_client: TestClient) -> None:
    streamed = long_client.post(COMPLETIONS, headers=AUTH, json={**BODY, "stream": True})
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert streamed.text.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, BODY, 401),
        (AUTH, {"messages": []}, 422),
        (AUTH, {**BODY, "skills": [{"skill_name": "no-such-skill"}]}, 404),
    ],
    ids=["no key", "invalid", "unknown skill"],
)
def test_errors_are_answered_at_once(long_client: TestClient, headers: Any, body: Any, status: int) -> None:
    answer = long_client.post(COMPLETIONS, headers=headers, json=body)
    assert answer.status_code == status
    assert "location" not in answer.headers
    _conforms(answer)


@pytest.mark.parametrize("polls", [None, 2], ids=["off", "on"])
def test_a_poll_of_an_unknown_job_is_404(polls: int | None) -> None:
    with _client(polls) as c:
        answer = c.get(f"{COMPLETIONS}?__modal_function_call_id=fc-nope", headers=AUTH)
    assert (answer.status_code, answer.json()) == (
        404,
        {"detail": "No long request 'fc-nope': unknown, or no longer kept"},
    )
    _conforms(answer)


@pytest.mark.parametrize("polls", [None, 2], ids=["off", "on"])
def test_the_descriptions_example_job_is_always_finished(polls: int | None) -> None:
    """So a fuzzer polling the documented example reaches a result, as it reaches the seeded skills."""
    [parameter] = load_contract().document["paths"][COMPLETIONS]["get"]["parameters"]
    assert parameter["example"] == EXAMPLE_JOB
    with _client(polls) as c:
        answers = [c.get(f"{COMPLETIONS}?__modal_function_call_id={EXAMPLE_JOB}", headers=AUTH) for _ in range(2)]
    assert [(a.status_code, a.json()) for a in answers] == [(200, EXAMPLE_RESULT)] * 2
    _conforms(answers[0])


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("", {"loc": ["query", "__modal_function_call_id"], "msg": "Field required", "type": "missing"}),
        (
            "?__modal_function_call_id=",
            {
                "loc": ["query", "__modal_function_call_id"],
                "msg": "String should have at least 1 character",
                "type": "string_too_short",
            },
        ),
    ],
    ids=["missing", "empty"],
)
def test_a_poll_without_a_job_id_is_422(long_client: TestClient, query: str, detail: dict[str, Any]) -> None:
    answer = long_client.get(COMPLETIONS + query, headers=AUTH)
    assert (answer.status_code, answer.json()) == (422, {"detail": [detail]})


def test_the_job_table_is_bounded_least_recently_polled_first() -> None:
    table = JobTable(0, size=2)
    first, second = table.start(b"{}", {}), table.start(b"{}", {})
    assert table.poll(first) is not None  # polled: now the more recent of the two
    third = table.start(b"{}", {})
    assert len(table) == 2
    assert table.poll(second) is None
    assert table.poll(first) is not None
    assert table.poll(third) is not None


def test_harness_serve_long_requests(tmp_path: Any) -> None:
    with (
        harness_serve(KEY, tmp_path, "--long-requests", "1") as served,
        httpx.Client(base_url=served.url, headers=AUTH) as client,
    ):
        location = client.post(COMPLETIONS, json=BODY).headers["location"]
        assert [client.get(location).status_code for _ in range(2)] == [202, 200]


def test_harness_serve_refuses_a_bad_number_of_polls() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--long-requests", "two"], capture_output=True, text=True
    )
    assert (shown.returncode, shown.stderr) == (
        2,
        "error: argument --long-requests: two is not a number of polls: use 0 or more; see `harness serve --help`\n",
    )


PLUGIN_TEST = """
import httpx

def test_long(vlmrun_base_url, vlmrun_api_key):
    posted = httpx.post(
        vlmrun_base_url + "/openai/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": "Bearer " + vlmrun_api_key},
    )
    assert posted.status_code == EXPECTED
"""


@pytest.mark.parametrize(
    ("args", "ini", "expected"),
    [([], "", 200), (["--vlmrun-long-requests", "3"], "", 303), ([], "vlmrun_long_requests = 1\n", 303)],
    ids=["off", "option", "ini"],
)
def test_the_plugin_option_and_ini_turn_long_requests_on(
    pytester: pytest.Pytester, args: list[str], ini: str, expected: int
) -> None:
    pytester.makeini(f"[pytest]\n{ini}")
    pytester.makepyfile(test_long=PLUGIN_TEST.replace("EXPECTED", str(expected)))
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args).assert_outcomes(passed=1)


def test_a_bad_ini_value_is_one_line_and_exit_4(pytester: pytest.Pytester) -> None:
    ini = pytester.makeini("[pytest]\nvlmrun_long_requests = many\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines == [
        f"ERROR: {ini} vlmrun_long_requests: many is not a number of polls: use 0 or more",
        "",
    ]
