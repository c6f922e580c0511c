"""Issue 12's done-when: a team's own contract, in a project set up by `harness init`.

The harness comes from the built wheel. The project gets its own skill, its own overlay (the
starter's, plus a correction: a toolset the packaged description does not list), the example
recorded and snapshot tests and a recorded test of its own; it records against the embedded server,
replays offline under `-n 2`, passes its gate with the commands its CI workflow runs, and
fails the gate with a readable message when its cassettes, its snapshots or its overlay
disagree with the description in use. Drift the API shows is proposed as an overlay by
`harness verify`, applied, shown by `harness diff` and accepted by `harness check --accept`.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.contract import DescriptionChoice
from tests.consumer.env import ConsumerEnv, explain, make_project
from tests.test_project_init import WRITTEN  # what `harness init` writes, in order

WIDE = {"COLUMNS": "250"}  # rich wraps at 80 columns when it writes to a pipe
CASSETTES = Path("tests/cassettes")
ACCEPTED = ".vlmrun/accepted-description.yaml"
EXAMPLE_CASSETTE = CASSETTES / "test_vlmrun_example" / "test_the_skill_answers_with_its_schema.yaml"
TEAM_TOOLSET = "audio"
# The team's own recorded test: its skill, with a toolset only its overlay allows.
TEAM_TEST = f"""
import json

import pytest


@pytest.mark.vlmrun
@pytest.mark.vcr
def test_our_toolset_and_our_skill(openai_client):
    response = openai_client.chat.completions.create(
        model="vlmrun-orion-2:lite",
        messages=[{{"role": "user", "content": "Extract this purchase order too."}}],
        extra_body={{"skills": [{{"skill_name": "purchase-order-extraction"}}], "toolsets": ["{TEAM_TOOLSET}"]}},
    )
    assert response.model == "vlmrun-orion-2:lite"
    assert "po_number" in json.loads(response.choices[0].message.content)
"""
# The correction the starter overlay shows as a comment, made real.
CORRECTION = f"""  - target: $.components.schemas.ChatCompletionRequest.properties.toolsets.items.enum
    description: Our account can use the {TEAM_TOOLSET} toolset (support ticket 1234).
    update: {TEAM_TOOLSET}
"""


def _lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.strip() for line in (proc.stdout + proc.stderr).splitlines()]


def _gate(env: ConsumerEnv, project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`harness check` in `project`, and its summary.json (empty when the gate stopped before writing it)."""
    report = project / "harness-report" / "summary.json"
    report.unlink(missing_ok=True)
    proc = env.harness(project, "check", *args, env=WIDE)
    return proc, json.loads(report.read_text()) if report.is_file() else {}


def _step(summary: dict[str, Any], name: str) -> dict[str, Any]:
    [step] = [s for s in summary["steps"] if s["name"] == name]
    assert isinstance(step, dict)
    return step


def _workflow_command(project: Path, step_name: str) -> list[str]:
    workflow = yaml.safe_load((project / ".github/workflows/vlmrun-contract.yml").read_text())
    [job] = workflow["jobs"].values()
    [step] = [s for s in job["steps"] if s.get("name") == step_name]
    return shlex.split(step["run"])


def _in_use(env: ConsumerEnv, project: Path, *overlays: str) -> str:
    """How the gate names the description in use: the packaged file, then each overlay."""
    packaged = env.site_packages().resolve() / "harness" / "openapi" / "vlmrun-agent.yaml"
    return " + ".join([str(packaged), *(str(project / o) for o in overlays)])


def _copy(project: Path, where: Path) -> Path:
    return Path(shutil.copytree(project, where / "project", ignore=shutil.ignore_patterns("harness-report")))


