"""Four xdist workers recording at once into cassettes that share one bundle blob, then replaying.

tests/test_pytest_plugin.py::test_recording_under_xdist_shares_blobs_safely already records
and replays under `-n 4` and counts the blob files. This extends it: the four workers' writes
of the one blob are made to race for certain (each holds its written temp file at a barrier
until all four do, then all rename over the same path), half the calls stream, and then it
checks what a user relies on: every cassette loads and restores the exact bundle, the one
blob's content digest is verified, nothing half-written is left, replay answers exactly what
recording answered, and replaying writes nothing.

The barrier sits inside the harness's blob writer (wrapped by the scenario's conftest), since
that is the one step workers contend on: a barrier in the test body only lines up the calls,
and the saves after it may or may not overlap. Peers that never arrive fail the run with a
message naming who did; only a hang waits out its patience.
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

CONFTEST = """
import contextlib, json, os, time
from pathlib import Path

import harness.recording.blobs as blobs

PEERS = 4  # WORKERS
# Seconds; a worker starts and records in a few, so only a hang runs this out.
PATIENCE = float(os.environ.get("BARRIER_PATIENCE", "120"))

_write = blobs.atomic_writer


def barrier(name):
    folder = Path(f"barrier-{name}")
    folder.mkdir(exist_ok=True)
    (folder / os.environ["PYTEST_XDIST_WORKER"]).touch()
    deadline = time.monotonic() + PATIENCE
    while len(arrived := sorted(p.name for p in folder.iterdir())) < PEERS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"barrier {name!r}: only {arrived} of {PEERS} workers arrived in {PATIENCE:.0f} s")
        time.sleep(0.005)


@contextlib.contextmanager
def racing_writer(path):
    # Every worker writes its temp file, then waits here until all have: the renames race.
    entered = time.monotonic()
    with _write(path) as stream:
        yield stream
        barrier("blob")
    log = Path("blob-writes")
    log.mkdir(exist_ok=True)
    times = {"entered": entered, "done": time.monotonic()}
    (log / f"{os.environ['PYTEST_XDIST_WORKER']}.json").write_text(json.dumps(times))


blobs.atomic_writer = racing_writer
"""

HEADER = """
import json, os
from pathlib import Path
import pytest
from harness.docs_examples import MODEL, dict_form, seed_examples

EXAMPLE = {e.name: e for e in seed_examples()}["mixed"]  # the inline bundle and a reference
SKILLS = [dict_form(s) for s in EXAMPLE.skills]
PHASE = os.environ["CONCURRENCY_PHASE"]

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
"""


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def results(root: Path, phase: str) -> dict[str, object]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((root / f"results-{phase}").glob("*.json"))}


def test_parallel_recording_shares_one_verified_blob_and_replays_identically(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "".join(TEST.format(i=i, stream=i % 2 == 1) for i in range(TESTS))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_parallel=HEADER + body)
    cassettes = pytester.path / "cassettes"

    monkeypatch.setenv("CONCURRENCY_PHASE", "record")
    pytester.runpytest_subprocess("-n", str(WORKERS), *RECORD).assert_outcomes(passed=TESTS)

    writes = {p.stem: json.loads(p.read_text()) for p in (pytester.path / "blob-writes").glob("*.json")}
    assert sorted(writes) == [f"gw{n}" for n in range(WORKERS)]  # each worker found the blob absent
    # All four were writing the blob at one instant: every one entered before any finished.
    assert max(w["entered"] for w in writes.values()) < min(w["done"] for w in writes.values())

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


def test_the_barrier_fails_loudly_when_peers_never_come(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two workers for a barrier of four: it must raise, not wait forever or let the run pass.
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_parallel=HEADER + "".join(TEST.format(i=i, stream=False) for i in range(2)))
    monkeypatch.setenv("CONCURRENCY_PHASE", "record")
    monkeypatch.setenv("BARRIER_PATIENCE", "1")
    result = pytester.runpytest_subprocess("-n", "2", *RECORD)

    assert result.parseoutcomes() == {"passed": 2, "errors": 2}  # the calls pass, the saves fail
    raised = {line.removeprefix("E").strip() for line in result.outlines if line.startswith("E ")}
    assert raised == {"RuntimeError: barrier 'blob': only ['gw0', 'gw1'] of 4 workers arrived in 1 s"}
