"""How `harness check` drives the schemathesis CLI: the coverage phase split, summed counts."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.gate.run import GateOptions
from harness.proptests import runner
from harness.proptests.runner import (
    RunOptions,
    RunResult,
    SchemathesisJsonReport,
    choose_seed,
    command,
    json_path,
    parse_junit,
    split,
)
from harness.settings import JUNIT_REPORT

OPTS = RunOptions(
    description=Path("d.yaml"), base_url="http://127.0.0.1:1", api_key="sk-never-on-argv", junit_path=Path("r/s.xml")
)


def test_coverage_runs_in_a_process_of_its_own_beside_the_other_phases() -> None:
    rest, coverage = split(OPTS)
    assert rest.phases == ("examples", "fuzzing", "stateful")
    assert (coverage.phases, coverage.junit_path) == (("coverage",), Path("r/s-coverage.xml"))
    assert "coverage" in command(coverage)[command(coverage).index("--phases") + 1]


def test_no_split_with_one_phase_or_without_coverage() -> None:
    alone = replace(OPTS, phases=("coverage",))
    assert split(alone) == [alone]
    without = replace(OPTS, phases=("examples", "fuzzing"))
    assert split(without) == [without]


def _workers(opts: RunOptions) -> str:
    cmd = command(opts)
    return cmd[cmd.index("--workers") + 1]


def test_workers_apply_to_every_phase_but_coverage_which_runs_alone_with_one() -> None:
    """schemathesis 4.32.5 crashes generating coverage cases with `--workers` > 1."""
    rest, coverage = split(replace(OPTS, workers=4))
    assert [(p.phases, _workers(p)) for p in (rest, coverage)] == [
        (("examples", "fuzzing", "stateful"), "4"),
        (("coverage",), "1"),
    ]
    assert [_workers(p) for p in split(replace(OPTS, phases=("coverage",), workers=4))] == ["1"]
    assert [_workers(p) for p in split(replace(OPTS, phases=("fuzzing",), workers=4))] == ["4"]


def test_the_runner_on_its_own_runs_what_the_gate_runs_and_writes_its_own_report() -> None:
    """It used to default to 300 examples, written over the gate's junit.xml."""
    alone = RunOptions(description=Path("d.yaml"), base_url="http://h", api_key="k")
    gate = GateOptions(description=Path("d.yaml"))
    assert (alone.max_examples, alone.phases, alone.workers) == (gate.max_examples, gate.phases, gate.workers)
    assert alone.junit_path.parent == gate.report_dir
    assert alone.junit_path != gate.report_dir / JUNIT_REPORT


def test_the_key_is_never_on_the_command_line() -> None:
    assert not [arg for part in split(OPTS) for arg in command(part) if "sk-never-on-argv" in arg]


def test_totals_are_summed_over_processes() -> None:
    output = (
        "Test cases:\n  12 generated, 12 passed, 4 skipped\n...\n"
        "Test cases:\n  881 generated, 880 passed, 1 failed, 10 skipped\n"
    )
    assert RunResult(0, [], output).totals == "893 generated, 892 passed, 14 skipped, 1 failed"


def test_totals_say_failing_and_sum_unique_failures_whatever_their_number() -> None:
    output = (
        "Test cases:\n  9 generated, 1 found, 1 unique failure, 2 skipped\n"
        "Test cases:\n  5 generated, 2 found, 2 unique failures\n"
    )
    assert RunResult(1, [], output).totals == "14 generated, 3 failing, 3 unique failures, 2 skipped"


def test_schemathesis_writes_a_json_report_beside_the_junit_one() -> None:
    cmd = command(OPTS)
    assert cmd[cmd.index("--report") + 1] == "junit,json"
    assert cmd[cmd.index("--report-json-path") + 1] == str(Path("r/s.json"))
    assert json_path(Path("r/s-coverage.xml")) == Path("r/s-coverage.json")


def test_every_run_has_a_seed_so_it_can_be_repeated() -> None:
    chosen = choose_seed(OPTS)
    assert isinstance(chosen.seed, int)
    assert choose_seed(replace(OPTS, seed=7)).seed == 7


def write_report(path: Path, **data: object) -> None:
    path.write_text(json.dumps(data))


