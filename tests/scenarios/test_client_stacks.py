"""The scenario suite replayed on the other openai generation.

The project environment runs openai 3.x (httpx2). `pip install vlmrun` gives openai
1.109.1 on httpx instead (vlmrun pins it), so the same cassettes are replayed there too, in
an overlay environment uv builds from these exact pins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

OPENAI_1_STACK = ("openai==1.109.1", "httpx==0.28.1")
SCENARIOS = Path(__file__).resolve().parent / "test_seed_examples.py"
ROOT = Path(__file__).resolve().parents[2]


def test_scenarios_replay_on_openai_1_with_httpx() -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.fail("This test builds an openai 1.x overlay with uv: run the suite with `uv run pytest` (README).")
    withs = [arg for pin in OPENAI_1_STACK for arg in ("--with", pin)]
    cmd = [uv, "run", "--frozen", *withs, "python", "-m", "pytest", str(SCENARIOS), "-q", "-p", "no:cacheprovider"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
    code = "import openai, httpx; print(openai.__version__, httpx.__version__)"
    probe = [uv, "run", "--frozen", *withs, "python", "-c", code]
    versions = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True, check=True, env=env).stdout.split()
    assert versions == ["1.109.1", "0.28.1"]
