"""Four xdist workers recording at once into cassettes that share one bundle blob, then replaying.

tests/test_pytest_plugin.py::test_recording_under_xdist_shares_blobs_safely already records
and replays under `-n 4` and counts the blob files. This extends it: the workers meet at a
barrier so their saves (and blob writes) really overlap, half the calls stream, and then it
checks what a user relies on: every cassette loads and restores the exact bundle, the one
blob's content digest is verified, nothing half-written is left, replay answers exactly what
recording answered, and replaying writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.bundles import digest_b64
from harness.docs_examples import inline_bundle
from harness.recording.blobs import blob_filename, zip_digest
from harness.recording.cassette_io import read_cassette
from tests.hardening._runs import OFFLINE, RECORD

WORKERS = 4
TESTS = 8

HEADER = """
import json, os, time
from pathlib import Path
import pytest
from harness.docs_examples import MODEL, dict_form, seed_examples

EXAMPLE = {e.name: e for e in seed_examples()}["mixed"]  # the inline bundle and a reference
SKILLS = [dict_form(s) for s in EXAMPLE.skills]
PHASE = os.environ["CONCURRENCY_PHASE"]

def barrier(name):
    # The first four tests (one per worker) wait for each other, so their saves overlap.
    folder = Path(f"barrier-{PHASE}")
    folder.mkdir(exist_ok=True)
    (folder / name).touch()
    deadline = time.monotonic() + 15
    while len(list(folder.iterdir())) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)

def keep(name, answer):
    out = Path(f"results-{PHASE}")
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(answer))

def call(client, i, stream):
    messages = EXAMPLE.messages + [{"role": "user", "content": f"call {i}"}]
    r = client.chat.completions.create(model=MODEL, messages=messages, extra_body={"skills": SKILLS}, stream=stream)
    if stream:
        return "".join(c.choices[0].delta.content or "" for c in r)
    return r.model_dump(mode="json")
"""

TEST = """
@pytest.mark.vcr
def test_{i}(openai_client):
    answer = call(openai_client, {i}, stream={stream})
    keep("test_{i}", answer)
    barrier("test_{i}")  # after the call: the cassette is saved right after this returns
"""


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def results(root: Path, phase: str) -> dict[str, object]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((root / f"results-{phase}").glob("*.json"))}


def test_parallel_recording_shares_one_verified_blob_and_replays_identically(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "".join(TEST.format(i=i, stream=i % 2 == 1) for i in range(TESTS))
    pytester.makepyfile(test_parallel=HEADER + body)
    cassettes = pytester.path / "cassettes"

    monkeypatch.setenv("CONCURRENCY_PHASE", "record")
    pytester.runpytest_subprocess("-n", str(WORKERS), *RECORD).assert_outcomes(passed=TESTS)

    recorded = tree(cassettes)
    assert not [name for name in recorded if name.endswith(".tmp")], "a half-written file was left"
    digest = digest_b64(inline_bundle())
    assert [name for name in recorded if name.startswith("_blobs/")] == [f"_blobs/{blob_filename(digest)}"]
    assert zip_digest(recorded[f"_blobs/{blob_filename(digest)}"]) == digest  # the content, verified
    paths = sorted(cassettes.glob("test_parallel/*.yaml"))
    assert len(paths) == TESTS
    for path in paths:
        (only,) = read_cassette(path).interactions
        skill = json.loads(only.request.body)["skills"][0]
        assert skill["source"]["data"] == inline_bundle()  # restored byte for byte from the blob

    monkeypatch.setenv("CONCURRENCY_PHASE", "replay")
    pytester.runpytest_subprocess("-n", str(WORKERS), *OFFLINE).assert_outcomes(passed=TESTS)

    assert tree(cassettes) == recorded  # replaying wrote nothing
    live, replayed = results(pytester.path, "record"), results(pytester.path, "replay")
    assert len(live) == TESTS
    assert replayed == live