def test_refused_and_unreachable_come_from_schemathesis_json_reports(tmp_path: Path) -> None:
    write_report(tmp_path / "a.json", test_cases={"generated": 9, "errored": 0}, warnings={"missing_auth": ["GET /b"]})
    write_report(tmp_path / "b.json", test_cases={"generated": 3, "errored": 0}, warnings={"missing_auth": ["GET /a"]})
    reports = [r for name in ("a", "b") if (r := SchemathesisJsonReport.read(tmp_path / f"{name}.json")) is not None]
    result = RunResult(0, [], "", 1, reports)
    assert (result.refused, result.unreachable) == (["GET /a", "GET /b"], False)
    write_report(tmp_path / "c.json", test_cases={"generated": 4, "errored": 4}, errors=[{"title": "Network Error"}])
    unreachable = SchemathesisJsonReport.read(tmp_path / "c.json")
    assert unreachable is not None
    assert RunResult(1, [], "", 1, [unreachable]).unreachable
    other = SchemathesisJsonReport(generated=4, errored=4, error_titles=frozenset({"Schema Error"}))
    assert not RunResult(1, [], "", 1, [other]).unreachable
    assert SchemathesisJsonReport.read(tmp_path / "missing.json") is None


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="schemathesis">
<testcase name="POST /v1/skills/lookup"><failure type="failure" message="ST103">1. Test Case ID: abc

- ST103 Undocumented status code

    Received: 418

Reproduce with:

    curl -X POST http://h/v1/skills/lookup</failure></testcase>
<testcase name="GET /v1/health"><skipped type="skipped">No examples in schema</skipped></testcase>
</testsuite></testsuites>
"""


def test_the_junit_report_is_read_whole_not_only_its_codes(tmp_path: Path) -> None:
    (tmp_path / "s.xml").write_text(JUNIT)
    lookup, health = parse_junit(tmp_path / "s.xml")
    assert lookup.failures[0].startswith("1. Test Case ID: abc\n\n- ST103 Undocumented status code")
    assert [case.curl for case in lookup.failed_cases] == [("curl -X POST http://h/v1/skills/lookup",)]
    assert (lookup.skipped, health.skipped) == (False, True)


def test_the_coverage_process_starts_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []

    class Fake:
        def __init__(self, cmd: list[str], **kwargs: object) -> None:
            started.append(cmd[cmd.index("--phases") + 1])
            Path(cmd[cmd.index("--report-junit-path") + 1]).write_text(JUNIT)
            self.returncode = 0

        def wait(self, timeout: float | None = None) -> int:
            return 0

        def poll(self) -> int:
            return 0

    monkeypatch.setattr("harness.proptests.runner.subprocess.Popen", Fake)
    result = runner.run(replace(OPTS, description=tmp_path / "d.yaml", junit_path=tmp_path / "s.xml"))
    assert started == ["coverage", "examples,fuzzing,stateful"]
    assert result.returncode == 0


# The child processes stand in for schemathesis: each writes its report; their script says how.
CHILD = """
import pathlib, sys, time
junit, phases, marker, junit_text = sys.argv[1:5]
if phases == "coverage":
    sys.stdout.write("x" * 1_000_000)  # more than a pipe holds (64 KiB on Linux)
    sys.stdout.flush()
    pathlib.Path(marker).write_text("done")
else:
    deadline = time.monotonic() + 20
    while not pathlib.Path(marker).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("waited for coverage:", pathlib.Path(marker).exists())
pathlib.Path(junit).write_text(junit_text)
"""


def test_a_process_writing_more_than_a_pipe_holds_does_not_stall_while_another_is_awaited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The processes used to be read one after the other: the coverage one, not read while
    the other was awaited, blocked on a full pipe. Here the other waits for it to finish."""
    marker = tmp_path / "coverage-done"

    def fake(part: RunOptions) -> list[str]:
        return [sys.executable, "-c", CHILD, str(part.junit_path), ",".join(part.phases), str(marker), JUNIT]

    monkeypatch.setattr(runner, "command", fake)
    opts = replace(OPTS, description=tmp_path / "d.yaml", junit_path=tmp_path / "s.xml", timeout=10)
    start = time.monotonic()
    try:
        result = runner.run(opts)
    except UsageError as exc:
        pytest.fail(f"the processes stalled: {exc}")
    assert time.monotonic() - start < 10
    assert result.output.count("x") >= 1_000_000
    assert "waited for coverage: True" in result.output


def test_a_run_that_outlives_its_timeout_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "command", lambda part: [sys.executable, "-c", "import time; time.sleep(30)"])
    opts = replace(OPTS, description=tmp_path / "d.yaml", junit_path=tmp_path / "s.xml", timeout=1)
    start = time.monotonic()
    with pytest.raises(UsageError) as caught:
        runner.run(opts)
    assert str(caught.value) == "schemathesis did not finish within 1s against http://127.0.0.1:1"
    assert time.monotonic() - start < 10
