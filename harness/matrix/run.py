"""One matrix run: build every selected stack, probe it, judge what it sent and what it made of a `303`."""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness.contract import load_contract
from harness.docs_examples import seed_examples
from harness.matrix.evaluate import Cell, LongRequestCell, MatrixResult, StackRun, evaluator, probe_payload
from harness.matrix.long_requests import long_request_server
from harness.matrix.probe import API_KEY, PATHS
from harness.matrix.stacks import Stack, build_env, find_uv, run_probe, select
from harness.settings import harness_version

INSTALLED = "installed"


def probe_installed(python: str = sys.executable) -> MatrixResult:
    """The client stack this interpreter has, probed like a matrix stack (no environment built).

    What `harness check` runs: a user's own pins are what their code ships with.
    """
    examples = seed_examples()
    stack = Stack(INSTALLED, f"the client stack installed beside the harness ({python})")
    with evaluator(examples) as judge:
        report = run_probe(stack, Path(python), probe_payload(examples))
        run = StackRun(INSTALLED, stack.summary, (), (), report["versions"], report["features"])
        return _result([run], judge.cells(INSTALLED, report))


def run_matrix(
    names: Sequence[str] | None = None,
    *,
    cache: Path,
    refresh: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> MatrixResult:
    """Build (or reuse) each stack's environment first, so set-up errors come before any probe."""
    stacks = select(names)
    uv = find_uv()
    pythons = []
    for stack in stacks:
        progress(f"environment for {stack.name}…")
        pythons.append(build_env(stack, cache, uv=uv, refresh=refresh))
    examples = seed_examples()
    runs: list[StackRun] = []
    cells: list[Cell] = []
    long_requests: list[LongRequestCell] = []
    with evaluator(examples) as judge, long_request_server(API_KEY) as server:
        payload = {**probe_payload(examples), "long_request": server.request()}
        for stack, python in zip(stacks, pythons, strict=True):
            progress(f"probing {stack.name}…")
            server.take()
            report = run_probe(stack, python, payload)
            runs.append(
                StackRun(
                    name=stack.name,
                    summary=stack.summary,
                    requirements=stack.lines(stack.requirements),
                    overrides=stack.lines(stack.overrides),
                    versions=report["versions"],
                    features=report["features"],
                )
            )
            cells += judge.cells(stack.name, report)
            if (long_request := judge.long_request(stack.name, report, server.take())) is not None:
                long_requests.append(long_request)
    return _result(runs, cells, long_requests)


def _result(runs: list[StackRun], cells: list[Cell], long_requests: Sequence[LongRequestCell] = ()) -> MatrixResult:
    return MatrixResult(
        generated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        python=platform.python_version(),
        harness_version=harness_version() or "unknown",
        description_sha256=load_contract().sha256,
        paths=PATHS,
        stacks=tuple(runs),
        cells=tuple(cells),
        long_requests=tuple(long_requests),
    )
