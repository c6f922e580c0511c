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
    assert step.status == "passed", step.details
    assert [c.status for c in step.cases] == ["passed"]


def test_a_drifted_snapshot_fails_with_the_update_command_and_nothing_is_written(project: Path) -> None:
    (project / "tests" / "test_values.py").write_text(TEST.replace("VALUE", "20260219-abc123"))
    before = (project / "tests" / "__snapshots__" / "test_values.ambr").read_text()
    step = run_snapshot_tests(project)
    assert step.status == "failed"
    assert any("--snapshot-update" in n for n in step.next_steps)
    assert "test_value" in step.details[0]
    assert (project / "tests" / "__snapshots__" / "test_values.ambr").read_text() == before


def test_no_snapshots_is_skipped(tmp_path: Path) -> None:
    assert run_snapshot_tests(tmp_path).status == "skipped"
