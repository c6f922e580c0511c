"""The recording side of the plugin as users meet it: the safe rewrite, scope, and a good guest.

Driven through pytester: a VLM Run test records against the embedded server, then is
re-recorded with `--record-mode=rewrite` while failing, interrupted, or no longer calling;
another API's test on a loopback stand-in keeps pytest-recording's own behaviour.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

NO_CACHE = ["-p", "no:cacheprovider"]
OFFLINE = ["--record-mode=none", "--block-network", "--vlmrun-base-url", "http://127.0.0.1:9/v1", *NO_CACHE]

VLMRUN_TEST = """
import os
import pytest
from harness.examples import MODEL, dict_form, seed_examples

EXAMPLES = {{e.name: e for e in seed_examples()}}

def call(client, name):
    example = EXAMPLES[name]
    skills = [dict_form(s) for s in example.skills]
    return client.chat.completions.create(model=MODEL, messages=example.messages, extra_body={{"skills": skills}})

@pytest.mark.vcr
def test_two_calls(openai_client):
    assert call(openai_client, "single").choices[0].message.content
{second}
"""
SECOND_CALL = '    assert call(openai_client, "pinned").choices[0].message.content'
SECOND_FAILS = '    raise RuntimeError("the second call broke")'
SECOND_INTERRUPTED = "    raise KeyboardInterrupt"


def _cassette(pytester: pytest.Pytester) -> Path:
    return pytester.path / "cassettes" / "test_vlm" / "test_two_calls.yaml"


@pytest.fixture
def recorded(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_vlm=VLMRUN_TEST.format(second=SECOND_CALL))
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    path = _cassette(pytester)
    assert len(yaml.safe_load(path.read_text())["interactions"]) == 2
    return path


def test_a_failing_test_keeps_the_old_cassette_under_rewrite(pytester: pytest.Pytester, recorded: Path) -> None:
    before = recorded.read_bytes()
    pytester.makepyfile(test_vlm=VLMRUN_TEST.format(second=SECOND_FAILS))
    result = pytester.runpytest("--record-mode=rewrite", *NO_CACHE)
    result.assert_outcomes(failed=1)
    assert recorded.read_bytes() == before
    result.stdout.fnmatch_lines(
        [
            "*vlmrun cassettes kept under --record-mode=rewrite*",
            "*test_two_calls.yaml: kept the previous recording, the test did not pass under --record-mode=rewrite",
        ]
    )
    assert not list(recorded.parent.glob(".*.tmp"))


def test_an_interrupted_test_keeps_the_old_cassette_under_rewrite(pytester: pytest.Pytester, recorded: Path) -> None:
    before = recorded.read_bytes()
    pytester.makepyfile(test_vlm=VLMRUN_TEST.format(second=SECOND_INTERRUPTED))
    result = pytester.runpytest_subprocess("--record-mode=rewrite", *NO_CACHE)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert recorded.read_bytes() == before


def test_a_passing_test_replaces_the_cassette_under_rewrite(pytester: pytest.Pytester, recorded: Path) -> None:
    stamp = yaml.safe_load(recorded.read_text())["vlmrun_harness"]
    stamp["recorded_at"] = "2020-01-01T00:00:00Z"
    document = yaml.safe_load(recorded.read_text())
    document["vlmrun_harness"] = stamp
    document["interactions"] = document["interactions"][:1]  # as if recorded before the second call existed
    recorded.write_text(yaml.safe_dump(document, sort_keys=False))
    pytester.runpytest("--record-mode=rewrite", *NO_CACHE).assert_outcomes(passed=1)
    fresh = yaml.safe_load(recorded.read_text())
    assert len(fresh["interactions"]) == 2
    assert fresh["vlmrun_harness"]["recorded_at"] != "2020-01-01T00:00:00Z"
    pytester.runpytest(*OFFLINE).assert_outcomes(passed=1)


def test_a_test_that_no_longer_records_loses_its_cassette_under_rewrite(
    pytester: pytest.Pytester, recorded: Path
) -> None:
    pytester.makepyfile(
        test_vlm="import pytest\n\n@pytest.mark.vcr\ndef test_two_calls(openai_client):\n    assert openai_client\n"
    )
    pytester.runpytest("--record-mode=rewrite", *NO_CACHE).assert_outcomes(passed=1)
    assert not recorded.exists()  # pytest-recording's rewrite would have deleted it up front


# -- another API beside VLM Run -------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "client_secret": "cs_live_123"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


OTHER_TEST = """
import httpx
import pytest

@pytest.mark.vcr
def test_other():
    r = httpx.get("{url}/repos/acme/api")
    assert r.json()["client_secret"] == "cs_live_123"
    {tail}
"""


def test_another_apis_rewrite_deletes_up_front_as_pytest_recording_does(
    pytester: pytest.Pytester, other_api: str
) -> None:
    pytester.makepyfile(test_other=OTHER_TEST.format(url=other_api, tail="pass"))
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    path = pytester.path / "cassettes" / "test_other" / "test_other.yaml"
    text = path.read_text()
    assert "vlmrun_harness" not in text
    assert "cs_live_123" in text
    pytester.makepyfile(test_other=OTHER_TEST.format(url=other_api, tail='raise RuntimeError("boom")'))
    pytester.runpytest("--record-mode=rewrite", *NO_CACHE).assert_outcomes(failed=1)
    assert path.exists()  # vcrpy saved what it recorded (record_on_exception), after the delete
    assert yaml.safe_load(path.read_text())["interactions"][0]["request"]["uri"].endswith("/repos/acme/api")


def test_without_pytest_recording_the_plugin_still_loads(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    pytester.runpytest("-p", "no:recording", *NO_CACHE).assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:syrupy", *NO_CACHE).assert_outcomes(passed=1)


def test_vlmrun_snapshot_without_syrupy_is_a_one_line_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_snap="def test_snap(vlmrun_snapshot):\n    pass\n")
    result = pytester.runpytest("-p", "no:syrupy", *NO_CACHE)
    result.assert_outcomes(errors=1)
    errors = [line for line in result.stdout.lines if line.startswith("vlmrun_snapshot needs syrupy")]
    assert errors == [
        "vlmrun_snapshot needs syrupy, which is not installed or was disabled with -p no:syrupy: "
        "pip install 'vlmrun-skills-harness[snapshots]'"
    ]


def test_a_users_recording_configure_hook_wins(pytester: pytest.Pytester, other_api: str) -> None:
    pytester.makeconftest(
        """
def pytest_recording_configure(config, vcr):
    vcr.filter_headers = ["x-team-token"]
"""
    )
    pytester.makepyfile(
        test_other=f"""
import httpx
import pytest

@pytest.mark.vcr
def test_other():
    httpx.get("{other_api}/x", headers={{"x-team-token": "t0k3n", "x-kept": "yes"}})
"""
    )
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    text = (pytester.path / "cassettes" / "test_other" / "test_other.yaml").read_text()
    assert "t0k3n" not in text
    assert "x-kept" in text


def test_another_apis_miss_is_vcrpys_own_error(pytester: pytest.Pytester, other_api: str) -> None:
    pytester.makepyfile(test_other=OTHER_TEST.format(url=other_api, tail="pass"))
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    pytester.makepyfile(test_other=OTHER_TEST.format(url=other_api, tail='httpx.get("' + other_api + '/elsewhere")'))
    result = pytester.runpytest("--record-mode=none", *NO_CACHE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CannotOverwriteExistingCassetteException*"])
    assert "CassetteMiss" not in result.stdout.str()
