"""schemathesis' failure reports, read back and shown with what a person needs to act."""

from __future__ import annotations

from harness.gate.property_failures import Replay, case_lines, failure_details
from harness.proptests.codes import MEANINGS
from harness.proptests.failures import CaseFailure, Check, error_summary, parse_failure_text
from harness.proptests.runner import OperationResult, RunResult

# A `<failure>` text from schemathesis 4.32.5's JUnit report (a server whose health answer breaks
# its schema and ignores the key), as written.
HEALTH = """1. Test Case ID: d5zYZJ

- ST108 Response violates schema

    5 is not of type "string"

    Validated against the response schema for status code 200.

    Schema at /properties/status:

        {
            "type": "string",
            "description": "Assumption: the body is not documented; `ok` here."
        }

    Value:

        5

[200] OK:

    `{"status":5}`

Reproduce with:

    curl -X GET -H 'Authorization: [Filtered]' http://127.0.0.1:18766/v1/health

2. Test Case ID: xosmGW

- ST401 API accepts requests without authentication

    Expected 401 or 403, got `200 OK` for `GET /v1/health`

[200] OK:

    `{"status":5}`

Reproduce with:

    curl -X GET http://127.0.0.1:18766/v1/health"""

NETWORK = """Network Error

Connection failed

    Failed to establish a new connection: [Errno 111] Connection refused

Tip: Check that the API is running and reachable at `http://127.0.0.1:1`."""


def test_every_check_code_of_the_installed_schemathesis_has_a_meaning() -> None:
    from schemathesis.failure_codes import FAILURE_CLASSES

    assert {cls.code for cls in FAILURE_CLASSES} == set(MEANINGS)


def test_a_failure_text_is_read_into_cases_checks_answer_and_curl() -> None:
    assert parse_failure_text(HEALTH) == [
        CaseFailure(
            "d5zYZJ",
            (
                Check(
                    "ST108",
                    "Response violates schema",
                    (
                        '5 is not of type "string"',
                        "",
                        "Validated against the response schema for status code 200.",
                        "",
                        "Schema at /properties/status:",
                        "",
                        "    {",
                        '        "type": "string",',
                        '        "description": "Assumption: the body is not documented; `ok` here."',
                        "    }",
                        "",
                        "Value:",
                        "",
                        "    5",
                    ),
                ),
            ),
            200,
            "OK",
            '{"status":5}',
            ("curl -X GET -H 'Authorization: [Filtered]' http://127.0.0.1:18766/v1/health",),
        ),
        CaseFailure(
            "xosmGW",
            (
                Check(
                    "ST401",
                    "API accepts requests without authentication",
                    ("Expected 401 or 403, got `200 OK` for `GET /v1/health`",),
                ),
            ),
            200,
            "OK",
            '{"status":5}',
            ("curl -X GET http://127.0.0.1:18766/v1/health",),
        ),
    ]


def test_a_failure_against_your_server_reads_the_key_from_the_environment() -> None:
    first, second = parse_failure_text(HEALTH)
    replay = Replay("http://127.0.0.1:18766")
    assert case_lines("GET /v1/health", first, replay) == [
        'GET /v1/health → 200 OK: {"status":5}',
        "  ST108 Response violates schema: the response body (or a header) does not validate against the "
        "description's schema",
        '      5 is not of type "string"',
        "      Validated against the response schema for status code 200.",
        "      Schema at /properties/status:",
        "          {",
        '              "type": "string",',
        '              "description": "Assumption: the body is not documented; `ok` here."',
        "          }",
        "      Value:",
        "          5",
        '  reproduce: curl -X GET -H "Authorization: Bearer $VLMRUN_API_KEY" http://127.0.0.1:18766/v1/health',
    ]
    assert case_lines("GET /v1/health", second, replay) == [
        'GET /v1/health → 200 OK: {"status":5}',
        "  ST401 API accepts requests without authentication: the operation answered without credentials, or "
        "with invalid ones, though the description requires them",
        "      Expected 401 or 403, got `200 OK` for `GET /v1/health`",
        "  reproduce: curl -X GET http://127.0.0.1:18766/v1/health",
    ]


def test_a_failure_of_the_embedded_server_replays_against_harness_serve() -> None:
    first, _ = parse_failure_text(HEALTH)
    replay = Replay("http://127.0.0.1:18766", embedded=True)
    assert case_lines("GET /v1/health", first, replay)[-1] == (
        "  reproduce: curl -X GET -H 'Authorization: Bearer harness-local-key' http://127.0.0.1:8765/v1/health"
    )
    assert replay.how == (
        "reproduce a failure: start `harness serve --api-key harness-local-key` (it listens on 127.0.0.1:8765), "
        "run the failure's curl command, then fix the server or the description"
    )


def test_errors_show_once_with_how_often_and_long_lists_say_where_the_rest_is() -> None:
    cases = [f"{i}. Test Case ID: c{i}\n\n- ST101 Server error\n\n[500] Internal Server Error:\n\n    `boom`\n\n"
             f"Reproduce with:\n\n    curl -X GET http://h/v1/skills/{i}" for i in range(1, 13)]  # fmt: skip
    result = RunResult(
        1,
        [
            OperationResult("GET /v1/skills/{skill_id}", failures=["\n\n".join(cases)]),
            OperationResult("GET /v1/skills", errors=[NETWORK] * 3),
        ],
        "",
    )
    lines = failure_details(result, Replay("http://h"), "r/schemathesis.xml")
    assert lines[-2:] == [
        "… and 2 more failing test cases in r/schemathesis.xml",
        "GET /v1/skills: Network Error: Connection failed: Failed to establish a new connection: [Errno 111] "
        "Connection refused (3 times)",
    ]
    assert lines[:4] == [
        "GET /v1/skills/{skill_id} → 500 Internal Server Error: boom",
        "  ST101 Server error: the server answered 5xx: it crashed on a request it should have handled or "
        "rejected with a 4xx",
        "  reproduce: curl -X GET http://h/v1/skills/1",
        "GET /v1/skills/{skill_id} → 500 Internal Server Error: boom",
    ]
    assert len(lines) == 10 * 3 + 2


def test_an_error_text_is_one_line() -> None:
    assert error_summary(NETWORK) == (
        "Network Error: Connection failed: Failed to establish a new connection: [Errno 111] Connection refused"
    )


def test_long_check_details_say_how_many_lines_were_left_out() -> None:
    case = CaseFailure("x", (Check("ST108", "Response violates schema", tuple(f"d{i}" for i in range(14))),))
    assert case_lines("GET /v1/health", case, Replay("http://h"))[-3:] == [
        "      d10",
        "      d11",
        "      … 2 more lines",
    ]
