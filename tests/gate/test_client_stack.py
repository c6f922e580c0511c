"""The client-stack step says how many calls work, in words that agree with the number."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.gate import client_stack
from harness.gate.client_stack import client_stack_step

VERSIONS = {"python": "3.11.7", "vlmrun": "0.9.2", "openai": "3.57.0"}


def cell(path: str, verdict: str = "OK", problems: tuple[str, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(
        example="single", path=path, verdict=verdict, problems=list(problems), expected="works", outcome="sent"
    )


def probed(cells: list[SimpleNamespace], ok: int) -> SimpleNamespace:
    return SimpleNamespace(
        stacks=[SimpleNamespace(name="installed", versions=VERSIONS)],
        cells=cells,
        counts=lambda name: {"ok": ok},
        failed=any(c.verdict == "FAIL" for c in cells),
    )


def test_one_call_that_works_is_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_stack, "probe_installed", lambda: probed([cell("openai-dict")], ok=1))
    step = client_stack_step()
    assert (step.status, step.summary) == ("passed", "python 3.11.7, vlmrun 0.9.2, openai 3.57.0: 1 call works")


def test_a_call_that_stopped_working_is_named_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = [cell("openai-dict"), cell("vlmrun-dict"), cell("vlmrun-objects", "FAIL", ("TypeError: not serializable",))]
    monkeypatch.setattr(client_stack, "probe_installed", lambda: probed(cells, ok=2))
    step = client_stack_step()
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "failed",
        "1 call from the installed SDKs no longer works (python 3.11.7, vlmrun 0.9.2, openai 3.57.0)",
        ["single via vlmrun-objects: TypeError: not serializable"],
        [
            "see which calls with `harness matrix` (all stacks) and compare the sent bodies",
            "send skills as dicts (`harness.skill_dicts.to_wire_dicts`) until the SDK is fixed",
        ],
    )


def test_with_no_sdk_installed_there_is_nothing_to_probe_and_the_step_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cells = [SimpleNamespace(**{**vars(cell(path)), "outcome": "n/a"}) for path in ("openai-dict", "vlmrun-dict")]
    bare = SimpleNamespace(stacks=[SimpleNamespace(name="installed", versions={"python": "3.11.7", "openai": None})],
                           cells=cells, counts=lambda name: {}, failed=False)  # fmt: skip
    monkeypatch.setattr(client_stack, "probe_installed", lambda: bare)
    step = client_stack_step()
    assert (step.status, step.summary, step.cases) == (
        "skipped",
        "python 3.11.7: no VLM Run client SDK (openai, vlmrun) installed here, so no call to probe",
        [],
    )
