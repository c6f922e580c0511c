"""Snapshot status runs the owning tests, without writing, and says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gate.snapshot_status import find_owners, run_snapshot_tests

TEST = """
def test_value(snapshot):
    assert {"skill_version": "VALUE"} == snapshot
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_values.py").write_text(TEST.replace("VALUE", "latest"))
    snap = tmp_path / "tests" / "__snapshots__"
    snap.mkdir()
    (snap / "test_values.ambr").write_text(
        "# serializer version: 1\n# name: test_value\n  dict({\n    'skill_version': 'latest',\n  })\n# ---\n"
    )
    return tmp_path


def test_owners_map_snapshot_files_back_to_their_modules(project: Path) -> None:
    (project / "tests" / "__snapshots__" / "test_gone").mkdir()
    owners = find_owners(project)
    assert owners.modules == [project / "tests" / "test_values.py"]
    assert owners.stale == [project / "tests" / "__snapshots__" / "test_gone"]


def test_up_to_date_snapshots_pass(project: Path) -> None:
    step = run_snapshot_tests(project)
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "passed",
        "1 test module, 1 test passed",
        [],
        [],
    )
    assert [c.status for c in step.cases] == ["passed"]


def test_a_drifted_snapshot_shows_its_diff_and_the_update_command_and_nothing_is_written(project: Path) -> None:
    (project / "tests" / "test_values.py").write_text(TEST.replace("VALUE", "20260219-abc123"))
    before = (project / "tests" / "__snapshots__" / "test_values.ambr").read_text()
    step = run_snapshot_tests(project)
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "failed",
        "1 snapshot test failed",
        [
            "tests/test_values.py::test_value: the snapshot differs (- stored, + received):",
            "      dict({",
            "    -   'skill_version': 'latest',",
            "    +   'skill_version': '20260219-abc123',",
            "      })",
        ],
        ["if the change is intended, update the snapshots: `pytest tests/test_values.py --snapshot-update`"],
    )
    assert (project / "tests" / "__snapshots__" / "test_values.ambr").read_text() == before


def test_unused_and_stale_snapshots_are_named(project: Path) -> None:
    ambr = project / "tests" / "__snapshots__" / "test_values.ambr"
    ambr.write_text(ambr.read_text() + "# name: test_gone\n  'y'\n# ---\n")
    (project / "tests" / "__snapshots__" / "test_removed").mkdir()
    step = run_snapshot_tests(project)
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "failed",
        "1 snapshot unused, 1 stale snapshot (test module gone)",
        [
            "unused snapshot: test_gone (tests/__snapshots__/test_values.ambr)",
            "stale snapshot: tests/__snapshots__/test_removed (its test module is gone)",
        ],
        [
            "remove the unused snapshots: `pytest tests/test_values.py --snapshot-update`",
            "delete the stale snapshots: tests/__snapshots__/test_removed",
        ],
    )


def test_plugins_the_snapshot_tests_do_not_name_are_left_out(project: Path, tmp_path: Path) -> None:
    from harness.gate.snapshot_status import needed_libraries, snapshot_command

    junit = tmp_path / "j.xml"
    modules = [project / "tests" / "test_values.py"]
    lean = snapshot_command(
        "python", ["tests/test_values.py"], junit, lean=True, needs=needed_libraries(modules, project)
    )
    assert lean[-5:] == ["--snapshot-details", "-p", "no:schemathesis", "-p", "no:hypothesispytest"]
    (project / "tests" / "conftest.py").write_text("from hypothesis import settings\n")
    assert needed_libraries(modules, project) == {"hypothesis"}


def test_the_options_the_gate_passes_on_reach_the_snapshot_tests(project: Path, tmp_path: Path) -> None:
    """So they judge by the same description as the gate (`GateOptions.snapshot_args`)."""
    from harness.gate.snapshot_status import snapshot_command

    extra = ("--vlmrun-overlay", "overlay.yaml")
    for lean in (True, False):
        cmd = snapshot_command(
            "python", ["tests/test_values.py"], tmp_path / "j.xml", lean=lean, needs=set(), extra=extra
        )
        assert cmd[:9] == [
            "python", "-m", "pytest", "tests/test_values.py", "-q", "-p", "no:cacheprovider",
            f"--junit-xml={tmp_path / 'j.xml'}", "--vlmrun-overlay",
        ]  # fmt: skip
        assert cmd[9] == "overlay.yaml"
    (project / "conftest.py").write_text(
        "def pytest_addoption(parser):\n    parser.addoption('--team-flag')\n\n"
        "def pytest_configure(config):\n    assert config.getoption('team_flag') == 'on'\n"
    )
    step = run_snapshot_tests(project, ("--team-flag", "on"))
    assert (step.status, step.summary) == ("passed", "1 test module, 1 test passed")


CAPTURE_TEST = """
from harness.snapshots import Capture, openai_client

KEY = "skill_name"


def test_call(vlmrun_snapshot):
    capture = Capture()
    openai_client(capture).chat.completions.create(
        model="vlmrun-orion-1:auto",
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"skills": [{KEY: "invoice-extraction"}]},
    )
    assert capture.last == vlmrun_snapshot
"""


