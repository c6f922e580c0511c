"""A re-recording killed mid-write, or failing, leaves the previous cassette and its blobs intact.

tests/recording/test_persister.py kills a bare `save_interactions` loop with SIGKILL. Here a
real `pytest --record-mode=rewrite` run is killed while it writes, which found that
pytest-recording's `rewrite` deletes each cassette before its test even runs: the old
recording was lost on any kill, Ctrl-C or failed call. The plugin now re-records without
deleting (harness/pytest_plugin.py, harness/recording/configure.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.recording.blobs import zip_digest
from harness.recording.cassette_io import read_cassette
from harness.recording.verify import find_cassettes
from tests.hardening._runs import LEAN, OFFLINE, RECORD

# Wraps the project's single atomic writer: once the new file is complete in its temp file,
# name that file in CRASH_SIGNAL and sleep, so the test can kill the run before the rename.
CONFTEST = """
import os, sys, time
from contextlib import contextmanager
from pathlib import Path

import harness.files
import harness.recording.blobs
import harness.recording.persister

SIGNAL = os.environ.get("CRASH_SIGNAL")
SUFFIX = os.environ.get("CRASH_ON_SUFFIX", ".yaml")
REAL = harness.files.atomic_writer

@contextmanager
def slow_writer(path):
    with REAL(path) as fh:
        yield fh
        if path.suffix == SUFFIX:
            fh.flush()
            Path(SIGNAL).write_text(fh.name)
            time.sleep(60)  # killed long before this ends

if SIGNAL:
    for module in list(sys.modules.values()):
        if module and module.__name__.startswith("harness") and getattr(module, "atomic_writer", None) is REAL:
            module.atomic_writer = slow_writer
"""

TEST = """
import os
import pytest
from harness.bundles import build_bundle, encode_bundle
from harness.docs_examples import MODEL

NOTE = os.environ.get("CRASH_NOTE", "first recording")
SKILL_MD = "---\\nname: crash\\ndescription: Crash test\\n---\\n"
FILES = {"SKILL.md": SKILL_MD, "v.txt": os.environ.get("CRASH_BUNDLE", "1")}

@pytest.mark.vcr
def test_call(openai_client):
    skills = [{"type": "inline", "source": {"data": encode_bundle(build_bundle(FILES))}}]
    messages = [{"role": "user", "content": NOTE}]
    r = openai_client.chat.completions.create(model=MODEL, messages=messages, extra_body={"skills": skills})
    assert r.choices[0].message.content
"""


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def recorded(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_crash=TEST)
    pytester.runpytest(*RECORD).assert_outcomes(passed=1)
    return pytester


def cassette_of(pytester: pytest.Pytester) -> Path:
    return pytester.path / "cassettes" / "test_crash" / "test_call.yaml"


def kill_while_writing(pytester: pytest.Pytester, suffix: str, **env: str) -> Path:
    """Run `pytest --record-mode=rewrite` as a user would, SIGKILL it before its rename; the temp file."""
    signal_file = pytester.path / "writing.signal"
    run_env = {**os.environ, "CRASH_SIGNAL": str(signal_file), "CRASH_ON_SUFFIX": suffix, **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--record-mode=rewrite", *LEAN, "-q"],
        cwd=pytester.path,
        env=run_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not signal_file.exists() or not signal_file.read_text():
            assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before it wrote"
            assert time.monotonic() < deadline, "the run never reached the write"
            time.sleep(0.02)
        temp = Path(signal_file.read_text())
        assert temp.exists()  # complete but not yet renamed: the worst moment to die
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    signal_file.unlink()
    return temp


@pytest.mark.parametrize(
    ("suffix", "env"),
    [(".yaml", {"CRASH_NOTE": "second recording"}), (".zip", {"CRASH_BUNDLE": "2"})],
    ids=["killed-writing-the-cassette", "killed-writing-a-new-blob"],
)
def test_a_rewrite_killed_mid_write_leaves_the_old_cassette_and_blobs(
    recorded: pytest.Pytester, suffix: str, env: dict[str, str]
) -> None:
    cassettes = recorded.path / "cassettes"
    before = snapshot(cassettes)
    assert any(name.startswith("_blobs/") for name in before)

    temp = kill_while_writing(recorded, suffix, **env)

    after = snapshot(cassettes)
    leftovers = sorted(set(after) - set(before))
    assert leftovers == [str(temp.relative_to(cassettes))]
    assert temp.name.startswith(".")
    assert temp.name.endswith(".tmp")
    assert {name: after[name] for name in before} == before  # byte-identical, blobs included
    for blob in (cassettes / "_blobs").glob("*.zip"):
        assert zip_digest(blob.read_bytes()) == "sha256:" + blob.stem.removeprefix("sha256-")
    # The loaders ignore the hidden temp file: the cassette loads, is the only one found, replays.
    assert find_cassettes([cassettes]) == [cassette_of(recorded)]
    assert len(read_cassette(cassette_of(recorded)).interactions) == 1
    recorded.runpytest(*OFFLINE).assert_outcomes(passed=1)


def test_a_rewrite_whose_call_fails_keeps_the_old_cassette(recorded: pytest.Pytester) -> None:
    """Re-recording against a server that is down used to delete the cassette and save nothing."""
    before = snapshot(recorded.path / "cassettes")
    down = ["--vlmrun-base-url", "http://127.0.0.1:9/v1"]
    recorded.runpytest("--record-mode=rewrite", *down, *LEAN).assert_outcomes(failed=1)
    assert snapshot(recorded.path / "cassettes") == before
    recorded.runpytest(*OFFLINE).assert_outcomes(passed=1)


def test_a_completed_rewrite_replaces_the_cassette_with_only_the_new_call(recorded: pytest.Pytester) -> None:
    """Still a rewrite: the old cassette is not loaded, so nothing of it is replayed or kept."""
    recorded.makepyfile(test_crash=TEST.replace('"first recording"', '"changed call"'))
    recorded.runpytest("--record-mode=rewrite", *LEAN).assert_outcomes(passed=1)
    (only,) = read_cassette(cassette_of(recorded)).interactions
    assert b"changed call" in only.request.body
