"""The gate's order, skipping and reports, without the slow property step."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from harness.contract import default_description_path
from harness.errors import UsageError
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


def test_every_step_reports_and_the_reports_are_written(tmp_path: Path) -> None:
    console = Console(file=io.StringIO(), width=120)
    extra = {"client-stack": lambda opts, contract: Step("client-stack", summary="3 paths")}
    result = run_gate(options(tmp_path), console, extra)
    assert [(s.name, s.status) for s in result.steps] == [
        ("description", "passed"),
        ("properties", "skipped"),
        ("cassettes", "skipped"),
        ("snapshots", "skipped"),
        ("client-stack", "passed"),
    ]
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["verdict"] == "passed"
    assert isinstance(console.file, io.StringIO)
    assert "harness check: passed" in console.file.getvalue()


def test_a_missing_description_stops_the_gate_with_an_error(tmp_path: Path) -> None:
    console = Console(file=io.StringIO(), width=120)
    result = run_gate(options(tmp_path, description=tmp_path / "nope.yaml"), console)
    assert [(s.name, s.status) for s in result.steps] == [("description", "error")]
    assert result.exit_code == 2
    assert "nope.yaml" in result.steps[0].summary


def test_a_failing_extra_step_fails_the_gate_and_an_erroring_one_is_contained(tmp_path: Path) -> None:
    def broken(opts: GateOptions, contract: object) -> Step:
        raise UsageError("uv is not installed")

    console = Console(file=io.StringIO(), width=120)
    extra = {"diff": lambda o, c: Step("diff").fail("1 breaking change"), "client-stack": broken}
    result = run_gate(options(tmp_path), console, extra)
    assert {s.name: s.status for s in result.steps}["diff"] == "failed"
    assert {s.name: s.status for s in result.steps}["client-stack"] == "error"
    assert result.exit_code == 2