def test_a_test_that_fails_before_its_snapshot_is_named_and_its_snapshot_is_not_called_unused(tmp_path: Path) -> None:
    """`--snapshot-update` would delete the reviewed snapshot a broken test did not reach: it is not suggested."""
    import subprocess
    import sys

    from harness.contract import default_description_path

    (tmp_path / "tests").mkdir()
    module = tmp_path / "tests" / "test_call.py"
    module.write_text(CAPTURE_TEST)
    update = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", "--snapshot-update"]
    subprocess.run(update, cwd=tmp_path, check=True, capture_output=True)
    stored = tmp_path / "tests" / "__snapshots__" / "test_call" / "test_call.json"
    assert stored.is_file()
    module.write_text(CAPTURE_TEST.replace('KEY = "skill_name"', 'KEY = "skil_name"'))
    step = run_snapshot_tests(tmp_path)
    assert (step.status, step.summary, step.details, step.next_steps) == (
        "failed",
        "1 snapshot test failed",
        [
            "tests/test_call.py::test_call: harness.errors.ConformanceFailure: POST /v1/openai/chat/completions: "
            f"the captured request breaks the API description {default_description_path()} (2 findings):",
            "      skills[0].skil_name: Unknown field 'skil_name' is not allowed here",
            "      skills[0]: Provide at least one of 'skill_id' or 'skill_name'",
            "    fix the call, or capture with Capture(allow_invalid=True) to snapshot an invalid request on purpose",
        ],
        [
            "fix the tests that fail before comparing their snapshot, then run them: `pytest tests/test_call.py` "
            "(not --snapshot-update yet: it deletes the snapshots they did not reach)"
        ],
    )
    assert stored.is_file()


def test_unreached_snapshots_are_those_of_tests_that_failed_before_comparing() -> None:
    from harness.gate.model import Case
    from harness.gate.snapshot_status import unreached

    broken = [Case("tests/test_a.py::TestX::test_y[p]", "failed", "ConformanceFailure: …")]
    names = [
        "TestX.test_y[p] (tests/__snapshots__/test_a/TestX.test_y[p].json)",
        "TestX.test_y[p].1 (tests/__snapshots__/test_a.ambr)",
        "TestX.test_yz (tests/__snapshots__/test_a/TestX.test_yz.json)",
        "TestX.test_y (tests/__snapshots__/test_b/TestX.test_y.json)",
        "a name without a file",
    ]
    assert unreached(names, broken) == names[:2]


def test_a_project_that_needs_a_left_out_plugin_still_runs(project: Path) -> None:
    """Its ini names an option of hypothesis' plugin: the lean run is a usage error, so it runs again in full."""
    (project / "pytest.ini").write_text("[pytest]\naddopts = --hypothesis-show-statistics\n")
    step = run_snapshot_tests(project)
    assert (step.status, step.summary) == ("passed", "1 test module, 1 test passed")


def test_no_snapshots_is_skipped(tmp_path: Path) -> None:
    assert run_snapshot_tests(tmp_path).status == "skipped"


def test_a_long_diff_says_how_many_lines_were_left_out() -> None:
    from harness.gate.model import Case
    from harness.gate.snapshot_status import failure_lines

    diff = "".join(f"\n    - {i}\n    + {i}!" for i in range(25))
    lines = failure_lines(Case("t.py::test_x", "failed", "AssertionError: assert [+ received] == [- snapshot]" + diff))
    assert lines[0] == "t.py::test_x: the snapshot differs (- stored, + received):"
    assert lines[1:3] == ["    - 0", "    + 0!"]
    assert lines[-1] == "    … 10 more lines"
    assert len(lines) == 1 + 40 + 1


def test_a_failing_test_that_is_no_snapshot_shows_its_message() -> None:
    from harness.gate.model import Case
    from harness.gate.snapshot_status import failure_lines

    case = Case("t.py::test_x", "failed", "TypeError: Object of type AgentSkill is not JSON serializable\n\nmore")
    assert failure_lines(case) == [
        "t.py::test_x: TypeError: Object of type AgentSkill is not JSON serializable",
        "    more",
    ]


def test_snapshot_tests_that_hang_are_an_error_naming_the_command(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.gate import snapshot_status

    (project / "tests" / "test_values.py").write_text("import time\n\ndef test_value(snapshot):\n    time.sleep(30)\n")
    monkeypatch.setattr(snapshot_status, "TIMEOUT", 3.0)
    step = run_snapshot_tests(project)
    assert (step.status, step.summary, step.next_steps) == (
        "error",
        "the snapshot tests did not finish in 3 s",
        ["run them yourself: `pytest tests/test_values.py`"],
    )


def test_snapshot_tests_that_do_not_start_are_an_error(project: Path) -> None:
    (project / "tests" / "test_values.py").write_text("def test_value(snapshot)\n")
    step = run_snapshot_tests(project)
    assert (step.status, step.summary, step.next_steps) == (
        "error",
        "pytest exited 2 running the snapshot tests",
        ["run them yourself: `pytest tests/test_values.py`"],
    )
