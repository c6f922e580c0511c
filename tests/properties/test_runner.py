"""How `harness check` drives the schemathesis CLI: the coverage phase split, summed counts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.properties.runner import RunOptions, RunResult, command, split

OPTS = RunOptions(
    description=Path("d.yaml"), base_url="http://127.0.0.1:1", api_key="sk-never-on-argv", junit_path=Path("r/s.xml")
)


def test_coverage_runs_in_a_process_of_its_own_beside_the_other_phases() -> None:
    rest, coverage = split(OPTS)
    assert rest.phases == ("examples", "fuzzing", "stateful")
    assert (coverage.phases, coverage.junit_path) == (("coverage",), Path("r/s-coverage.xml"))
    assert "coverage" in command(coverage)[command(coverage).index("--phases") + 1]


def test_no_split_with_one_phase_or_schemathesis_workers() -> None:
    alone = replace(OPTS, phases=("coverage",))
    assert split(alone) == [alone]
    assert len(split(replace(OPTS, workers=2))) == 1


def test_the_key_is_never_on_the_command_line() -> None:
    assert not [arg for part in split(OPTS) for arg in command(part) if "sk-never-on-argv" in arg]


def test_totals_are_summed_over_processes() -> None:
    output = (
        "Test cases:\n  12 generated, 12 passed, 4 skipped\n...\n"
        "Test cases:\n  881 generated, 880 passed, 1 failed, 10 skipped\n"
    )
    assert RunResult(0, [], output).totals == "893 generated, 892 passed, 14 skipped, 1 failed"
