"""The description a project last accepted: written by `harness check --accept`, diffed by every gate run.

A project does not own the API it calls; it owns what it agreed to. `[tool.vlmrun-harness.gate]
accepted = PATH` names a file holding that description. Each gate run diffs the description
in use (overlays applied) against it as `--against` does: a breaking change fails the gate
until the description is fixed, the break is waived, or the new description is accepted.
"""

from __future__ import annotations

from pathlib import Path

from harness.contract import Contract
from harness.description_yaml import accepted_yaml
from harness.errors import UsageError
from harness.files import path_below, write_atomic
from harness.gate.description_diff import WAIVE, diff_report, judge
from harness.gate.model import Step

ACCEPT_COMMAND = "harness check --accept"
SETTING = '[tool.vlmrun-harness.gate] accepted = ".vlmrun/accepted-description.yaml" in pyproject.toml'


def accept(accepted: Path | None, contract: Contract, root: Path) -> str:
    """Write the description in use to `accepted` (checked first; atomically); the line to print."""
    if accepted is None:
        raise UsageError(f"--accept writes the description in use to the file the setting names; set it: {SETTING}")
    if accepted.is_dir():
        raise UsageError(f"[tool.vlmrun-harness.gate] accepted = {accepted} is a folder: name a file")
    contract.check()
    try:
        write_atomic(accepted, accepted_yaml(contract.document))
    except OSError as exc:
        raise UsageError(f"cannot write the accepted description to {accepted}: {exc.strerror or exc}") from exc
    return f"accepted {contract.source}: written to {path_below(accepted, root)}; commit it"


def accepted_step(
    accepted: Path,
    description: Path,
    cassettes: list[Path],
    root: Path,
    waivers: Path | None,
    fail_on: str = "ERR",
    *,
    label: str | None = None,
) -> Step:
    """The description in use (the file `description`, named `label` when a copy) against the accepted one."""
    step = Step("accepted")
    where = path_below(accepted, root)
    if not accepted.is_file():
        return step.error(
            f"no accepted description at {where}: create it with `{ACCEPT_COMMAND}` "
            "(it writes the description in use there), then commit it"
        )
    report = diff_report(where, description, label=label, waivers=waivers, fail_on=fail_on, cwd=root)
    return judge(
        step,
        report,
        cassettes,
        root,
        f"fix the description or its overlays, or {WAIVE}",
        f"if the change is intended, accept the description in use: `{ACCEPT_COMMAND}`, then commit {where}",
    )
