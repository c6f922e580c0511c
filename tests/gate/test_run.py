"""The gate's order, skipping and reports, without the slow property step."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from harness.contract import default_description_path
from harness.errors import UsageError
from harness.gate import run as gate_run
from harness.gate.model import Step
from harness.gate.run import GateOptions, run_gate


def options(tmp_path: Path, **kwargs: object) -> GateOptions:
    defaults: dict[str, object] = {
        "description": default_description_path(),
        "root": tmp_path,
        "report_dir": tmp_path / "report",
        "skip": frozenset({"properties"}),
    }
    return GateOptions(**{**defaults, **kwargs})  # type: ignore[arg-type]


def console() -> Console:
    return Console(file=io.StringIO(), width=120)


def test_every_step_reports_and_the_reports_are_written(tmp_path: Path) -> None:
    out = console()
    same = str(default_description_path())
    result = run_gate(options(tmp_path, against=same), out)
    assert [(s.name, s.status) for s in result.steps] == [
        ("description", "passed"),
        ("properties", "skipped"),
        ("cassettes", "skipped"),
        ("snapshots", "skipped"),
        ("client-stack", "passed"),
        ("diff", "passed"),
    ]
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["verdict"] == "passed"
    assert isinstance(out.file, io.StringIO)
    assert "harness check: passed" in out.file.getvalue()


def test_a_missing_description_stops_the_gate_with_an_error(tmp_path: Path) -> None:
    result = run_gate(options(tmp_path, description=tmp_path / "nope.yaml"), console())
    assert [(s.name, s.status) for s in result.steps] == [("description", "error")]
    assert result.exit_code == 2
    assert "nope.yaml" in result.steps[0].summary


def test_a_failing_step_fails_the_gate_and_an_erroring_one_is_contained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Step:
        raise UsageError("uv is not installed")

    monkeypatch.setattr(gate_run, "client_stack_step", broken)
    monkeypatch.setattr(gate_run, "run_snapshot_tests", lambda root: Step("snapshots").fail("1 snapshot drifted"))
    result = run_gate(options(tmp_path), console())
    statuses = {s.name: s.status for s in result.steps}
    assert (statuses["snapshots"], statuses["client-stack"]) == ("failed", "error")
    assert result.exit_code == 2
    assert "uv is not installed" in result.steps[-1].summary
