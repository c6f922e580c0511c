"""The gate's client-stack step: do the calls the seed examples make still work through the
SDKs installed here (the matrix's probe, on this environment's stack only)? With neither SDK
installed there is nothing to probe: the step is skipped, not passed."""

from __future__ import annotations

from harness.gate.model import Case, Step, count
from harness.matrix.run import probe_installed


def client_stack_step() -> Step:
    step = Step("client-stack")
    result = probe_installed()
    [stack] = result.stacks
    versions = ", ".join(f"{k} {v}" for k, v in stack.versions.items() if v)
    if all(cell.outcome == "n/a" for cell in result.cells):
        step.status = "skipped"
        step.summary = f"{versions}: no VLM Run client SDK (openai, vlmrun) installed here, so no call to probe"
        return step
    counts = result.counts(stack.name)
    works = counts.get("ok", 0)
    step.summary = f"{versions}: {count(works, 'call')} {'works' if works == 1 else 'work'}"
    for cell in result.cells:
        name = f"{cell.example} via {cell.path}"
        if cell.verdict == "FAIL":
            step.cases.append(Case(name, "failed", "; ".join(cell.problems)))
        elif cell.expected == "known failure":
            step.cases.append(Case(name, "passed", f"known failure: {cell.reason}"))
            step.details.append(f"{name}: known failure ({cell.rule}): {cell.error or cell.status}")
        elif cell.outcome != "n/a":
            step.cases.append(Case(name, "passed"))
    if result.failed:
        failed = [c for c in step.cases if c.status == "failed"]
        step.details = [f"{c.name}: {c.message}" for c in failed] + step.details
        step.fail(
            f"{count(len(failed), 'call')} from the installed SDKs no longer "
            f"{'works' if len(failed) == 1 else 'work'} ({versions})",
            "see which calls with `harness matrix` (all stacks) and compare the sent bodies",
            "send skills as dicts (`harness.skill_dicts.to_wire_dicts`) until the SDK is fixed",
        )
    return step
