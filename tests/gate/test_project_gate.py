"""The gate in a project that uses the harness: the description in use, property tests asked
for rather than run against our server by default, and never a green run that checked nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from rich.console import Console

from harness.contract import DescriptionChoice, default_description_path, use_description
from harness.errors import UsageError
from harness.gate import run as gate_run
from harness.gate.model import GateResult, Step
from harness.gate.run import NOTHING_CHECKED, NOTHING_CHECKED_FIXES, GateOptions, run_gate, summary_table
from harness.gate.steps import PROPERTIES_OFF
from harness.proptests.runner import RunOptions

DESCRIPTION = default_description_path()
SKILL_MD = "---\nname: team-skill\ndescription: Our own skill.\n---\nDo the team's thing.\n"


def console() -> Console:
    return Console(file=io.StringIO(), width=200)


def rendered(out: Console) -> str:
    assert isinstance(out.file, io.StringIO)
    return out.file.getvalue()


def in_any_order(text: str, steps: int) -> tuple[str, list[str], str]:
    """The description's line, the next `steps` lines in any order (steps print as they finish), the rest."""
    lines = text.splitlines(keepends=True)
    return lines[0], sorted(lines[1 : 1 + steps]), "".join(lines[1 + steps :])


def table(result: GateResult) -> str:
    out = console()
    out.print(summary_table(result))
    return rendered(out)


@pytest.fixture
def stack_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client-stack step, without its subprocess: one call works."""
    monkeypatch.setattr(gate_run, "client_stack_step", lambda: Step("client-stack", summary="1 call works"))


@pytest.fixture
def no_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate_run, "client_stack_step", lambda: Step("client-stack", "skipped", "no SDK"))


def test_the_property_tests_are_off_by_default_and_say_how_to_turn_them_on(tmp_path: Path, stack_works: None) -> None:
    out = console()
    report = tmp_path / "report"
    result = run_gate(GateOptions(root=tmp_path, report_dir=report), out, clock=lambda: 0.0)
    assert [(s.name, s.status) for s in result.steps] == [
        ("description", "passed"),
        ("properties", "skipped"),
        ("cassettes", "skipped"),
        ("snapshots", "skipped"),
        ("client-stack", "passed"),
    ]
    assert result.exit_code == 0
    assert in_any_order(rendered(out), 4) == (
        f"✓ description {DESCRIPTION} is valid OpenAPI 3.1.0 (0.0 s)\n",
        [
            "- cassettes no cassette folders found (0.0 s)\n",
            f"- properties {PROPERTIES_OFF} (0.0 s)\n",
            "- snapshots no __snapshots__ folders found (0.0 s)\n",
            "✓ client-stack 1 call works (0.0 s)\n",
        ],
        table(result) + f"reports: {report}/junit.xml, {report}/summary.md, {report}/summary.json\n",
    )
    assert PROPERTIES_OFF == (
        "off: test a server with --base-url URL, or the embedded reference server with --properties embedded "
        '(or properties = "embedded" under [tool.vlmrun-harness.gate])'
    )
    assert (report / "summary.md").read_text() == (
        "## ✅ harness check: passed\n\n"
        "| step | result | summary |\n"
        "|---|---|---|\n"
        f"| description | ✅ passed | {DESCRIPTION} is valid OpenAPI 3.1.0 |\n"
        f"| properties | ➖ skipped | {PROPERTIES_OFF} |\n"
        "| cassettes | ➖ skipped | no cassette folders found |\n"
        "| snapshots | ➖ skipped | no __snapshots__ folders found |\n"
        "| client-stack | ✅ passed | 1 call works |\n"
    )
    steps = json.loads((report / "summary.json").read_text())["steps"]
    assert (steps[1]["name"], steps[1]["status"], steps[1]["summary"]) == ("properties", "skipped", PROPERTIES_OFF)


def test_asked_for_they_run_against_the_embedded_server_with_the_project_s_skills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack_works: None
) -> None:
    skill = tmp_path / "skills" / "team-skill"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(SKILL_MD)
    served: list[set[str]] = []

    def properties(opts: RunOptions, **kwargs: object) -> tuple[Step, None]:
        answer = httpx.get(f"{opts.base_url}/v1/skills", headers={"authorization": f"Bearer {opts.api_key}"})
        served.append({s["name"] for s in answer.json()})
        return Step("properties", summary="ok"), None

    monkeypatch.setattr(gate_run, "properties_step", properties)
    opts = GateOptions(root=tmp_path, report_dir=tmp_path / "r", properties="embedded", skills=(tmp_path / "skills",))
    result = run_gate(opts, console())
    assert (result.exit_code, result.target) == (0, "embedded reference server")
    assert served == [{"invoice-extraction", "line-item-validation", "patient-referral", "team-skill"}]


def test_a_server_named_with_base_url_is_tested_whatever_the_setting(tmp_path: Path) -> None:
    assert GateOptions(base_url="http://127.0.0.1:9", properties="off").tests_properties
    assert not GateOptions(base_url="http://127.0.0.1:9", skip=frozenset({"properties"})).tests_properties
    assert not GateOptions().tests_properties
    assert GateOptions(properties="embedded").tests_properties


def test_an_unknown_properties_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as raised:
        GateOptions(properties="yes")
    assert str(raised.value) == "--properties must be one of off, embedded, got 'yes'"


# -- a green gate means something was checked ------------------------------------------------------


def test_a_run_that_checked_nothing_but_the_description_is_an_error(tmp_path: Path, no_sdk: None) -> None:
    out = console()
    report = tmp_path / "report"
    result = run_gate(GateOptions(root=tmp_path, report_dir=report), out, clock=lambda: 0.0)
    assert [(s.name, s.status) for s in result.steps][-1] == ("gate", "error")
    assert result.exit_code == 2
    assert NOTHING_CHECKED == "nothing was checked but the description: every other step was skipped"
    assert NOTHING_CHECKED_FIXES == (
        "record a test that calls the API (`pytest --record-mode=once`), or snapshot a request it sends",
        "or run the property tests: against your server with --base-url URL, or the embedded one with "
        "--properties embedded",
    )
    assert in_any_order(rendered(out), 4) == (
        f"✓ description {DESCRIPTION} is valid OpenAPI 3.1.0 (0.0 s)\n",
        [
            "- cassettes no cassette folders found (0.0 s)\n",
            "- client-stack no SDK (0.0 s)\n",
            f"- properties {PROPERTIES_OFF} (0.0 s)\n",
            "- snapshots no __snapshots__ folders found (0.0 s)\n",
        ],
        f"! gate {NOTHING_CHECKED} (0.0 s)\n"
        + table(result)
        + "gate:\n"
        + "".join(f"  → {hint}\n" for hint in NOTHING_CHECKED_FIXES)
        + f"reports: {report}/junit.xml, {report}/summary.md, {report}/summary.json\n",
    )
    assert json.loads((report / "summary.json").read_text())["verdict"] == "error"


def test_skipping_every_other_step_on_request_checks_the_description_alone(tmp_path: Path) -> None:
    skip = frozenset({"properties", "cassettes", "snapshots", "client-stack"})
    result = run_gate(GateOptions(root=tmp_path, report_dir=tmp_path / "r", skip=skip), console())
    assert [(s.name, s.status) for s in result.steps] == [
        ("description", "passed"),
        ("properties", "skipped"),
        ("cassettes", "skipped"),
        ("snapshots", "skipped"),
        ("client-stack", "skipped"),
    ]
    assert result.exit_code == 0


# -- every step judges by the description in use -----------------------------------------------------

TEAM_OVERLAY = {
    "overlay": "1.0.0",
    "info": {"title": "Our corrections", "version": "1"},
    "actions": [
        {
            "target": "$.components.schemas.ChatCompletionRequest",
            "update": {"properties": {"team_id": {"type": "string"}}},
        }
    ],
}


@pytest.fixture
def in_use(tmp_path: Path) -> Iterator[Path]:
    """The team's overlay in use for one test; this repository configures none, so that comes back after."""
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(TEAM_OVERLAY))
    use_description(DescriptionChoice(overlays=(overlay,)))
    try:
        yield overlay
    finally:
        use_description(DescriptionChoice())


