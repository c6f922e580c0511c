"""The client-stack and diff steps say how many, in words that agree with the number."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from harness.gate import compat_steps
from harness.gate.compat_steps import client_stack_step, diff_step
from tests.specdiff._pairs import mutated, schema

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
    monkeypatch.setattr(compat_steps, "probe_installed", lambda: probed([cell("openai-dict")], ok=1))
    step = client_stack_step()
    assert (step.status, step.summary) == ("passed", "python 3.11.7, vlmrun 0.9.2, openai 3.57.0: 1 call works")


def test_a_call_that_stopped_working_is_named_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = [cell("openai-dict"), cell("vlmrun-dict"), cell("vlmrun-objects", "FAIL", ("TypeError: not serializable",))]
    monkeypatch.setattr(compat_steps, "probe_installed", lambda: probed(cells, ok=2))
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


def test_one_breaking_change_is_one_change(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump(mutated(), sort_keys=False))
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(mutated(lambda d: schema(d, "ChatCompletion")["required"].remove("usage"))))
    step = diff_step(str(old), new, [], tmp_path, None)
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "failed",
        f"1 breaking change against {old}",
        [
            "[ERR] response-property-became-optional POST /v1/openai/chat/completions "
            "response 200 application/json: usage: the response property 'usage' became optional for the status 200"
        ],
        ["fix the description, or accept each break in a waiver file with a reason (`--waivers`)"],
    )
