"""The two main stacks, really built by uv and really probed (environments cached in .harness-stacks).

The first run downloads the stacks' packages into uv's cache; later runs reuse the
environments and take a few seconds.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from harness.docs_examples import object_form, seed_examples
from harness.matrix.evaluate import KNOWN, OK, Cell, MatrixResult
from harness.matrix.expect import EMPTY
from harness.matrix.run import run_matrix

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {e.name: e for e in seed_examples()}


@pytest.fixture(scope="module")
def result() -> MatrixResult:
    if not (os.environ.get("UV") or shutil.which("uv")):
        pytest.fail("The matrix builds client stacks with uv: run the suite with `uv run pytest` (README).")
    return run_matrix(["vlmrun-pinned", "vlmrun-openai3"], cache=ROOT / ".harness-stacks")


def _cells(result: MatrixResult, stack: str, path: str) -> list[Cell]:
    cells = [c for c in result.cells if c.stack == stack and c.path == path]
    assert [c.example for c in cells] == list(EXAMPLES)
    return cells


def test_the_stacks_resolve_as_documented(result: MatrixResult) -> None:
    versions = {s.name: dict(s.versions) for s in result.stacks}
    pinned, openai3 = versions["vlmrun-pinned"], versions["vlmrun-openai3"]
    assert (pinned["vlmrun"], pinned["openai"], pinned["httpx"], pinned["pydantic"]) == (
        "0.9.2",
        "1.109.1",
        "0.28.1",
        "2.13.5",
    )
    assert (openai3["vlmrun"], openai3["openai"], openai3["pydantic"]) == ("0.9.2", "3.57.0", "2.13.5")
    assert openai3["httpx2"] is not None
    assert not result.failed, [c for c in result.cells if c.verdict not in (OK, KNOWN)]


def test_agent_skill_objects_fail_before_sending_on_the_pinned_stack(result: MatrixResult) -> None:
    for cell in _cells(result, "vlmrun-pinned", "vlmrun-objects"):
        assert (cell.outcome, cell.verdict, cell.body) == ("error", KNOWN, None)
        assert cell.error == "TypeError: Object of type AgentSkill is not JSON serializable"
    others = [c for c in result.cells if c.stack == "vlmrun-pinned" and c.path != "vlmrun-objects"]
    assert {c.verdict for c in others} == {OK}


def test_openai_3_sends_objects_with_defaults_dropped(result: MatrixResult) -> None:
    for cell in _cells(result, "vlmrun-openai3", "vlmrun-objects"):
        assert cell.body is not None
        sent = json.loads(cell.body)
        assert sent["skills"] == [object_form(s) for s in EXAMPLES[cell.example].skills]
        assert list(sent) == ["model", "messages", "skills"]
        assert (cell.verdict, cell.canonical_equal, cell.status) == (OK, True, 200)
    inline = json.loads(_cells(result, "vlmrun-openai3", "vlmrun-objects")[2].body or "")
    assert set(inline["skills"][0]["source"]) == {"data"}


@pytest.mark.parametrize("stack", ["vlmrun-pinned", "vlmrun-openai3"])
@pytest.mark.parametrize("path", ["vlmrun-objects-helper", "vlmrun-helper-extra-body"])
def test_the_helper_is_canonical_equal_on_both_stacks(result: MatrixResult, stack: str, path: str) -> None:
    dict_cells = {c.example: c for c in _cells(result, stack, "vlmrun-dict")}
    for cell in _cells(result, stack, path):
        assert (cell.verdict, cell.valid, cell.status, cell.canonical_equal) == (OK, True, 200, True)
        assert cell.body is not None
        assert json.loads(cell.body)["skills"] == json.loads(dict_cells[cell.example].body or "")["skills"]


@pytest.mark.parametrize("stack", ["vlmrun-pinned", "vlmrun-openai3"])
def test_a_long_request_follows_the_303_once_and_returns_an_empty_string(result: MatrixResult, stack: str) -> None:
    cell = result.long_request(stack)
    assert cell is not None
    assert (cell.path, cell.outcome, cell.exchanges, cell.returned, cell.error) == (
        "vlmrun-dict",
        EMPTY,
        ("POST 303", "GET 202"),
        "str ''",
        None,
    )
    assert (cell.verdict, cell.rule) == (KNOWN, "no-long-request-polling")
