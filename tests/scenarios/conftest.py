"""The scenario suite's recordings live in `cassettes/` at the repository root.

They are this project's own recorded interactions, reviewed like source, so they sit at the
top beside `openapi/` rather than inside the test folder; `vcr_cassette_dir` keeps
pytest-recording's per-module subfolders there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT_CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(ROOT_CASSETTES / request.module.__name__.rsplit(".", 1)[-1])
