"""The description a project last accepted: `harness check --accept` writes it, the gate diffs against it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from harness.contract import DescriptionChoice, default_description_path, load_contract, use_description
from harness.description_yaml import ACCEPTED_HEADER as HEADER
from harness.errors import DescriptionError, UsageError
from harness.gate import run as gate_run
from harness.gate.accepted import accept
from harness.gate.model import Step
from harness.gate.run import GateOptions, run_gate

DESCRIPTION = default_description_path()
ACCEPTED = ".vlmrun/accepted-description.yaml"
REQUIRED_TEAM_ID = {
    "overlay": "1.0.0",
    "info": {"title": "Our gateway wants a team id", "version": "1"},
    "actions": [
        {
            "target": "$.components.schemas.ChatCompletionRequest",
            "update": {"properties": {"team_id": {"type": "string"}}, "required": ["team_id"]},
        }
    ],
}
BREAK = (
    "[ERR] new-required-request-property POST /v1/openai/chat/completions request body: team_id: "
    "added the new required request property 'team_id'"
)


def console() -> Console:
    return Console(file=io.StringIO(), width=200)


@pytest.fixture(autouse=True)
def _no_client_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate_run, "client_stack_step", lambda: Step("client-stack", summary="1 call works"))


@pytest.fixture
def overlay(tmp_path: Path) -> Iterator[Path]:
    """An overlay that breaks requests, in use for one test (this repository configures none: restored after)."""
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(REQUIRED_TEAM_ID))
    use_description(DescriptionChoice(overlays=(path,)))
    try:
        yield path
    finally:
        use_description(DescriptionChoice())


def gate(tmp_path: Path, **kwargs: object) -> GateOptions:
    return GateOptions(root=tmp_path, report_dir=tmp_path / "report", accepted=tmp_path / ACCEPTED, **kwargs)  # type: ignore[arg-type]


def test_without_an_accepted_description_the_gate_errors_naming_the_command_that_writes_it(tmp_path: Path) -> None:
    result = run_gate(gate(tmp_path), console())
    step = result.steps[-1]
    assert (step.name, step.status, step.summary) == (
        "accepted",
        "error",
        f"no accepted description at {ACCEPTED}: create it with `harness check --accept` "
        "(it writes the description in use there), then commit it",
    )
    assert result.exit_code == 2


def test_accept_writes_the_description_in_use_and_the_gate_then_passes(tmp_path: Path) -> None:
    line = accept(tmp_path / ACCEPTED, load_contract(), tmp_path)
    assert line == f"accepted {DESCRIPTION}: written to {ACCEPTED}; commit it"
    text = (tmp_path / ACCEPTED).read_text()
    assert text.startswith("".join(f"# {line}\n" for line in HEADER.splitlines()))
    assert yaml.safe_load(text) == load_contract().document
    result = run_gate(gate(tmp_path), console())
    step = result.steps[-1]
    assert (step.name, step.status, step.summary) == (
        "accepted",
        "passed",
        f"{ACCEPTED} → {DESCRIPTION}: 0 changes: 0 errors, 0 warnings, 0 info",
    )
    assert result.exit_code == 0


def test_an_overlay_that_breaks_requests_fails_the_gate_until_it_is_waived_or_accepted(
    tmp_path: Path, overlay: Path
) -> None:
    use_description(DescriptionChoice())
    accept(tmp_path / ACCEPTED, load_contract(), tmp_path)  # accepted before the overlay
    use_description(DescriptionChoice(overlays=(overlay,)))
    result = run_gate(gate(tmp_path), console())
    step = result.steps[-1]
    assert (step.name, step.status, step.summary, step.details, step.next_steps) == (
        "accepted",
        "failed",
        f"1 breaking change against {ACCEPTED}",
        [BREAK],
        [
            "fix the description or its overlays, or accept each break in a waiver file with a reason (`--waivers`)",
            "if the change is intended, accept the description in use: `harness check --accept`, "
            f"then commit {ACCEPTED}",
        ],
    )
    assert result.exit_code == 1

    waivers = tmp_path / "waivers.yaml"
    waiver = {
        "id": "new-required-request-property",
        "operation": "POST /v1/openai/chat/completions",
        "path": "request body: team_id",
        "reason": "our gateway rejects calls without a team id",
    }
    waivers.write_text(yaml.safe_dump({"version": 1, "waivers": [waiver]}))
    result = run_gate(gate(tmp_path, waivers=waivers), console())
    assert (result.steps[-1].status, result.exit_code) == ("passed", 0)

    assert accept(tmp_path / ACCEPTED, load_contract(), tmp_path) == (
        f"accepted {DESCRIPTION} + {overlay}: written to {ACCEPTED}; commit it"
    )
    result = run_gate(gate(tmp_path), console())
    assert (
        result.steps[-1].summary == f"{ACCEPTED} → {DESCRIPTION} + {overlay}: 0 changes: 0 errors, 0 warnings, 0 info"
    )
    assert result.exit_code == 0


def test_accept_needs_the_setting(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        accept(None, load_contract(), tmp_path)
    assert str(raised.value) == (
        "--accept writes the description in use to the file the setting names; set it: "
        '[tool.vlmrun-harness.gate] accepted = ".vlmrun/accepted-description.yaml" in pyproject.toml'
    )


def test_accept_refuses_a_folder_and_an_invalid_description(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        accept(tmp_path, load_contract(), tmp_path)
    assert str(raised.value) == f"[tool.vlmrun-harness.gate] accepted = {tmp_path} is a folder: name a file"
    document = yaml.safe_load(DESCRIPTION.read_text())
    document["paths"]["/v1/health"]["get"]["responses"] = "not a mapping"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document))
    with pytest.raises(DescriptionError):
        accept(tmp_path / ACCEPTED, load_contract(str(broken)), tmp_path)
    assert not (tmp_path / ACCEPTED).exists()
