"""The stock schemathesis CLI, run as the README says, against `harness serve`.

Without the hooks module it reports a false ST202 (a schema-valid inline bundle that is not
a zip is rightly refused); with it, it finds nothing, the stateful phase's links included.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.contract import default_description_path
from harness.proptests.runner import HOOKS_MODULE

KEY = "stock-schemathesis-key"
TIMEOUT = 300


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`harness serve --port 0` with its log in a file; its root URL.

    Not `tests.serving.harness_serve`: that one pipes stderr and never reads it, and a few
    thousand requests fill the pipe until a log write blocks the server.
    """
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    argv = [sys.executable, "-m", "harness", "serve", "--port", "0", "--api-key", KEY]
    with log.open("w") as sink:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=sink, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the one line it prints, once it listens
        match = re.search(r"(http://127\.0\.0\.1:\d+)/v1", line)
        assert match, line + log.read_text()
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(10)


def stock_schemathesis(url: str, cwd: Path, *flags: str, hooks: str | None) -> subprocess.CompletedProcess[str]:
    """The `schemathesis` console script beside this Python, with the README's flags and a bound on examples."""
    script = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    launcher = [script] if script else [sys.executable, "-m", "schemathesis.cli"]
    cmd = [
        *launcher, "run", str(default_description_path()),
        "--url", url, "-H", f"Authorization: Bearer {KEY}",
        "--max-examples", "10", "--no-color", *flags,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "SCHEMATHESIS_HOOKS"}
    if hooks is not None:
        env["SCHEMATHESIS_HOOKS"] = hooks
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def test_with_the_hooks_module_the_stock_cli_finds_nothing(served: str, tmp_path: Path) -> None:
    proc = stock_schemathesis(served, tmp_path, hooks=HOOKS_MODULE)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert "FAILURES" not in proc.stdout  # warnings (e.g. an id it could not find) do not count as findings
    links = re.search(r"API Links: +(\d+) covered", proc.stdout)
    assert links, proc.stdout[-8000:]
    assert int(links.group(1)) > 0  # the stateful phase followed the description's links


def test_the_hooks_module_also_loads_by_file_path(served: str, tmp_path: Path) -> None:
    """schemathesis runs a path (anything with a separator or `.py`) as a file, not an import."""
    spec = importlib.util.find_spec(HOOKS_MODULE)
    assert spec is not None
    assert spec.origin is not None
    hooks_file = spec.origin
    proc = stock_schemathesis(served, tmp_path, "--phases", "coverage", hooks=hooks_file)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]


def test_without_it_a_schema_valid_bundle_that_is_no_zip_is_a_false_st202(served: str, tmp_path: Path) -> None:
    proc = stock_schemathesis(served, tmp_path, "--phases", "coverage", hooks=None)
    assert proc.returncode == 1
    assert "ST202 Schema-valid request rejected" in proc.stdout
    assert '"type":"bundle.' in proc.stdout  # refused as a bundle, not as a request
