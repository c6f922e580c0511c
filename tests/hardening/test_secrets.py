"""An API key never reaches disk or output: every client path, every place a key can travel.

tests/test_pytest_plugin.py records one openai call with the key in the environment and
checks the YAML and zip files; tests/test_cli.py checks `harness check` run in-process
against a broken server. This module records through every client path with the key in the
`Authorization` header, in an `api_key` query parameter, in the body and in
`VLMRUN_API_KEY`, then replays with a deliberate miss, and scans every file under the
cassette folder (blobs included), pytest's output and its JUnit report; and it runs the
real `harness check --base-url … --api-key …` against a `harness serve` subprocess.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening._runs import OFFLINE, RECORD
from tests.serving import harness_serve

KEY = "sk-hardening-0d6f1c2b9a8e7f6a5b4c"
# The key, its base64 (an encoded header or body) and its tail (a message quoting "…5b4c").
FORMS = (KEY, base64.b64encode(KEY.encode()).decode(), KEY[-12:])

TESTS = """
import asyncio, os
import httpx, pytest
from harness.docs_examples import MODEL, dict_form, seed_examples

KEY = os.environ["VLMRUN_API_KEY"]  # never in this file's text: a traceback would show it
QUERY = {"api_key": KEY}
EXAMPLE = {e.name: e for e in seed_examples()}["mixed"]  # an inline bundle and a reference
SKILLS = [dict_form(s) for s in EXAMPLE.skills]
TEXT = os.environ.get("SECRETS_TEXT", "Extract data from this document.")
MESSAGES = [{"role": "user", "content": TEXT}]

@pytest.mark.vcr
def test_vlmrun_sdk(vlmrun_client):
    r = vlmrun_client.agent.completions.create(
        model=MODEL, messages=MESSAGES, skills=SKILLS, extra_query=QUERY, extra_headers={"x-api-key": KEY}
    )
    assert r.choices[0].message.content

@pytest.mark.vcr
def test_openai_sync(openai_client):
    r = openai_client.chat.completions.create(
        model=MODEL, messages=MESSAGES, extra_body={"skills": SKILLS}, extra_query=QUERY
    )
    assert r.choices[0].message.content

@pytest.mark.vcr
def test_openai_streaming(openai_client):
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=MESSAGES, extra_body={"skills": SKILLS}, extra_query=QUERY, stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream)

@pytest.mark.vcr
def test_openai_async(async_openai_client):
    async def run():
        create = async_openai_client.chat.completions.create
        whole = await create(model=MODEL, messages=MESSAGES, extra_body={"skills": SKILLS}, extra_query=QUERY)
        stream = await create(
            model=MODEL, messages=MESSAGES, extra_body={"skills": SKILLS}, extra_query=QUERY, stream=True
        )
        return whole.choices[0].message.content, "".join([c.choices[0].delta.content or "" async for c in stream])
    whole, streamed = asyncio.run(run())
    assert whole == streamed

@pytest.mark.vcr
def test_raw_httpx(vlmrun_base_url, vlmrun_api_key):
    body = {"model": MODEL, "messages": MESSAGES, "skills": SKILLS, "metadata": {"api_key": vlmrun_api_key}}
    with httpx.Client() as client:
        r = client.post(
            vlmrun_base_url + "/openai/chat/completions",
            params={"api_key": vlmrun_api_key, "token": vlmrun_api_key},
            headers={"Authorization": f"Bearer {vlmrun_api_key}", "Cookie": f"session={vlmrun_api_key}"},
            json=body,
        )
    assert r.status_code == 200, r.text
"""


def leaks(text: str) -> list[str]:
    return [form for form in FORMS if form in text]


def scan_files(root: Path) -> dict[str, list[str]]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and (hits := leaks(path.read_bytes().decode("utf-8", "replace"))):
            found[str(path)] = hits
    return found


def test_recording_and_replaying_through_every_client_path_writes_and_prints_no_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLMRUN_API_KEY", KEY)
    pytester.makepyfile(test_keys=TESTS)
    junit = pytester.path / "reports" / "record.xml"
    verbose = ["-rA", "-v", f"--junitxml={junit}", "-o", "junit_logging=all"]
    recorded = pytester.runpytest(*RECORD, *verbose)
    recorded.assert_outcomes(passed=5)

    # The key went out on every path (the server demanded it) and was redacted where it was.
    cassettes = pytester.path / "cassettes"
    texts = "".join(p.read_text() for p in cassettes.rglob("*.yaml"))
    assert texts.count("api_key=<redacted>") >= 5  # one per call at least: the query parameter
    assert "Bearer" not in texts
    assert "session=" not in texts
    assert '"api_key": "<redacted>"' in texts  # the body field, in the indented JSON
    assert list((cassettes / "_blobs").glob("*.zip"))

    # Replay offline with the key still in the environment, and one call changed: the miss
    # report quotes the live request, which must be scrubbed too.
    monkeypatch.setenv("SECRETS_TEXT", "A changed prompt.")
    replay_junit = pytester.path / "reports" / "replay.xml"
    replayed = pytester.runpytest(*OFFLINE, "-rA", "-v", f"--junitxml={replay_junit}", "-o", "junit_logging=all")
    replayed.assert_outcomes(failed=5)
    replayed.stdout.fnmatch_lines(["*CassetteMiss*api_key=<redacted>*"])

    assert scan_files(cassettes) == {}
    assert scan_files(pytester.path / "reports") == {}
    for result in (recorded, replayed):
        assert leaks(result.stdout.str() + result.stderr.str()) == []


# -- harness check -------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`harness serve` in its own process, accepting KEY (its own command line is the server's business)."""
    with harness_serve(KEY, tmp_path) as running:
        yield running.url


def test_harness_check_never_prints_or_writes_the_api_key(served: str, tmp_path: Path) -> None:
    work = tmp_path / "project"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "VLMRUN_API_KEY"}
    args = ["--base-url", served, "--api-key", KEY, "--max-examples", "1", "--phases", "examples"]
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "check", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    written = {p.suffix for p in work.rglob("*") if p.is_file()}
    assert {".xml", ".md", ".json"} <= written, written  # JUnit, markdown and JSON reports
    assert leaks(proc.stdout + proc.stderr) == []
    assert scan_files(work) == {}  # reports, schemathesis' cache, anything else it wrote