def test_the_description_step_validates_the_description_in_use(tmp_path: Path, in_use: Path, no_sdk: None) -> None:
    result = run_gate(GateOptions(root=tmp_path, report_dir=tmp_path / "r"), console())
    assert result.steps[0].summary == f"{DESCRIPTION} + {in_use} is valid OpenAPI 3.1.0"


def test_an_overlay_that_breaks_the_description_fails_the_description_step(tmp_path: Path) -> None:
    overlay = tmp_path / "broken.yaml"
    broken = {**TEAM_OVERLAY, "actions": [{"target": "$.paths['/v1/health'].get", "update": {"responses": "none"}}]}
    overlay.write_text(yaml.safe_dump(broken))
    use_description(DescriptionChoice(overlays=(overlay,)))
    try:
        result = run_gate(GateOptions(root=tmp_path, report_dir=tmp_path / "r"), console())
    finally:
        use_description(DescriptionChoice())
    [step] = result.steps
    assert (step.name, step.status, step.next_steps) == (
        "description",
        "error",
        [f"fix {DESCRIPTION} + {overlay}, then run the gate again"],
    )
    assert step.summary.startswith(f"API description {DESCRIPTION} + {overlay} is invalid at paths/")
    assert result.exit_code == 2


def test_the_property_tests_read_the_description_in_use_overlays_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_use: Path, stack_works: None
) -> None:
    read: list[dict[str, object]] = []

    def properties(opts: RunOptions, **kwargs: object) -> tuple[Step, None]:
        read.append(yaml.safe_load(opts.description.read_text()))  # the file exists while the step runs
        return Step("properties", summary="ok"), None

    monkeypatch.setattr(gate_run, "properties_step", properties)
    result = run_gate(GateOptions(root=tmp_path, report_dir=tmp_path / "r", properties="embedded"), console())
    assert result.exit_code == 0
    [document] = read
    request = document["components"]["schemas"]["ChatCompletionRequest"]  # type: ignore[index]
    assert request["properties"]["team_id"] == {"type": "string"}


def test_the_against_diff_compares_the_description_in_use_and_names_it(
    tmp_path: Path, in_use: Path, stack_works: None
) -> None:
    opts = GateOptions(root=tmp_path, report_dir=tmp_path / "r", against=str(DESCRIPTION))
    result = run_gate(opts, console())
    diff = result.steps[-1]
    assert (diff.name, diff.status) == ("diff", "passed")
    assert diff.summary == f"{DESCRIPTION} → {DESCRIPTION} + {in_use}: 1 change: 0 errors, 0 warnings, 1 info"


def test_the_snapshot_tests_get_the_options_the_gate_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack_works: None
) -> None:
    seen: list[tuple[Path, tuple[str, ...]]] = []

    def snapshots(root: Path, extra: tuple[str, ...]) -> Step:
        seen.append((root, extra))
        return Step("snapshots", summary="ok")

    monkeypatch.setattr(gate_run, "run_snapshot_tests", snapshots)
    args = ("--vlmrun-overlay", "overlay.yaml")
    run_gate(GateOptions(root=tmp_path, report_dir=tmp_path / "r", snapshot_args=args), console())
    assert seen == [(tmp_path, args)]
