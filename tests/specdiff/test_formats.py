"""Output formats: text, JSON shape, Markdown table, JUnit (parsed by junitparser), GitHub annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped

from harness.specdiff import Change, DiffReport, Level, render
from harness.specdiff.formats import escape_data, escape_property
from harness.specdiff.waivers import Waiver

CHAT = "POST /v1/openai/chat/completions"
CHANGES = [
    Change(
        "response-property-became-optional",
        Level.ERR,
        CHAT,
        "response 200 application/json: usage",
        "the response property 'usage' became optional for the status 200",
        "usage",
        "response",
    ),
    Change(
        "request-property-default-value-changed",
        Level.WARN,
        CHAT,
        "request body: skills[*].skill_version",
        "the request property 'skills[*].skill_version' default value changed from 'latest' to 'x'",
        "skills[*].skill_version",
        "request",
    ),
    Change(
        "response-required-property-removed",
        Level.ERR,
        CHAT,
        "response 200 application/json: session_id",
        "removed the required property 'session_id' from the response for the status 200",
        "session_id",
        "response",
        waived="sessions are gone; clients updated",
    ),
    Change("endpoint-added", Level.INFO, "GET /v1/new", "endpoint", "endpoint added", None, "request"),
]
UNUSED = Waiver("api-removed-without-deprecation", "GET /v1/old", "endpoint", "r", 3)


def _report(fail_on: Level = Level.ERR, changes: list[Change] | None = None) -> DiffReport:
    return DiffReport(
        base="HEAD~1:openapi/vlmrun-agent.yaml",
        revision="openapi/vlmrun-agent.yaml",
        changes=CHANGES if changes is None else changes,
        fail_on=fail_on,
        revision_file="openapi/vlmrun-agent.yaml",
        waivers_file="compat-waivers.yaml",
        unused_waivers=[UNUSED],
    )


def test_json_shape() -> None:
    data = json.loads(render(_report(), "json"))
    assert set(data) == {"changes", "summary", "exercised_by", "unused_waivers"}
    assert [set(c) >= {"id", "level", "operation", "path", "text"} for c in data["changes"]] == [True] * 4
    first = data["changes"][0]
    assert first == {
        "id": "response-property-became-optional",
        "level": "ERR",
        "operation": CHAT,
        "path": "response 200 application/json: usage",
        "text": "the response property 'usage' became optional for the status 200",
        "json_path": "usage",
        "direction": "response",
        "waived": False,
        "waiver_reason": None,
    }
    assert data["changes"][2]["waived"] is True
    assert data["summary"] == {
        "base": "HEAD~1:openapi/vlmrun-agent.yaml",
        "revision": "openapi/vlmrun-agent.yaml",
        "ERR": 2,
        "WARN": 1,
        "INFO": 1,
        "waived": 1,
        "fail_on": "ERR",
        "failed": True,
    }
    assert data["unused_waivers"][0]["index"] == 3


def test_text_lists_each_change_like_oasdiff() -> None:
    assert render(_report(), "text") == (
        "4 changes: 2 errors, 1 warning, 1 info (1 waived)\n"
        "error\t[response-property-became-optional] at openapi/vlmrun-agent.yaml\n"
        f"\tin API {CHAT}\n"
        "\t\tresponse 200 application/json: usage\n"
        "\t\tthe response property 'usage' became optional for the status 200\n"
        "\n"
        "warning\t[request-property-default-value-changed] at openapi/vlmrun-agent.yaml\n"
        f"\tin API {CHAT}\n"
        "\t\trequest body: skills[*].skill_version\n"
        "\t\tthe request property 'skills[*].skill_version' default value changed from 'latest' to 'x'\n"
        "\n"
        "error\t[response-required-property-removed] at openapi/vlmrun-agent.yaml (waived: sessions are gone; "
        "clients updated)\n"
        f"\tin API {CHAT}\n"
        "\t\tresponse 200 application/json: session_id\n"
        "\t\tremoved the required property 'session_id' from the response for the status 200\n"
        "\n"
        "info\t[endpoint-added] at openapi/vlmrun-agent.yaml\n"
        "\tin API GET /v1/new\n"
        "\t\tendpoint\n"
        "\t\tendpoint added\n"
        "\n"
        "note: unused waiver waivers[3] (api-removed-without-deprecation GET /v1/old endpoint): it may hide a future "
        "break\n"
    )
    assert render(_report(changes=[]), "text") == (
        "No changes detected (HEAD~1:openapi/vlmrun-agent.yaml -> openapi/vlmrun-agent.yaml)\n"
        "note: unused waiver waivers[3] (api-removed-without-deprecation GET /v1/old endpoint): it may hide a future "
        "break\n"
    )


@pytest.mark.parametrize(
    ("changes", "summary"),
    [
        (CHANGES[:1], "1 change: 1 error, 0 warnings, 0 info"),
        (CHANGES[1:2], "1 change: 0 errors, 1 warning, 0 info"),
        (CHANGES[:2], "2 changes: 1 error, 1 warning, 0 info"),
        (CHANGES, "4 changes: 2 errors, 1 warning, 1 info (1 waived)"),
        ([], "0 changes: 0 errors, 0 warnings, 0 info"),
    ],
)
def test_counts_are_plural_only_when_they_should_be(changes: list[Change], summary: str) -> None:
    report = _report(changes=changes)
    assert report.summary() == summary
    verdict = "**fails**" if report.failing else "passes"
    shown = f"{summary}; the gate (`--fail-on ERR`) {verdict}." if changes else "No changes detected."
    assert render(report, "markdown").splitlines()[2] == shown


def test_markdown_is_a_table() -> None:
    md = render(_report(), "markdown").splitlines()
    assert md[0].startswith("### API changes:")
    header = md.index("| level | rule | operation | where | change |")
    rows = md[header + 2 : header + 6]
    assert all(row.startswith("| ") and row.count(" | ") == 4 for row in rows)
    assert "`request body: skills[*].skill_version`" in rows[1]
    assert "~~" in rows[2]
    assert "**waived:**" in rows[2]
    assert any("Unused waivers" in line for line in md)


def test_markdown_escapes_pipes() -> None:
    change = Change(
        "request-property-pattern-added", Level.ERR, CHAT, "request body: a", "added the pattern 'a|b'", "a", "request"
    )
    assert "'a\\|b'" in render(_report(changes=[change]), "markdown")


@pytest.mark.parametrize(("fail_on", "failures"), [(Level.ERR, 1), (Level.WARN, 2)])
def test_junit_parses_and_fails_what_the_gate_fails(tmp_path: Path, fail_on: Level, failures: int) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(render(_report(fail_on), "junit"))
    xml = JUnitXml.fromfile(str(path))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == 4
    failed = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]
    skipped = [c for c in cases if any(isinstance(r, Skipped) for r in c.result)]
    assert len(failed) == failures
    assert [c.name for c in skipped] == ["response-required-property-removed response 200 application/json: session_id"]
    assert failed[0].classname == CHAT
    assert failed[0].name == "response-property-became-optional response 200 application/json: usage"


def test_junit_without_changes_has_one_passing_case(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(render(_report(changes=[]), "junit"))
    cases = [case for suite in JUnitXml.fromfile(str(path)) for case in suite]
    assert [(c.name, c.is_passed) for c in cases] == [("no changes detected", True)]


def test_githubactions_annotations() -> None:
    lines = render(_report(), "githubactions").splitlines()
    assert lines[0] == (
        "::error title=response-property-became-optional,file=openapi/vlmrun-agent.yaml::in API "
        f"{CHAT} response 200 application/json: usage: the response property 'usage' became optional for the status 200"
    )
    assert lines[1].startswith("::warning title=request-property-default-value-changed,")
    assert lines[2].startswith("::notice ")
    assert lines[2].endswith("(waived: sessions are gone; clients updated)")
    assert lines[3].startswith("::notice title=endpoint-added,")
    assert lines[4].startswith("::notice title=unused waiver,file=compat-waivers.yaml::unused waiver waivers[3]")


def test_githubactions_escaping() -> None:
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("C:\\a,b%\n") == "C%3A\\a%2Cb%25%0A"
    change = Change(
        "request-property-pattern-added", Level.ERR, CHAT, "request body: a", "line one\nline 100%", "a", "request"
    )
    report = DiffReport("old", "new", [change], revision_file="dir,with:odd.yaml")
    (line,) = render(report, "githubactions").splitlines()
    assert line == (
        "::error title=request-property-pattern-added,file=dir%2Cwith%3Aodd.yaml::"
        f"in API {CHAT} request body: a: line one%0Aline 100%25"
    )


def test_urls_get_no_file_property() -> None:
    report = DiffReport("old", "https://example.com/api.yaml", CHANGES[:1], revision_file=None, lines={CHANGES[0]: 7})
    assert render(report, "githubactions") == (
        f"::error title=response-property-became-optional::in API {CHAT} response 200 application/json: usage: "
        "the response property 'usage' became optional for the status 200\n"
    )


def test_annotations_carry_the_line_when_it_is_known() -> None:
    report = DiffReport("old", "new.yaml", CHANGES[:2], revision_file="new.yaml", lines={CHANGES[1]: 42})
    assert render(report, "githubactions") == (
        f"::error title=response-property-became-optional,file=new.yaml::in API {CHAT} response 200 "
        "application/json: usage: the response property 'usage' became optional for the status 200\n"
        f"::warning title=request-property-default-value-changed,file=new.yaml,line=42::in API {CHAT} request "
        "body: skills[*].skill_version: the request property 'skills[*].skill_version' default value changed from "
        "'latest' to 'x'\n"
    )
