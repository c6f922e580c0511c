"""Rendering: exact bodies in JSON, readable Markdown, atomic writes."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from harness.matrix.evaluate import FAIL, KNOWN, NA, OK, Cell, LongRequestCell, MatrixResult, StackRun
from harness.matrix.report import elide, render_markdown, summary_line, to_json, write_reports

DATA = "UEsDBBQAAAAAAAAAIQBd" * 10
BODY = json.dumps(
    {
        "messages": [{"role": "user", "content": "a | b"}],
        "model": "m",
        "skills": [{"type": "inline", "source": {"data": DATA}}, {"skill_name": "x"}],
    },
    separators=(",", ":"),
)
STACK = StackRun(
    name="s1",
    summary="a stack",
    requirements=("vlmrun==0.9.2",),
    overrides=("openai==3.57.0",),
    versions={"python": "3.11.7", "vlmrun": "0.9.2", "openai": "1.109.1", "httpx": "0.28.1", "httpx2": None},
    features={"skills_kwarg": True},
)
CELLS = (
    Cell(stack="s1", example="inline", path="vlmrun-dict", outcome="sent", body=BODY, valid=True, status=200,
         resolved=("a@inline:1",), canonical_equal=True, verdict=OK),
    Cell(stack="s1", example="single", path="vlmrun-objects", outcome="error",
         error="TypeError: Object of type AgentSkill is not JSON serializable", expected="known failure",
         rule="objects-need-openai-2.17", reason="openai too old", verdict=KNOWN),
    Cell(stack="s1", example="single", path="openai-dict", outcome="sent", body='{"skills":[{"skil_name":"x"}]}',
         valid=False, violations=("skills[0]: bad | key",), status=422, canonical_equal=False,
         canonical_diff=("skills[0].skil_name: 'x' != '<absent>'",), problems=("reference server answered 422",),
         verdict=FAIL),
    Cell(stack="s1", example="single", path="vlmrun-helper-extra-body", outcome="n/a", expected="n/a", verdict=NA),
)  # fmt: skip
LONG = LongRequestCell(
    stack="s1",
    example="single",
    path="vlmrun-dict",
    polls=2,
    outcome="empty",
    detail="followed the 303 with a GET and returned str '' for the completion",
    exchanges=("POST 303", "GET 202"),
    gets=1,
    returned="str ''",
    expected="known failure",
    rule="no-long-request-polling",
    reason="openai 1.109.1 follows the 303 | returns ''",
    verdict=KNOWN,
)
RESULT = MatrixResult(
    generated="2026-11-24T17:00:00Z",
    python="3.11.7",
    harness_version="0.1.0",
    description_sha256="ab" * 32,
    paths=("vlmrun-dict",),
    stacks=(STACK,),
    cells=CELLS,
    long_requests=(LONG,),
)


def test_json_keeps_every_body_byte_for_byte_and_the_versions() -> None:
    doc = json.loads(json.dumps(to_json(RESULT)))
    assert doc["format"] == 2
    assert doc["long_requests"] == [
        {
            "stack": "s1",
            "example": "single",
            "path": "vlmrun-dict",
            "polls": 2,
            "outcome": "empty",
            "detail": "followed the 303 with a GET and returned str '' for the completion",
            "exchanges": ["POST 303", "GET 202"],
            "gets": 1,
            "returned": "str ''",
            "error": None,
            "expected": "known failure",
            "rule": "no-long-request-polling",
            "reason": "openai 1.109.1 follows the 303 | returns ''",
            "verdict": KNOWN,
        }
    ]
    assert doc["ok"] is False
    assert doc["cells"][0]["body"] == BODY
    assert doc["stacks"][0]["versions"]["httpx2"] is None
    assert doc["stacks"][0]["counts"] == {OK: 1, KNOWN: 1, FAIL: 1, "unexpected pass": 0, NA: 1}


def test_elide_keeps_key_order_and_skill_keys_but_shortens_messages_and_bundles() -> None:
    short = elide(BODY)
    assert short.startswith('{"messages":"…","model":"m","skills":[{"type":"inline","source":{"data":"UEsDBBQA…(200')
    assert short.endswith('{"skill_name":"x"}]}')
    assert elide(None) == ""
    assert elide("x" * 500).endswith("…")


def test_markdown_has_versions_summary_and_one_escaped_row_per_cell() -> None:
    md = render_markdown(RESULT)
    assert "| s1 | a stack | `vlmrun==0.9.2, override openai==3.57.0` | 3.11.7 | 0.9.2 | 1.109.1 | 0.28.1 | — |" in md
    assert "**cells expected to work fail**" in md
    rows = [line for line in md.splitlines() if line.startswith(("| inline |", "| single |"))]
    assert len(rows) == len(CELLS)
    assert all(row.count(" | ") == 7 for row in rows)  # pipes inside cells are escaped
    assert "invalid: skills[0]: bad \\| key" in md
    assert "`TypeError: Object of type AgentSkill is not JSON serializable` (rule `objects-need-openai-2.17`)" in md
    assert "❌ FAIL" in md
    assert "reference server answered 422" in md


def test_markdown_has_one_long_request_row_per_stack() -> None:
    md = render_markdown(RESULT)
    assert (
        "## Long requests (303 See Other)\n\n"
        "| stack | path | verdict | server answered | GETs | what the client did | error / reason |\n"
        "|---|---|---|---|---|---|---|\n"
        "| s1 | `vlmrun-dict` | ⚠️ known failure | POST 303, GET 202 | 1 | followed the 303 with a GET and returned "
        "str '' for the completion | openai 1.109.1 follows the 303 \\| returns '' (rule `no-long-request-polling`) |\n"
    ) in md
    raised = LongRequestCell(
        stack="s2", example="single", path="openai-dict", polls=2, outcome="raised", detail="raised APIStatusError",
        exchanges=("POST 303",), error="APIStatusError: a | b", verdict=FAIL,
    )  # fmt: skip
    row = "| s2 | `openai-dict` | ❌ FAIL | POST 303 | 0 | raised APIStatusError | `APIStatusError: a \\| b` |"
    assert row in render_markdown(replace(RESULT, long_requests=(raised,)))
    assert "Long requests" not in render_markdown(replace(RESULT, long_requests=()))


def test_summary_line_groups_paths_by_reason() -> None:
    line = summary_line(RESULT, STACK)
    assert line.startswith("**s1**: 1 ok, 1 known failures, 1 failing, 1 n/a")
    assert "`vlmrun-objects`: known failure: openai too old (rule `objects-need-openai-2.17`)" in line
    assert "`openai-dict`: FAIL: reference server answered 422" in line
    assert line.endswith(
        "\n  - long request (303), `vlmrun-dict`: known failure: followed the 303 with a GET and returned str '' "
        "for the completion (rule `no-long-request-polling`)"
    )


def test_a_failing_long_request_fails_the_run_and_says_why() -> None:
    ok = replace(RESULT, cells=CELLS[:2])
    assert not ok.failed
    failing = replace(LONG, verdict=FAIL, detail="raised APIStatusError", rule="")
    broken = replace(ok, long_requests=(failing,))
    assert broken.failed
    assert summary_line(broken, STACK) == (
        "**s1**: 1 ok, 1 known failures, 0 failing\n"
        "  - `vlmrun-objects`: known failure: openai too old (rule `objects-need-openai-2.17`)\n"
        "  - long request (303), `vlmrun-dict`: FAIL: raised APIStatusError"
    )


def test_reports_are_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "compat-matrix"
    json_path, md_path = write_reports(RESULT, out)
    assert json.loads(json_path.read_text())["generated"] == RESULT.generated
    assert md_path.read_text().startswith("# Compatibility matrix")
    before = md_path.read_text()
    (tmp_path / "plain").write_text("")  # reports get the mode `open()` would give, not mkstemp's 0600
    assert md_path.stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_reports(RESULT, out)
    assert md_path.read_text() == before
    assert sorted(os.listdir(out)) == ["matrix.json", "matrix.md"]
