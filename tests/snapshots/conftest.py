from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _nested_runs_are_not_xdist_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pytester session inside an xdist worker would inherit its environment, and syrupy
    would then leave writing and the unused-snapshot report to a controller that is not there."""
    for name in [n for n in os.environ if n.startswith("PYTEST_XDIST")]:
        monkeypatch.delenv(name)