@pytest.fixture(scope="module")
def recorded(consumer_env_full: ConsumerEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project set up by `harness init`, with its correction and its own test, recorded and replayed."""
    env = consumer_env_full
    project = make_project(tmp_path_factory.mktemp("consumer-contract") / "team", {"src/team/__init__.py": ""})
    project = project.resolve()

    init = env.harness(project, "init", env=WIDE)
    assert init.returncode == 0, explain(init)
    for rel in WRITTEN:
        assert (project / rel).is_file(), rel
        assert rel in init.stdout, explain(init)
    again = env.harness(project, "init", env=WIDE)
    assert again.returncode == 2, explain(again)
    assert again.stderr.strip() == (
        "error: harness init overwrites nothing, and .github/workflows/vlmrun-contract.yml, "
        ".vlmrun/accepted-description.yaml, skills/purchase-order-extraction, tests/test_vlmrun_example.py, "
        "vlmrun-overlay.yaml exist: move them aside and run it again"
    ), explain(again)

    overlay = project / "vlmrun-overlay.yaml"
    overlay.write_text(re.sub(r"\n  # For example.*", "\n", overlay.read_text(), flags=re.DOTALL) + CORRECTION)
    (project / "tests" / "test_team_toolset.py").write_text(TEAM_TEST.lstrip())

    record = env.pytest(project, "--record-mode=once", "--snapshot-update", "-q", env=WIDE)
    assert record.returncode == 0, explain(record)
    assert "3 passed" in record.stdout, explain(record)
    assert "1 snapshot generated." in record.stdout, explain(record)

    replay = env.pytest(project, "--record-mode=none", "--block-network", "-n", "2", "-q", env=WIDE)
    assert replay.returncode == 0, explain(replay)
    assert "3 passed" in replay.stdout, explain(replay)
    return project


def test_it_records_its_skill_against_the_description_in_use(recorded: Path) -> None:
    """The embedded server served the team's skill; the cassettes are stamped with the overlaid description."""
    in_use = DescriptionChoice(None, (recorded / "vlmrun-overlay.yaml",)).load()
    for cassette in sorted((recorded / CASSETTES).rglob("*.yaml")):
        data = yaml.safe_load(cassette.read_text())
        assert data["vlmrun_harness"]["description_sha256"] == in_use.sha256, cassette
        [interaction] = data["interactions"]
        resolved = interaction["response"]["headers"]["x-harness-resolved-skills"]
        assert [r.split("@")[0] for r in resolved] == ["purchase-order-extraction"], cassette
    snapshots = sorted(p.relative_to(recorded) for p in (recorded / "tests" / "__snapshots__").rglob("*.json"))
    assert snapshots == [Path("tests/__snapshots__/test_vlmrun_example/test_what_we_send_for_the_skill.json")]


def test_its_ci_workflow_replays_offline_and_passes_the_gate(
    consumer_env_full: ConsumerEnv, recorded: Path, tmp_path: Path
) -> None:
    project = _copy(recorded, tmp_path)
    replay = consumer_env_full.run(_workflow_command(project, "Replay the recorded tests (offline)"), project, WIDE)
    assert replay.returncode == 0, explain(replay)
    assert "3 passed" in replay.stdout, explain(replay)

    gate = consumer_env_full.run(_workflow_command(project, "The gate"), project, WIDE)
    assert gate.returncode == 0, explain(gate)
    summary = json.loads((project / "harness-report" / "summary.json").read_text())
    assert (summary["verdict"], summary["exit_code"]) == ("passed", 0), explain(gate)
    assert {s["name"] for s in summary["steps"]} >= {"description", "cassettes", "snapshots"}, explain(gate)
    assert all(s["status"] in ("passed", "skipped") for s in summary["steps"]), explain(gate)
    assert _step(summary, "cassettes")["summary"] == "2 cassettes, 2 interactions", explain(gate)
    assert _step(summary, "snapshots")["summary"] == "1 test module, 2 tests passed", explain(gate)
    assert _step(summary, "properties")["status"] == "skipped", explain(gate)  # not our server by default
    accepted = _step(summary, "accepted")  # the correction widens a request: compatible, so it passes
    in_use = _in_use(consumer_env_full, project, "vlmrun-overlay.yaml")
    assert accepted["status"] == "passed", explain(gate)
    assert accepted["summary"] == f"{ACCEPTED} → {in_use}: 1 change: 0 errors, 0 warnings, 1 info", explain(gate)


def test_a_cassette_that_disagrees_fails_the_gate_naming_the_field(
    consumer_env_full: ConsumerEnv, recorded: Path, tmp_path: Path
) -> None:
    project = _copy(recorded, tmp_path)
    cassette = project / EXAMPLE_CASSETTE
    text = cassette.read_text()
    assert text.count('"finish_reason": "stop"') == 1
    cassette.write_text(text.replace('"finish_reason": "stop"', '"finish_reason": "done"'))  # same length

    gate, summary = _gate(consumer_env_full, project, "--skip", "snapshots", "--skip", "client-stack")
    assert gate.returncode == 1, explain(gate)
    step = _step(summary, "cassettes")
    assert (step["status"], step["summary"]) == ("failed", "1 conformance finding, 0 undescribed fields or headers"), (
        explain(gate)
    )
    finding = (
        'response choices[0].finish_reason: "done" is not one of "stop", "length", "tool_calls", "content_filter", '
        "null [schema]"
    )
    assert f"    {finding}" in step["details"], explain(gate)
    assert finding in _lines(gate), explain(gate)
    assert step["next_steps"] == [f"re-record {cassette} (`pytest --record-mode=rewrite`) or update the description"], (
        explain(gate)
    )

    replay = consumer_env_full.pytest(project, "--record-mode=none", "--block-network", "-n", "2", "-q", env=WIDE)
    assert replay.returncode == 1, explain(replay)
    assert finding in _lines(replay), explain(replay)
    assert "2 passed" in replay.stdout, explain(replay)


def test_a_snapshot_that_changed_fails_the_gate_with_its_diff(
    consumer_env_full: ConsumerEnv, recorded: Path, tmp_path: Path
) -> None:
    """What the code sends changed (a pinned version instead of `latest`): the stored snapshot no longer matches."""
    project = _copy(recorded, tmp_path)
    test = project / "tests" / "test_vlmrun_example.py"
    text = test.read_text()
    assert text.count('"skill_version": "latest"') == 1
    test.write_text(text.replace('"skill_version": "latest"', '"skill_version": "20260101-abc123"'))

    gate, summary = _gate(consumer_env_full, project, "--skip", "cassettes", "--skip", "client-stack")
    assert gate.returncode == 1, explain(gate)
    step = _step(summary, "snapshots")
    assert (step["status"], step["summary"]) == ("failed", "1 snapshot test failed"), explain(gate)
    assert step["details"] == [
        "tests/test_vlmrun_example.py::test_what_we_send_for_the_skill: the snapshot differs (- stored, + received):",
        "      {",
        "          ...",
        '              "skill_name": "purchase-order-extraction",',
        '    -         "skill_version": "latest"',
        '    +         "skill_version": "20260101-abc123"',
        "            }",
        "         ...",
        "      }",
    ], explain(gate)
    assert step["next_steps"] == [
        "if the change is intended, update the snapshots: `pytest tests/test_vlmrun_example.py --snapshot-update`"
    ], explain(gate)


def test_an_overlay_target_that_selects_nothing_stops_pytest_and_the_gate(
    consumer_env_full: ConsumerEnv, recorded: Path, tmp_path: Path
) -> None:
    """A stale correction is a set-up error everywhere: nothing runs against a description nobody wrote."""
    project = _copy(recorded, tmp_path)
    overlay = project / "vlmrun-overlay.yaml"
    overlay.write_text(overlay.read_text().replace("- target: $.info\n", "- target: $.info.contact\n"))
    problem = (
        f"Overlay {overlay.resolve()}: actions[0] (target $.info.contact) selects nothing in the description: "
        "fix the target or remove the action"
    )

    gate, summary = _gate(consumer_env_full, project)
    assert gate.returncode == 2, explain(gate)
    assert f"error: {problem}" in _lines(gate), explain(gate)
    assert summary == {}, explain(gate)  # stopped before any step

    replay = consumer_env_full.pytest(project, "--record-mode=none", "--block-network", "-q", env=WIDE)
    assert replay.returncode == 4, explain(replay)  # pytest's usage error
    assert any(problem in line for line in _lines(replay)), explain(replay)  # the plugin's own wording around it


def test_an_overlay_that_breaks_the_recorded_traffic_fails_the_gate_twice(
    consumer_env_full: ConsumerEnv, recorded: Path, tmp_path: Path
) -> None:
    """A wrong correction: the recorded answers no longer conform, and it breaks the description last accepted."""
    project = _copy(recorded, tmp_path)
    overlay = project / "vlmrun-overlay.yaml"
    overlay.write_text(
        overlay.read_text()
        + "  - target: $.components.schemas.ChatCompletion.properties.session_id\n"
        + "    description: Sessions are numbered (they are not).\n"
        + "    update:\n"
        + "      type: integer\n"
    )
    [interaction] = yaml.safe_load((project / EXAMPLE_CASSETTE).read_text())["interactions"]
    session_id = json.loads(interaction["response"]["body"]["string"])["session_id"]
    finding = f'response session_id: "{session_id}" is not of type "integer" [schema]'
    breaking = (
        "[ERR] response-property-type-changed POST /v1/openai/chat/completions response 200 application/json: "
        "session_id: the response property 'session_id' type/format changed from 'string' to 'integer' "
        "for the status 200"
    )

    gate, summary = _gate(consumer_env_full, project, "--skip", "snapshots", "--skip", "client-stack")
    assert gate.returncode == 1, explain(gate)
    cassettes = _step(summary, "cassettes")
    assert (cassettes["status"], cassettes["summary"]) == (
        "failed",
        "2 conformance findings, 0 undescribed fields or headers",
    )
    assert f"    {finding}" in cassettes["details"], explain(gate)
    # The description last accepted (.vlmrun/accepted-description.yaml) is diffed by a step of its own.
    [accepted] = [s for s in summary["steps"] if breaking in s["details"]]
    assert accepted["status"] == "failed", explain(gate)
    assert finding in _lines(gate), explain(gate)
    assert breaking in _lines(gate), explain(gate)

    replay = consumer_env_full.pytest(project, "--record-mode=none", "--block-network", "-n", "2", "-q", env=WIDE)
    assert replay.returncode == 1, explain(replay)
    assert finding in _lines(replay), explain(replay)


def test_drift_is_proposed_as_an_overlay_reviewed_applied_and_accepted(
    consumer_env_full: ConsumerEnv, recorded: Path, tmp_path: Path
) -> None:
    """The API answers a value the description lacks: `harness verify` proposes the correction, the
    team adds the file to its overlays, the drift is gone, and the gate shows and then accepts the change."""
    env, project = consumer_env_full, _copy(recorded, tmp_path)
    cassette = project / EXAMPLE_CASSETTE
    cassette.write_text(cassette.read_text().replace('"finish_reason": "stop"', '"finish_reason": "done"'))

    proposed = env.harness(project, "verify", "--propose-overlay", "proposed.yaml", env=WIDE)
    assert proposed.returncode == 1, explain(proposed)  # the drift is still there until the overlay is used
    assert "wrote proposed.yaml (1 action)" in _lines(proposed), explain(proposed)
    actions = yaml.safe_load((project / "proposed.yaml").read_text())["actions"]
    assert [(a["target"], a["update"]) for a in actions] == [
        ("$.components.schemas.Choice.properties.finish_reason", {"enum": ["done"]})
    ]

    pyproject = project / "pyproject.toml"
    table_line = 'overlays = ["vlmrun-overlay.yaml"]'
    assert pyproject.read_text().count(table_line) == 1
    pyproject.write_text(
        pyproject.read_text().replace(table_line, 'overlays = ["vlmrun-overlay.yaml", "proposed.yaml"]')
    )
    verified = env.harness(project, "verify", env=WIDE)
    assert verified.returncode == 0, explain(verified)

    diff = env.harness(project, "diff", ACCEPTED, env=WIDE)
    assert diff.returncode == 0, explain(diff)  # warnings, not a break
    # `Choice` is in every `ChatCompletion`: the completions POST's 200 and its poll's (GET) 200 and 201
    lines = _lines(diff)
    added = "added the new enum value 'done' to the response property 'choices[*].finish_reason' for the status"
    assert (lines.count(f"{added} 200"), lines.count(f"{added} 201")) == (2, 1), explain(diff)
    assert "4 changes: 0 errors, 3 warnings, 1 info" in lines, explain(diff)

    in_use = _in_use(env, project, "vlmrun-overlay.yaml", "proposed.yaml")
    gate, summary = _gate(env, project, "--skip", "snapshots", "--skip", "client-stack")
    assert gate.returncode == 0, explain(gate)
    assert _step(summary, "cassettes")["status"] == "passed", explain(gate)
    assert _step(summary, "accepted")["summary"] == f"{ACCEPTED} → {in_use}: 4 changes: 0 errors, 3 warnings, 1 info"

    accept = env.harness(project, "check", "--accept", env=WIDE)
    assert accept.returncode == 0, explain(accept)
    assert f"accepted {in_use}: written to {ACCEPTED}; commit it" in _lines(accept), explain(accept)
    gate, summary = _gate(env, project, "--skip", "snapshots", "--skip", "client-stack")
    assert gate.returncode == 0, explain(gate)
    assert _step(summary, "accepted")["summary"] == f"{ACCEPTED} → {in_use}: 0 changes: 0 errors, 0 warnings, 0 info"

    replay = env.pytest(project, "--record-mode=none", "--block-network", "-n", "2", "-q", env=WIDE)
    assert replay.returncode == 0, explain(replay)
    assert "3 passed" in replay.stdout, explain(replay)
