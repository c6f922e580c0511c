"""The CI example must not rot: every `harness` command in it parses with today's CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from harness.cli import _parser

WORKFLOW = Path(__file__).resolve().parents[1] / "examples" / "github-actions" / "contract.yml"


def _commands() -> list[list[str]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            run = step.get("run", "")
            # GitHub expressions become plain values, as the runner would substitute them.
            text = re.sub(r"\$\{\{.*?format\(.*?\).*?\}\}", "--against origin/main:openapi/vlmrun-agent.yaml", run)
            text = re.sub(r"\$\{\{.*?\}\}", "main", text)
            commands += [shlex.split(line)[1:] for line in text.splitlines() if line.strip().startswith("harness ")]
    return commands


def test_the_workflow_runs_the_gate_the_diff_and_verify() -> None:
    names = [argv[0] for argv in _commands()]
    assert {"check", "diff", "verify"} <= set(names)


def test_every_harness_command_in_the_workflow_parses() -> None:
    for argv in _commands():
        _parser().parse_args(argv)  # SystemExit (exit 2) on an unknown flag fails the test
